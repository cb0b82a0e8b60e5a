using System.Runtime.CompilerServices;
using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>SPEC 2.2, 2.6 and §1: Current, Main, Enumerate, dummies, ids and ToString.</summary>
public class DaemonThreadIdentityTests
{
    // Ports CPython test_threading.ThreadTests.test_main_thread (B1 #21); the main-thread half runs in a child process.
    [Fact]
    public void Main_IsNamedMainThreadNonDaemonAliveAndDiffersFromWorkers()
    {
        DaemonThread main = DaemonThread.Main;
        (DaemonThread current, int? id, bool isMain) = ThreadTestHelpers.OnDaemonThread(true,
            () => (DaemonThread.Current, DaemonThread.Current.ManagedThreadId, ReferenceEquals(DaemonThread.Current, DaemonThread.Main)));

        main.Name.Should().Be("MainThread");
        main.IsDaemon.Should().BeFalse();
        main.IsAlive.Should().BeTrue();
        main.ManagedThreadId.Should().Be(1, "the runtime runs Main on the first managed thread");
        main.Should().BeSameAs(DaemonThread.Main);
        isMain.Should().BeFalse();
        id.Should().NotBe(main.ManagedThreadId, "a worker's ident differs from main's");
        current.Name.Should().NotBe("MainThread");
    }

    [Fact]
    public void Current_InsideDaemonThread_IsThatThread()
    {
        DaemonThread? seen = null;
        int? seenId = null;
        var thread = new DaemonThread(
            () =>
            {
                seen = DaemonThread.Current;
                seenId = Environment.CurrentManagedThreadId;
            },
            isDaemon: true);

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        seen.Should().BeSameAs(thread);
        thread.ManagedThreadId.Should().Be(seenId, "ManagedThreadId is the id of the OS thread that ran the body");
    }

    [Fact]
    public void Current_OnMainProgramPoolThread_IsMain()
    {
        DaemonThread current = ThreadTestHelpers.OnMainProgram(() => DaemonThread.Current);

        current.Should().BeSameAs(DaemonThread.Main, "pool code with no owner belongs to the main program");
    }

    // A pool thread caches only "I am a pool thread" (benchmarks/README.md, Current): the owner is read from the
    // ExecutionContext on every call, so one pool thread serving different owners in turn answers each correctly.
    [Fact]
    public void Current_OnOnePoolThreadAcrossOwners_FollowsTheOwnerOfEachPieceOfWork()
    {
        ExecutionContext? ownedByThread = null;
        var thread = new DaemonThread(() => ownedByThread = ExecutionContext.Capture(), isDaemon: true);
        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        var seen = new List<DaemonThread>();
        using var done = new ManualResetEventSlim();

        // Unsafe: no context flows in, so the work item has no owner.
        ThreadPool.UnsafeQueueUserWorkItem(
            _ =>
            {
                seen.Add(DaemonThread.Current);
                ExecutionContext.Run(ownedByThread!, _ => seen.Add(DaemonThread.Current), null);
                seen.Add(DaemonThread.Current);
                ExecutionContext.Run(ownedByThread!, _ => seen.Add(DaemonThread.Current), null);
                done.Set();
            },
            null);
        done.Wait(TestTimeouts.Unexpected).Should().BeTrue("the work item always signals");

        seen.Should().Equal(
            [DaemonThread.Main, thread, DaemonThread.Main, thread],
            "each call reads the owner of the work it runs in, not what an earlier call on the same OS thread saw");
    }

    // Bootstrap caches nothing (it allocates nothing, see Start_NewThread_AllocatesNoMoreBeforeTheBody...): the first
    // Current in a body finds the thread through the owner that flowed in, or, when the body runs under another
    // context, through the registry. Either way never as a dummy.
    [Fact]
    public void Current_FirstAskedUnderAnotherExecutionContext_IsStillTheThreadNotADummy()
    {
        ExecutionContext foreign = ThreadTestHelpers.OnMainProgram(() => ExecutionContext.Capture()!);
        DaemonThread? seen = null, seenAfter = null;
        var thread = new DaemonThread(
            () =>
            {
                ExecutionContext.Run(foreign, _ => seen = DaemonThread.Current, null);
                seenAfter = DaemonThread.Current;
            },
            isDaemon: true);

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        seen.Should().BeSameAs(thread, "the OS thread is the DaemonThread's whatever context its code runs under");
        seenAfter.Should().BeSameAs(thread);
    }

    [Fact]
    public void Current_ThreadStartedWithFlowSuppressed_IsThatThreadAndOwnsItsPoolWork()
    {
        DaemonThread? seen = null, seenOnPool = null;
        var thread = new DaemonThread(
            () =>
            {
                seen = DaemonThread.Current;
                seenOnPool = Task.Run(() => DaemonThread.Current).Result;
            },
            isDaemon: true);

        using (ExecutionContext.SuppressFlow())
        {
            thread.Start();
        }

        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        seen.Should().BeSameAs(thread);
        seenOnPool.Should().BeSameAs(thread, "pool work the body starts belongs to it even when nothing flowed in at start");
    }

    // benchmarks/README.md: a thread that allocates at all takes an 8 KiB allocation context from the GC, which was all of
    // the RSS per live thread over a bare raw thread. Started where nothing flows (the default context, as on a plain
    // program's main thread), the owner's context is placed on the Thread object, and the new thread allocates nothing
    // before the body: exactly what a bare raw Thread allocates.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Start_FromDefaultContext_NewThreadAllocatesNothingBeforeTheBody(bool isDaemon)
    {
        // The first starts of a process take the public paths (DaemonThread.WarmStart), which allocate on the new thread.
        ThreadTestHelpers.WarmUpStarts();

        // Once per process, the first thread to read its OS id resolves the native library (allocating): not per thread.
        var first = new DaemonThread(() => { }, isDaemon: isDaemon);
        first.Start();
        first.Join(TestTimeouts.Unexpected).Should().BeTrue();
        long daemonThreadBytes = -1, rawThreadBytes = -1;
        DaemonThread? seen = null, seenOnPool = null;
        var thread = new DaemonThread(() => daemonThreadBytes = GC.GetAllocatedBytesForCurrentThread(), isDaemon: isDaemon);
        var owned = new DaemonThread(
            () =>
            {
                seen = DaemonThread.Current;
                seenOnPool = Task.Run(() => DaemonThread.Current).Result;
            },
            isDaemon: isDaemon);
        var raw = new Thread(() => rawThreadBytes = GC.GetAllocatedBytesForCurrentThread()) { IsBackground = isDaemon };

        ThreadTestHelpers.OnMainProgram(() =>
        {
            ExecutionContext.Capture().Should().NotBeNull("UnsafeQueueUserWorkItem runs the function under the default context, flow not suppressed");
            thread.Start();
            owned.Start();
            raw.Start();
            return 0;
        });
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        owned.Join(TestTimeouts.Unexpected).Should().BeTrue();
        raw.Join(TestTimeouts.Unexpected).Should().BeTrue();

        rawThreadBytes.Should().Be(0, "a bare raw thread started under the default context allocates nothing before its body");
        daemonThreadBytes.Should().Be(0, "the DaemonThread's start and bootstrap allocate nothing on the new thread");
        seen.Should().BeSameAs(owned, "the owner reached the new thread in the context placed on it");
        seenOnPool.Should().BeSameAs(owned, "pool code the body starts belongs to it (SPEC 2.2)");
    }

    // issue 11: a start's allocation decides where collections land among many starts (the 5,000-thread exit). Measured
    // on the starter once warm, under the default context: the DaemonThread object, then Start (the Thread, its context
    // with the owner, the name). 208 B over raw's ctor + Start on .NET 10; a closure made on every start (a lambda in
    // StartThread capturing its parameters, allocated where the method begins even when unused) made it 240.
    [Fact]
    public void Start_OnceWarm_AllocatesOnTheStarterAtMost216BytesMoreThanARawThread()
    {
        ThreadTestHelpers.WarmUpStarts();
        var (daemonThreadBytes, rawThreadBytes) = ThreadTestHelpers.OnMainProgram(() =>
        {
            // The least of three rounds each: the first raw start on a thread allocates 64 B more than the next ones.
            long daemonThread = long.MaxValue, rawThread = long.MaxValue;
            for (int round = 0; round < 3; round++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                var thread = new DaemonThread(static () => { }, name: "worker", isDaemon: true);
                thread.Start();
                daemonThread = Math.Min(daemonThread, GC.GetAllocatedBytesForCurrentThread() - before);
                thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

                before = GC.GetAllocatedBytesForCurrentThread();
                var raw = new Thread(static () => { }) { IsBackground = true };
                raw.Start();
                rawThread = Math.Min(rawThread, GC.GetAllocatedBytesForCurrentThread() - before);
                raw.Join(TestTimeouts.Unexpected).Should().BeTrue();
            }

            return (daemonThread, rawThread);
        });

        rawThreadBytes.Should().BePositive("a raw Thread object is allocated on the starter");
        (daemonThreadBytes - rawThreadBytes).Should().BeLessThanOrEqualTo(216, $"a warm start allocated {daemonThreadBytes} B on the starter against raw's {rawThreadBytes} B");
    }

    // Started where a context flows, the new thread runs under it (with the owner added), as a raw Thread started there
    // does: the runtime's own allocation for installing a flowed context is all it allocates.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Start_UnderAFlowedContext_AllocatesNoMoreBeforeTheBodyThanARawThreadStartedThere(bool isDaemon)
    {
        var first = new DaemonThread(() => { }, isDaemon: isDaemon);
        first.Start();
        first.Join(TestTimeouts.Unexpected).Should().BeTrue();
        long daemonThreadBytes = -1, rawThreadBytes = -1;
        object? flowed = null;
        var someContext = new AsyncLocal<object?>();
        var thread = new DaemonThread(
            () =>
            {
                daemonThreadBytes = GC.GetAllocatedBytesForCurrentThread();
                flowed = someContext.Value;
            },
            isDaemon: isDaemon);
        var raw = new Thread(() => rawThreadBytes = GC.GetAllocatedBytesForCurrentThread()) { IsBackground = isDaemon };

        ThreadTestHelpers.OnMainProgram(() =>
        {
            someContext.Value = "flows into both threads";
            thread.Start();
            raw.Start();
            return 0;
        });
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        raw.Join(TestTimeouts.Unexpected).Should().BeTrue();

        flowed.Should().Be("flows into both threads", "the starter's context flows into the body, as into a raw thread");
        rawThreadBytes.Should().BePositive("the runtime allocates a thread-static block for a thread that runs under a flowed context");
        daemonThreadBytes.Should().Be(rawThreadBytes, "the DaemonThread's own bootstrap allocates nothing on the new thread");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Current_InTaskRunFromDaemonThreadBody_IsThatThreadAndChildrenInheritItsFlag(bool isDaemon)
    {
        DaemonThread? seen = null, seenAfterAwait = null;
        bool? childDaemon = null, childAfterAwaitDaemon = null, onPool = null;
        var thread = new DaemonThread(
            () => Task.Run(async () =>
            {
                onPool = Thread.CurrentThread.IsThreadPoolThread;
                seen = DaemonThread.Current;
                childDaemon = new DaemonThread(() => { }).IsDaemon;
                await Task.Yield();
                seenAfterAwait = DaemonThread.Current;
                childAfterAwaitDaemon = new DaemonThread(() => { }).IsDaemon;
            }).Wait(TestTimeouts.Unexpected),
            isDaemon: isDaemon);

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        onPool.Should().BeTrue();
        seen.Should().BeSameAs(thread, "pool code belongs to the logical thread that started it");
        seenAfterAwait.Should().BeSameAs(thread, "the owner flows through await");
        childDaemon.Should().Be(isDaemon);
        childAfterAwaitDaemon.Should().Be(isDaemon);
    }

    // Issue 9 C (SPEC 2.2): a LongRunning task runs on a dedicated thread that is not a pool thread; it belongs to the
    // logical owner that flowed to it, as pool code does, instead of becoming a daemon dummy.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Current_InLongRunningTaskFromDaemonThread_IsThatThreadAndChildrenInheritItsFlag(bool isDaemon)
    {
        DaemonThread? seen = null, seenAgain = null;
        bool? childDaemon = null, onPool = null, onOwnThread = null;
        var thread = new DaemonThread(
            () =>
            {
                Thread body = Thread.CurrentThread;
                Task.Factory.StartNew(
                    () =>
                    {
                        onPool = Thread.CurrentThread.IsThreadPoolThread;
                        onOwnThread = ReferenceEquals(Thread.CurrentThread, body);
                        seen = DaemonThread.Current;
                        seenAgain = DaemonThread.Current;
                        childDaemon = new DaemonThread(() => { }).IsDaemon;
                    },
                    CancellationToken.None,
                    TaskCreationOptions.LongRunning,
                    TaskScheduler.Default).Wait(TestTimeouts.Unexpected);
            },
            isDaemon: isDaemon);

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        onPool.Should().BeFalse("a LongRunning task gets a dedicated thread");
        onOwnThread.Should().BeFalse();
        seen.Should().BeSameAs(thread, "the task runs on behalf of the thread that started it");
        seenAgain.Should().BeSameAs(thread);
        childDaemon.Should().Be(isDaemon, "a thread the task creates inherits its owner's flag");
    }

    [Fact]
    public void Current_InLongRunningTaskFromTheMainProgram_IsMainAndChildrenAreNonDaemon()
    {
        (DaemonThread seen, bool childDaemon, bool onPool) = ThreadTestHelpers.OnMainProgram(() => Task.Factory.StartNew(
            () => (DaemonThread.Current, new DaemonThread(() => { }).IsDaemon, Thread.CurrentThread.IsThreadPoolThread),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Result);

        onPool.Should().BeFalse("a LongRunning task gets a dedicated thread");
        seen.Should().BeSameAs(DaemonThread.Main, "code with no owner counts as the main program");
        childDaemon.Should().BeFalse("threads the main program creates default to non-daemon");
    }

    // Issue 9 C, the other side: the LongRunning rule keys on a running task, so a raw thread is still a dummy even
    // though its starter's ExecutionContext (with the owner in it) flowed to it.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Current_RawThreadStartedFromDaemonThread_IsADaemonDummyNotTheStarter(bool isDaemon)
    {
        DaemonThread? seen = null;
        var thread = new DaemonThread(
            () =>
            {
                var raw = new Thread(() => seen = DaemonThread.Current);
                raw.Start();
                raw.Join(TestTimeouts.Unexpected).Should().BeTrue();
            },
            isDaemon: isDaemon);

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        seen.Should().NotBeSameAs(thread);
        seen!.IsDummy.Should().BeTrue("a raw thread is a foreign thread");
        seen.IsDaemon.Should().BeTrue();
        seen.Name.Should().StartWith("Dummy-");
    }

    // Issue 9 B: the exit may exempt from its join only a thread that is really blocked in the call; pool code that
    // runs on behalf of a thread W leaves W running, so the helper names W only on W's own OS thread.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StartedOnCurrentOsThread_OnTheThreadItselfIsItAndInItsPoolOrLongRunningCodeIsNull(bool askCurrentFirst)
    {
        DaemonThread? onThread = null, inPool = null, inPoolAfterAwait = null, inLongRunning = null, ownerInPool = null;
        var thread = new DaemonThread(
            () =>
            {
                if (askCurrentFirst)
                {
                    _ = DaemonThread.Current; // caches the thread in the thread-static
                }

                onThread = DaemonThread.StartedOnCurrentOsThread();
                Task.Run(async () =>
                {
                    ownerInPool = DaemonThread.Current;
                    inPool = DaemonThread.StartedOnCurrentOsThread();
                    await Task.Yield();
                    inPoolAfterAwait = DaemonThread.StartedOnCurrentOsThread();
                }).Wait(TestTimeouts.Unexpected);
                Task.Factory.StartNew(
                    () => inLongRunning = DaemonThread.StartedOnCurrentOsThread(),
                    CancellationToken.None,
                    TaskCreationOptions.LongRunning,
                    TaskScheduler.Default).Wait(TestTimeouts.Unexpected);
            },
            isDaemon: false);

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        onThread.Should().BeSameAs(thread, "its body runs on this OS thread");
        ownerInPool.Should().BeSameAs(thread, "the pool code belongs to the thread (Current is unchanged)");
        inPool.Should().BeNull("the thread keeps running while its pool code calls in");
        inPoolAfterAwait.Should().BeNull();
        inLongRunning.Should().BeNull("a LongRunning task has a thread of its own");
    }

    [Fact]
    public void StartedOnCurrentOsThread_OnMainProgramAndForeignThreads_IsNull()
    {
        DaemonThread? inMainProgram = ThreadTestHelpers.OnMainProgram(DaemonThread.StartedOnCurrentOsThread);
        DaemonThread? onRaw = ThreadTestHelpers.OnRawThread(DaemonThread.StartedOnCurrentOsThread);
        DaemonThread? onDummy = ThreadTestHelpers.OnRawThread(() =>
        {
            _ = DaemonThread.Current; // adopts the thread as a dummy first
            return DaemonThread.StartedOnCurrentOsThread();
        });

        inMainProgram.Should().BeNull();
        onRaw.Should().BeNull();
        onDummy.Should().BeNull("a dummy was not started by this library");
    }

    // Ports CPython test_threading.ThreadTests.test_ident_of_no_threading_threads (B1 #4) and test_foreign_thread (B1 #5)
    [Fact]
    public void Current_OnForeignThread_IsDaemonDummyListedWhileAlive()
    {
        using var release = new ManualResetEventSlim();
        using var adopted = new ManualResetEventSlim();
        DaemonThread? dummy = null;
        int rawId = 0;
        var raw = new Thread(() =>
        {
            rawId = Environment.CurrentManagedThreadId;
            dummy = DaemonThread.Current;
            adopted.Set();
            release.Wait(TestTimeouts.Unexpected);
        });
        raw.Start();
        adopted.Wait(TestTimeouts.Unexpected).Should().BeTrue();

        try
        {
            dummy!.Name.Should().MatchRegex("^Dummy-[0-9]+$");
            dummy.IsDaemon.Should().BeTrue();
            dummy.IsAlive.Should().BeTrue();
            dummy.ManagedThreadId.Should().Be(rawId, "the dummy's ident is the foreign thread's id");
            dummy.NativeThreadId.Should().NotBeNull();
            dummy.ToString().Should().MatchRegex(@"^<DaemonThread\(Dummy-[0-9]+, started daemon [0-9]+\)>$");
            DaemonThread.Enumerate().Should().Contain(dummy);
        }
        finally
        {
            release.Set();
            raw.Join(TestTimeouts.Unexpected).Should().BeTrue();
        }

        dummy.IsAlive.Should().BeFalse("the foreign thread has ended");
        DaemonThread.Enumerate().Should().NotContain(dummy, "a dummy leaves the list once its OS thread has ended");
    }

    [Fact]
    public void Current_OnSameForeignThreadTwice_ReturnsTheSameDummy()
    {
        (DaemonThread first, DaemonThread second) = ThreadTestHelpers.OnRawThread(() => (DaemonThread.Current, DaemonThread.Current));

        second.Should().BeSameAs(first);
    }

    // Ports CPython test_threading.ThreadTests.test_various_ops (+ _small_stack, _large_stack) (B1 #3)
    [Theory]
    [InlineData(0)]
    [InlineData(256 * 1024)]
    [InlineData(16 * 1024 * 1024)]
    public void VariousOps_TenThreadsSharingASemaphore_HaveDistinctIdsAndPythonReprs(int maxStackSize)
    {
        using var semaphore = new SemaphoreSlim(3, 3);
        using var release = new ManualResetEventSlim();
        int running = 0, maxRunning = 0;
        var threads = Enumerable.Range(0, 10).Select(i => new SemaphoreThread(semaphore, release, () =>
        {
            int now = Interlocked.Increment(ref running);
            InterlockedMax(ref maxRunning, now);
            Interlocked.Decrement(ref running);
        }, maxStackSize)).ToList();

        foreach (SemaphoreThread t in threads)
        {
            t.ManagedThreadId.Should().BeNull();
            t.NativeThreadId.Should().BeNull();
            t.ToString().Should().MatchRegex(@"^<SemaphoreThread\(.*, initial daemon\)>$");
        }

        threads.ForEach(t => t.Start());
        var nativeIds = threads.Select(t => t.NativeThreadId).Append(DaemonThread.Main.NativeThreadId).ToList();
        release.Set();
        threads.ForEach(t => t.Join(TestTimeouts.Unexpected).Should().BeTrue());

        nativeIds.Should().OnlyHaveUniqueItems().And.NotContainNulls("native ids are set at start, one per thread, main included");
        maxRunning.Should().BeLessThanOrEqualTo(3);
        foreach (SemaphoreThread t in threads)
        {
            t.IsAlive.Should().BeFalse();
            t.ManagedThreadId.Should().NotBeNull().And.NotBe(0, "the ident is kept after the thread ended");
            t.NativeThreadId.Should().NotBeNull();
            t.ToString().Should().MatchRegex(@"^<SemaphoreThread\(.*, stopped daemon -?\d+\)>$");
        }
    }

    // Ports CPython test_threading.ThreadTests.test_repr_daemon (B1 #16)
    [Fact]
    public void ToString_DaemonFlag_AppearsWhenSet()
    {
        var thread = new DaemonThread(() => { }, name: "worker", isDaemon: false);
        string before = thread.ToString();

        thread.IsDaemon = true;

        before.Should().Be("<DaemonThread(worker, initial)>").And.NotContain("daemon)");
        thread.ToString().Should().Be("<DaemonThread(worker, initial daemon)>");
    }

    [Fact]
    public void ToString_Running_IsStartedWithId()
    {
        using var release = new ManualResetEventSlim();
        var thread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), name: "worker", isDaemon: true);
        thread.Start();

        try
        {
            thread.ToString().Should().Be($"<DaemonThread(worker, started daemon {thread.ManagedThreadId})>");
        }
        finally
        {
            release.Set();
            thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        }

        thread.ToString().Should().Be($"<DaemonThread(worker, stopped daemon {thread.ManagedThreadId})>");
    }

    [Fact]
    public void ToString_Subclass_ShowsItsTypeName()
    {
        using var semaphore = new SemaphoreSlim(1, 1);
        using var release = new ManualResetEventSlim(true);
        var thread = new SemaphoreThread(semaphore, release, () => { }, 0) { Name = "sub" };

        thread.ToString().Should().Be("<SemaphoreThread(sub, initial daemon)>");
    }

    [Fact]
    public void ToString_Main_IsStartedNonDaemonWithIdOne()
    {
        DaemonThread.Main.ToString().Should().Be("<DaemonThread(MainThread, started 1)>");
    }

    // Ports CPython test_threading.ThreadTests.test_repr_stopped (B1 #26)
    [Fact]
    public void ToString_BodyReturnedNeverJoined_SaysStopped()
    {
        using var ended = new ManualResetEventSlim();
        Thread? raw = null;
        var thread = new DaemonThread(
            () =>
            {
                raw = Thread.CurrentThread;
                ended.Set();
            },
            name: "done",
            isDaemon: false);
        thread.Start();

        ended.Wait(TestTimeouts.Unexpected).Should().BeTrue();
        // The runtime's own join on the OS thread, not DaemonThread.Join: nothing in the library is told it ended.
        raw!.Join(TestTimeouts.Unexpected).Should().BeTrue();

        thread.ToString().Should().Be($"<DaemonThread(done, stopped {thread.ManagedThreadId})>");
        thread.IsAlive.Should().BeFalse();
        thread.Join(TimeSpan.Zero).Should().BeTrue();
    }

    [Fact]
    public void Ids_BeforeStartNullAfterStartSetAndKeptAfterExit()
    {
        var thread = new DaemonThread(() => { }, isDaemon: true);
        int? before = thread.ManagedThreadId;
        long? nativeBefore = thread.NativeThreadId;

        thread.Start();
        int? during = thread.ManagedThreadId;
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        before.Should().BeNull();
        nativeBefore.Should().BeNull();
        during.Should().NotBeNull();
        thread.ManagedThreadId.Should().Be(during);
        thread.NativeThreadId.Should().NotBeNull().And.NotBe(DaemonThread.Main.NativeThreadId);
    }

    [Fact]
    public void NativeThreadId_ReadRightAfterStart_IsTheIdTheThreadSeesForItself()
    {
        using var release = new ManualResetEventSlim();
        long? inside = null;
        var thread = new DaemonThread(
            () =>
            {
                inside = DaemonThreads.Internal.NativeThread.CurrentId();
                release.Wait(TestTimeouts.Unexpected);
            },
            isDaemon: true);

        thread.Start();
        long? outside = thread.NativeThreadId;
        release.Set();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        outside.Should().NotBeNull().And.Be(inside, "NativeThreadId waits for the thread to record its own id");
    }

    [Fact]
    public void Join_MainFromTheMainProgram_ThrowsCannotJoinCurrentThread()
    {
        Exception? failure = ThreadTestHelpers.OnMainProgram<Exception?>(() =>
        {
            try
            {
                DaemonThread.Main.Join();
                return null;
            }
            catch (Exception ex)
            {
                return ex;
            }
        });

        failure.Should().BeOfType<InvalidOperationException>("pool code of the main program is the main thread, which would wait for itself")
            .Which.Message.Should().Contain("cannot join current thread");
    }

    // Ports CPython test_threading.ThreadTests.test_enumerate_after_join (B1 #11)
    [Fact]
    public void Enumerate_AfterJoin_NeverListsTheJoinedThread()
    {
        for (int i = 0; i < 100; i++)
        {
            var thread = new DaemonThread(() => { }, isDaemon: i % 2 == 0);
            thread.Start();
            thread.Join();

            DaemonThread.Enumerate().Should().NotContain(thread);
        }
    }

    [Fact]
    public void Enumerate_ListsMainFirstAndStartedThreadsInStartOrder()
    {
        using var release = new ManualResetEventSlim();
        var threads = Enumerable.Range(0, 5).Select(_ => new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: true)).ToList();
        var notStarted = new DaemonThread(() => { }, isDaemon: true);
        threads.ForEach(t => t.Start());

        try
        {
            IReadOnlyList<DaemonThread> list = DaemonThread.Enumerate();

            list[0].Should().BeSameAs(DaemonThread.Main);
            list.Where(threads.Contains).Should().Equal(threads, "threads are listed in start order");
            list.Should().NotContain(notStarted);
        }
        finally
        {
            release.Set();
            threads.ForEach(t => t.Join(TestTimeouts.Unexpected).Should().BeTrue());
        }
    }

    [Fact]
    public void Enumerate_ReturnsASnapshotTheCallerOwns()
    {
        IReadOnlyList<DaemonThread> first = DaemonThread.Enumerate();
        var thread = new DaemonThread(() => { }, isDaemon: true);
        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        first.Should().NotBeSameAs(DaemonThread.Enumerate());
        first.Should().NotContain(thread);
    }

    // Ports CPython test_threading.ThreadTests.test_leak_without_join (B1 #32)
    [Fact]
    public void Enumerate_FinishedThreadNeverJoined_LeavesRegistryAndIsCollected()
    {
        WeakReference weak = StartUnjoinedThread();

        CollectUntilDead(weak);

        weak.IsAlive.Should().BeFalse("the registry keeps no strong reference to a finished thread");
    }

    // Ports CPython test_threading.ThreadTests.test_no_refcycle_through_target (B1 #14), concept: the .NET GC
    // collects cycles, so the leak to rule out is a finished thread that is still referenced keeping its target
    // (and everything the target captured) alive.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Join_FinishedThreadStillReferenced_DropsItsTargetAndCapturedState(bool targetEndsWithThreadExit)
    {
        (DaemonThread thread, WeakReference captured) = RunWithCapturedOwner(targetEndsWithThreadExit);

        CollectUntilDead(captured);

        captured.IsAlive.Should().BeFalse("the thread drops its target after running it");
        thread.IsAlive.Should().BeFalse();
        GC.KeepAlive(thread);
    }

    private static void CollectUntilDead(WeakReference weak)
    {
        // Not a timing loop: each round is a full blocking collection; a few rounds let finalizable objects go.
        for (int i = 0; i < 5 && weak.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference StartUnjoinedThread()
    {
        using var ended = new ManualResetEventSlim();
        Thread? raw = null;
        var thread = new DaemonThread(
            () =>
            {
                raw = Thread.CurrentThread;
                ended.Set();
            },
            isDaemon: true);
        thread.Start();
        ended.Wait(TestTimeouts.Unexpected).Should().BeTrue();
        raw!.Join(TestTimeouts.Unexpected).Should().BeTrue("the runtime's join, not DaemonThread.Join");
        DaemonThread.Enumerate().Should().NotContain(thread, "a finished thread leaves the registry without being joined");
        return new WeakReference(thread);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (DaemonThread Thread, WeakReference Captured) RunWithCapturedOwner(bool throwThreadExit)
    {
        var owner = new Owner();
        owner.Thread = new DaemonThread(
            () =>
            {
                owner.Ran = true;
                if (throwThreadExit)
                {
                    throw new ThreadExitException();
                }
            },
            isDaemon: true);
        DaemonThread thread = owner.Thread;
        thread.Start();
        thread.Join();
        owner.Ran.Should().BeTrue();
        return (thread, new WeakReference(owner));
    }

    private static void InterlockedMax(ref int location, int value)
    {
        int seen = Volatile.Read(ref location);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref location, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    private sealed class Owner
    {
        public DaemonThread? Thread { get; set; }

        public bool Ran { get; set; }
    }

    private sealed class SemaphoreThread(SemaphoreSlim semaphore, ManualResetEventSlim release, Action inside, int maxStackSize)
        : DaemonThread(null, isDaemon: true, maxStackSize: maxStackSize)
    {
        protected override void Run()
        {
            release.Wait(TestTimeouts.Unexpected);
            semaphore.Wait(TestTimeouts.Unexpected);
            try
            {
                inside();
            }
            finally
            {
                semaphore.Release();
            }
        }
    }
}
