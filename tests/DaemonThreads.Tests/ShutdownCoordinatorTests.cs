using DaemonThreads.Internal;
using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>The hook logic of the exit sequence, on an isolated coordinator (never the process-wide one).</summary>
public class ShutdownCoordinatorTests
{
    private static ShutdownCoordinator Create() => new(new ThreadRegistry(), isProcessWide: false);

    [Fact]
    public void HasStarted_WhileTheRegistryLockIsHeld_AnswersWithoutWaitingForIt()
    {
        // Issue 11: every DaemonThreadPool.Submit reads it, so it is a volatile read, not the coordinator's lock (which
        // is the registry's).
        var registry = new ThreadRegistry();
        var coordinator = new ShutdownCoordinator(registry, isProcessWide: false);
        bool? seen = null;
        var reader = new Thread(() => seen = coordinator.HasStarted);

        lock (registry.SyncRoot)
        {
            reader.Start();
            reader.Join(TestTimeouts.Unexpected).Should().BeTrue("HasStarted does not take the lock this thread holds");
        }

        seen.Should().BeFalse();
        coordinator.Shutdown(ShutdownTrigger.Shutdown);
        coordinator.HasStarted.Should().BeTrue("the phase only moves forward");
    }

    [Fact]
    public void Progress_NotedOnceOrManyTimesBetweenTwoReads_MovesOnceAndNotWithoutANote()
    {
        // Issue 11: a pool item notes progress with a read and at most one write; the exit's quiet period compares reads.
        var registry = new ThreadRegistry();
        long start = registry.Progress;

        long unchanged = registry.Progress;
        registry.NoteProgress();
        long afterOne = registry.Progress;
        registry.NoteProgress();
        registry.NoteProgress();
        registry.NoteProgress();
        long afterMany = registry.Progress;
        long afterNone = registry.Progress;

        unchanged.Should().Be(start, "nothing was noted");
        afterOne.Should().BeGreaterThan(unchanged, "one item ended");
        afterMany.Should().BeGreaterThan(afterOne, "items ended since the last read");
        afterNone.Should().Be(afterMany, "nothing was noted since the last read");
    }

    [Fact]
    public void Progress_NotedFromManyThreadsWhileRead_EveryNoteIsSeenByALaterRead()
    {
        // The race between NoteProgress's read of the flag and Progress's exchange, by bounded repetition.
        var registry = new ThreadRegistry();
        for (int round = 0; round < 2000; round++)
        {
            long before = registry.Progress;
            using var noted = new Barrier(3);
            var noters = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
            {
                registry.NoteProgress();
                noted.SignalAndWait(TestTimeouts.Unexpected);
            })).ToList();
            noters.ForEach(t => t.Start());
            long during = registry.Progress; // races the notes
            noted.SignalAndWait(TestTimeouts.Unexpected).Should().BeTrue();
            noters.ForEach(t => t.Join(TestTimeouts.Unexpected).Should().BeTrue());

            long after = registry.Progress;

            after.Should().BeGreaterThan(before, "two items ended after the first read (round {0})", round);
            after.Should().BeGreaterThanOrEqualTo(during);
        }
    }

    [Fact]
    public void Shutdown_RunsBeforeJoinThenAtExitHooks_NewestFirst()
    {
        // CPython B8 #87 test_atexit.GeneralTest.test_order.
        ShutdownCoordinator coordinator = Create();
        var calls = new List<string>();
        coordinator.RegisterAtExit(() => calls.Add("atexit 1"));
        coordinator.RegisterAtExit(() => calls.Add("atexit 2"));
        coordinator.RegisterBeforeJoin(() => calls.Add("before 1"));
        coordinator.RegisterBeforeJoin(() => calls.Add("before 2"));

        ShutdownReport report = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        calls.Should().Equal(["before 2", "before 1", "atexit 2", "atexit 1"]);
        report.IsComplete.Should().BeTrue();
        report.Trigger.Should().Be(ShutdownTrigger.Shutdown);
        report.HookErrors.Should().BeEmpty();
    }

    [Fact]
    public void Shutdown_HooksThatThrow_AreCollectedInHookErrorsAndTheOthersRun()
    {
        // CPython B8 #88 test_raise / test_exit: each failure is reported, the run goes on.
        ShutdownCoordinator coordinator = Create();
        var calls = new List<string>();
        var first = new InvalidOperationException("at-exit");
        var second = new ThreadExitException("before-join");
        coordinator.RegisterAtExit(() => calls.Add("atexit ok"));
        coordinator.RegisterAtExit(() => throw first);
        coordinator.RegisterBeforeJoin(() => calls.Add("before ok"));
        coordinator.RegisterBeforeJoin(() => throw second);

        ShutdownReport report = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        calls.Should().Equal(["before ok", "atexit ok"]);
        report.HookErrors.Should().Equal([second, first], "failures are collected in the order they happened");
    }

    [Fact]
    public void Shutdown_ShuttingDownCallbacksThatThrow_AreCollectedInHookErrorsAndTheSequenceGoesOn()
    {
        ShutdownCoordinator coordinator = Create();
        var calls = new List<string>();
        var first = new InvalidOperationException("token callback 1");
        var second = new InvalidOperationException("token callback 2");
        coordinator.ShuttingDown.Register(() => throw first);
        coordinator.ShuttingDown.Register(() => calls.Add("token ok"));
        coordinator.ShuttingDown.Register(() => throw second);
        coordinator.RegisterBeforeJoin(() => calls.Add("before ok"));
        coordinator.RegisterAtExit(() => calls.Add("atexit ok"));

        ShutdownReport report = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        calls.Should().Equal(["token ok", "before ok", "atexit ok"], "a failing callback stops neither the other callbacks nor the hooks");
        report.HookErrors.Should().BeEquivalentTo([first, second], "every callback failure is reported");
        report.IsComplete.Should().BeTrue();
    }

    [Fact]
    public void Shutdown_CalledTwice_RunsHooksOnceAndReturnsTheSameReport()
    {
        // CPython B6 #76 AtexitTests.test_atexit_called_once.
        ShutdownCoordinator coordinator = Create();
        int runs = 0;
        coordinator.RegisterBeforeJoin(() => runs++);
        coordinator.RegisterAtExit(() => runs++);

        ShutdownReport first = coordinator.Shutdown(ShutdownTrigger.Shutdown);
        ShutdownReport second = coordinator.Shutdown(ShutdownTrigger.Exit);

        runs.Should().Be(2, "each hook runs once");
        second.Should().BeSameAs(first);
        second.Trigger.Should().Be(ShutdownTrigger.Shutdown, "the first path's report is shared");
    }

    [Fact]
    public void Shutdown_FromInsideAHook_ReturnsAProvisionalReport()
    {
        ShutdownCoordinator coordinator = Create();
        ShutdownReport? inner = null;
        coordinator.RegisterAtExit(() => inner = coordinator.Shutdown(ShutdownTrigger.Shutdown));

        ShutdownReport outer = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        inner.Should().NotBeNull();
        inner!.IsComplete.Should().BeFalse("the sequence is still running on this very thread");
        outer.IsComplete.Should().BeTrue();
    }

    [Fact]
    public void RegisterBeforeJoin_AfterShutdownBegan_ThrowsInvalidOperationException()
    {
        // CPython B6 #77 AtexitTests.test_atexit_after_shutdown.
        ShutdownCoordinator coordinator = Create();
        Exception? fromHook = null;
        coordinator.RegisterBeforeJoin(() => fromHook = Record(() => coordinator.RegisterBeforeJoin(() => { })));

        _ = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        fromHook.Should().BeOfType<InvalidOperationException>().Which.Message.Should().StartWith("can't register atexit after shutdown");
        FluentActions.Invoking(() => coordinator.RegisterBeforeJoin(() => { })).Should().Throw<InvalidOperationException>()
            .WithMessage("can't register atexit after shutdown*");
    }

    [Fact]
    public void RegisterAtExit_DuringBeforeJoinHooks_IsAcceptedAndRuns()
    {
        ShutdownCoordinator coordinator = Create();
        bool ran = false;
        coordinator.RegisterBeforeJoin(() => coordinator.RegisterAtExit(() => ran = true));

        _ = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        ran.Should().BeTrue("the at-exit phase had not begun, so the hook would still run");
    }

    [Fact]
    public void RegisterAtExit_FromAnAtExitHook_ThrowsAndTheLateHookNeverRuns()
    {
        // CPython B9 #7: a callback registered during the run never runs; we refuse it instead of dropping it.
        ShutdownCoordinator coordinator = Create();
        bool lateRan = false;
        coordinator.RegisterAtExit(() => coordinator.RegisterAtExit(() => lateRan = true));

        ShutdownReport report = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        lateRan.Should().BeFalse();
        report.HookErrors.Should().ContainSingle().Which.Should().BeOfType<InvalidOperationException>();
    }

    [Fact]
    public void UnregisterAtExit_RemovesEveryRegistration()
    {
        // CPython B8 #89 test_unregister: inc ×4 and dec, then unregister inc: result −1.
        ShutdownCoordinator coordinator = Create();
        int value = 0;
        Action inc = () => value++;
        Action dec = () => value--;
        for (int i = 0; i < 4; i++)
        {
            coordinator.RegisterAtExit(inc);
        }

        coordinator.RegisterAtExit(dec);

        coordinator.UnregisterAtExit(inc).Should().BeTrue();
        coordinator.UnregisterAtExit(inc).Should().BeFalse("nothing is left to remove");
        _ = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        value.Should().Be(-1);
    }

    [Fact]
    public void UnregisterAtExit_BoundMethod_ComparesByMethodAndTarget()
    {
        // CPython B8 #89 test_bound_methods.
        ShutdownCoordinator coordinator = Create();
        var counter = new Counter();
        coordinator.RegisterAtExit(counter.Increment);

        coordinator.UnregisterAtExit(new Counter().Increment).Should().BeFalse("another target is another hook");
        coordinator.UnregisterAtExit(counter.Increment).Should().BeTrue("a new delegate for the same method and target is equal");
        _ = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        counter.Value.Should().Be(0);
    }

    [Fact]
    public void AtExitHook_UnregisteringItselfThenThrowing_IsStillReported()
    {
        // CPython B8 #89 test_atexit_with_unregistered_function.
        ShutdownCoordinator coordinator = Create();
        var failure = new InvalidOperationException("after unregistering");
        Action? hook = null;
        hook = () =>
        {
            coordinator.UnregisterAtExit(hook!);
            throw failure;
        };
        coordinator.RegisterAtExit(hook);

        ShutdownReport report = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        report.HookErrors.Should().Equal([failure]);
    }

    [Fact]
    public void Shutdown_WithManyHooks_RunsEveryOne()
    {
        // CPython B8 #89 test_stress: 128 callbacks.
        ShutdownCoordinator coordinator = Create();
        int runs = 0;
        for (int i = 0; i < 128; i++)
        {
            coordinator.RegisterAtExit(() => runs++);
        }

        _ = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        runs.Should().Be(128);
    }

    [Fact]
    public void Shutdown_CancelsShuttingDownBeforeTheFirstHook()
    {
        ShutdownCoordinator coordinator = Create();
        bool cancelledInHook = false;
        coordinator.RegisterBeforeJoin(() => cancelledInHook = coordinator.ShuttingDown.IsCancellationRequested);

        _ = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        cancelledInHook.Should().BeTrue("SPEC §3.2 step 1 comes before step 2");
    }

    [Fact]
    public async Task Shutdown_ConcurrentCalls_RunHooksOnceAndShareTheReport()
    {
        ShutdownCoordinator coordinator = Create();
        int runs = 0;
        using var inHook = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        coordinator.RegisterAtExit(() =>
        {
            Interlocked.Increment(ref runs);
            inHook.Set();
            release.Wait(TestTimeouts.Unexpected);
        });
        ShutdownReport? first = null;
        var runner = new Thread(() => first = coordinator.Shutdown(ShutdownTrigger.Shutdown));
        runner.Start();
        inHook.Wait(TestTimeouts.Unexpected).Should().BeTrue("the runner reaches the hook");
        Task<ShutdownReport> second = Task.Run(() => coordinator.Shutdown(ShutdownTrigger.Exit));

        (await Task.WhenAny(second, Task.Delay(TestTimeouts.Expected))).Should().NotBeSameAs(second, "a second caller waits for the running sequence");
        release.Set();
        runner.Join(TestTimeouts.Unexpected).Should().BeTrue();

        (await second.WaitAsync(TestTimeouts.Unexpected)).Should().BeSameAs(first);
        runs.Should().Be(1);
    }

    [Fact]
    public void Shutdown_WithNothingToRun_EndsDoneWithAnEmptyReportAndEverythingAfterItRefused()
    {
        // Issue 11 wave 4: an exit with nothing registered and nothing live passes through every step in one lock section.
        // What it leaves must be what the full sequence leaves.
        var registry = new ThreadRegistry();
        var coordinator = new ShutdownCoordinator(registry, isProcessWide: false);

        ShutdownReport report = coordinator.Shutdown(ShutdownTrigger.RunMain);

        report.IsComplete.Should().BeTrue();
        report.Trigger.Should().Be(ShutdownTrigger.RunMain);
        report.Joined.Should().BeEmpty();
        report.TimedOut.Should().BeEmpty();
        report.Abandoned.Should().BeEmpty();
        report.HookErrors.Should().BeEmpty();
        report.Unfinished.Should().BeEmpty();
        report.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero);
        coordinator.CurrentPhase.Should().Be(ShutdownCoordinator.Phase.Done);
        coordinator.IsDone.Should().BeTrue();
        coordinator.WaitDone(TimeSpan.Zero).Should().BeTrue();
        coordinator.PastPointOfNoReturn.Should().BeTrue("a non-daemon start or a Track after the exit is refused");
        registry.Track(new TaskCompletionSource().Task, "late").Should().BeFalse("the point of no return has passed");
        coordinator.ShuttingDown.IsCancellationRequested.Should().BeTrue("the token is cancelled once the sequence began, even for a first ask after it");
        bool ranAtOnce = false;
        coordinator.ShuttingDown.Register(() => ranAtOnce = true);
        ranAtOnce.Should().BeTrue("a callback on a cancelled token runs at once");
        Record(() => coordinator.RegisterAtExit(() => { })).Should().BeOfType<InvalidOperationException>();
        Record(() => coordinator.RegisterBeforeJoin(() => { })).Should().BeOfType<InvalidOperationException>();
        coordinator.AddParticipant(new NullParticipant()).Should().BeFalse("a pool created after the exit acts as shut down");
        coordinator.Shutdown(ShutdownTrigger.Shutdown).Should().BeSameAs(report, "later callers share the one report");
    }

    [Fact]
    public void Shutdown_WithNothingToRun_AllocatesOnlyItsReport()
    {
        // Issue 11 wave 4, the fact behind the short program's exit: no list, no token source, no tuple, no step list.
        // Before: 1-2 KB (lists of hooks, participants, threads and tasks, the point of no return's four lists, a
        // cancelled CancellationTokenSource). A first run warms up what the process pays once.
        new ShutdownCoordinator(new ThreadRegistry(), isProcessWide: false).Shutdown(ShutdownTrigger.RunMain);
        var coordinator = new ShutdownCoordinator(new ThreadRegistry(), isProcessWide: false);

        long before = GC.GetAllocatedBytesForCurrentThread();
        coordinator.Shutdown(ShutdownTrigger.RunMain);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().BeLessThanOrEqualTo(128, "the report (about 80 bytes) is all an exit with nothing to run needs");
    }

    [Fact]
    public void Shutdown_WithAHookOrATokenHolder_RunsTheFullSequence()
    {
        // The empty path is taken only when every step would find nothing: a hook, a token someone holds, a participant.
        var hooked = Create();
        bool hookRan = false;
        hooked.RegisterAtExit(() => hookRan = true);
        hooked.Shutdown(ShutdownTrigger.RunMain);
        hookRan.Should().BeTrue();

        var watched = Create();
        CancellationToken token = watched.ShuttingDown;
        bool callbackRan = false;
        token.Register(() => callbackRan = true);
        watched.Shutdown(ShutdownTrigger.RunMain);
        callbackRan.Should().BeTrue("a token handed out before the exit is cancelled by the sequence");
        token.IsCancellationRequested.Should().BeTrue();

        var pooled = Create();
        var participant = new NullParticipant();
        pooled.AddParticipant(participant).Should().BeTrue();
        pooled.Shutdown(ShutdownTrigger.RunMain);
        participant.BeganShutdown.Should().BeTrue();
    }

    [Fact]
    public void Shutdown_WithNothingToRunRacingATrack_NeverDropsATaskWhoseTrackSucceeded()
    {
        // Track is lock-free: a task tracked while the empty exit passes the point of no return is either refused, or
        // seen after the flag's fence, and then the full sequence runs and joins it (here it never ends, so it is
        // reported as unfinished once the join's bound runs out). Bounded repetition of the race.
        for (int round = 0; round < 300; round++)
        {
            var registry = new ThreadRegistry();
            var coordinator = new ShutdownCoordinator(registry, isProcessWide: false) { JoinTimeout = TimeSpan.FromMilliseconds(1) };
            Task never = new TaskCompletionSource().Task;
            bool tracked = false;
            using var go = new Barrier(2);
            var tracker = new Thread(() =>
            {
                go.SignalAndWait(TestTimeouts.Unexpected);
                tracked = registry.Track(never, "raced");
            });
            tracker.Start();
            go.SignalAndWait(TestTimeouts.Unexpected);
            ShutdownReport report = coordinator.Shutdown(ShutdownTrigger.RunMain);
            tracker.Join(TestTimeouts.Unexpected).Should().BeTrue();

            if (tracked)
            {
                report.Unfinished.Select(w => w.Name).Should().Contain("raced", "a Track that succeeded is waited for and reported (round {0})", round);
            }
        }
    }

    [Fact]
    public void FormatForStandardError_MoreThanTwentyThreads_NamesTwentyAndCountsTheRest()
    {
        // The line shows the first 20 names and "and N more"; only those 20 names are read (issue 11 wave 4: an exit
        // that abandons 5,000 daemon threads copied all 5,000 names to print 20).
        var daemons = Enumerable.Range(0, 25).Select(i => new DaemonThread(() => { }, name: "d" + i, isDaemon: true)).ToList();
        var stuck = Enumerable.Range(0, 21).Select(i => new DaemonThread(() => { }, name: "n" + i, isDaemon: false)).ToList();
        var tasks = new List<UnfinishedWork> { new(ExitWorkKind.PoolItems, "pool", count: 3) };
        var report = new ShutdownReport(ShutdownTrigger.RunMain, [], stuck, daemons, [], TimeSpan.Zero, isComplete: true,
            [.. stuck.Select(t => new UnfinishedWork(ExitWorkKind.Thread, t.Name, thread: t)), .. tasks, .. daemons.Select(t => new UnfinishedWork(ExitWorkKind.DaemonThread, t.Name, thread: t))]);

        string[] lines = ShutdownCoordinator.FormatForStandardError(report).Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);

        lines.Should().Equal(
            "DaemonThreads: shutdown stopped waiting for 21 non-daemon thread(s), abandoned: " + string.Join(", ", stuck.Take(20).Select(t => t.Name)) + " and 1 more",
            "DaemonThreads: shutdown cancelled 3 queued pool item(s) that never started: pool (3)",
            "DaemonThreads: shutdown abandoned 25 daemon thread(s): " + string.Join(", ", daemons.Take(20).Select(t => t.Name)) + " and 5 more");
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private sealed class NullParticipant : IExitParticipant
    {
        public bool BeganShutdown { get; private set; }

        public void BeginShutdown() => BeganShutdown = true;

        public void AtPointOfNoReturn(List<UnfinishedWork> unfinished)
        {
        }
    }

    private sealed class Counter
    {
        public int Value { get; private set; }

        public void Increment() => Value++;
    }
}
