using DaemonThreads.Internal;

namespace DaemonThreads.Tests;

// Shutdown, Dispose and the pool's two steps in the exit sequence (called directly: the process-wide exit never runs in-process).
public partial class DaemonThreadPoolTests
{
    [Fact]
    public void Submit_ConcurrentWithShutdown_EveryAcceptedItemHasRunWhenShutdownReturnsAndTheRestAreRefused()
    {
        const int Submitters = 4;
        const int PerSubmitter = 500;
        var pool = new DaemonThreadPool(maxWorkers: 4);
        var accepted = new System.Collections.Concurrent.ConcurrentBag<Task>();
        int refused = 0;
        int ran = 0;
        using var go = new ManualResetEventSlim();
        using var firstRan = new ManualResetEventSlim();
        var submitters = Enumerable.Range(0, Submitters).Select(_ => new DaemonThread(
            () =>
            {
                go.Wait(TestTimeouts.Unexpected);
                for (int i = 0; i < PerSubmitter; i++)
                {
                    try
                    {
                        accepted.Add(pool.Submit(() =>
                        {
                            Interlocked.Increment(ref ran);
                            firstRan.Set();
                        }));
                    }
                    catch (InvalidOperationException e) when (e.Message.StartsWith("cannot schedule new futures after shutdown", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref refused);
                    }
                }
            },
            isDaemon: true)).ToList();
        submitters.ForEach(t => t.Start());

        go.Set();
        firstRan.Wait(TestTimeouts.Unexpected).Should().BeTrue("the submitters are running");
        pool.Shutdown(wait: true);
        int ranWhenShutdownReturned = Volatile.Read(ref ran);
        foreach (DaemonThread t in submitters)
        {
            t.Join(TestTimeouts.Unexpected).Should().BeTrue();
        }

        (accepted.Count + refused).Should().Be(Submitters * PerSubmitter, "every submit either queues its item or throws");
        accepted.Count.Should().Be(ranWhenShutdownReturned, "every accepted item had run when Shutdown(wait: true) returned, and none was accepted after it marked the pool");
        accepted.Where(t => !t.IsCompletedSuccessfully).Should().BeEmpty();
    }

    [Fact]
    public void Submit_ConcurrentWithShutdownCancelPending_EveryAcceptedItemRanOrWasCancelledAndNoRefusedItemRan()
    {
        // Issue 11: Submit takes no lock; an item queued after Shutdown marked the pool is taken back by its submit (never
        // run), and one queued before is run or cancelled. By bounded repetition of the race.
        for (int round = 0; round < 50; round++)
        {
            var pool = new DaemonThreadPool(maxWorkers: 2);
            var accepted = new System.Collections.Concurrent.ConcurrentQueue<Task>();
            int refused = 0;
            int ran = 0;
            using var go = new Barrier(3);
            var submitters = Enumerable.Range(0, 2).Select(_ => new DaemonThread(
                () =>
                {
                    go.SignalAndWait(TestTimeouts.Unexpected);
                    for (int i = 0; i < 200; i++)
                    {
                        try
                        {
                            accepted.Enqueue(pool.Submit(() => Interlocked.Increment(ref ran)));
                        }
                        catch (InvalidOperationException e) when (e.Message.StartsWith("cannot schedule new futures after shutdown", StringComparison.Ordinal))
                        {
                            Interlocked.Increment(ref refused);
                        }
                    }
                },
                isDaemon: true)).ToList();
            submitters.ForEach(t => t.Start());

            go.SignalAndWait(TestTimeouts.Unexpected).Should().BeTrue();
            pool.Shutdown(wait: true, cancelPending: true);
            int ranWhenShutdownReturned = Volatile.Read(ref ran);
            foreach (DaemonThread t in submitters)
            {
                t.Join(TestTimeouts.Unexpected).Should().BeTrue();
            }

            (accepted.Count + refused).Should().Be(400, "every submit either queues its item or throws (round {0})", round);
            accepted.Where(t => !t.IsCompleted).Should().BeEmpty("an accepted item has run or been cancelled when Shutdown(wait: true) returns (round {0})", round);
            accepted.Count(t => t.IsCompletedSuccessfully).Should().Be(ranWhenShutdownReturned, "only accepted items ran, all before Shutdown returned (round {0})", round);
            Volatile.Read(ref ran).Should().Be(ranWhenShutdownReturned, "no refused item runs later (round {0})", round);
        }
    }

    // Ports test_shutdown.ExecutorShutdownTest.test_run_after_shutdown
    [Fact]
    public void Submit_AfterShutdown_ThrowsInvalidOperationException()
    {
        var pool = new DaemonThreadPool();
        pool.Shutdown();

        FluentActions.Invoking(() => { pool.Submit(() => 2 * 5); })
            .Should().Throw<InvalidOperationException>().WithMessage("cannot schedule new futures after shutdown*");
        FluentActions.Invoking(() => pool.Map(x => x, [1]))
            .Should().Throw<InvalidOperationException>().WithMessage("cannot schedule new futures after shutdown*");
    }

    // Ports test_shutdown.ExecutorShutdownTest.test_hang_issue12364
    [Fact]
    public void Shutdown_Wait_ReturnsAfterEveryQueuedItemHasRun()
    {
        var pool = new DaemonThreadPool(maxWorkers: 2);
        var tasks = Enumerable.Range(0, 50).Select(_ => pool.Submit(() => Thread.Yield())).ToList();

        pool.Shutdown();

        tasks.Should().OnlyContain(t => t.IsCompletedSuccessfully, "the workers drain the queue before they end");
        pool.Workers.Should().OnlyContain(w => !w.IsAlive);
    }

    // Ports test_shutdown.ExecutorShutdownTest.test_cancel_futures
    [Fact]
    public void Shutdown_CancelPending_CancelsTheItemsNotStartedAndLetsTheRunningOneFinish()
    {
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var pool = new DaemonThreadPool(maxWorkers: 1);
        Task running = pool.Submit(() =>
        {
            started.Set();
            release.Wait(TestTimeouts.Unexpected);
        });
        var queued = Enumerable.Range(0, 49).Select(_ => pool.Submit(() => { })).ToList();
        started.Wait(TestTimeouts.Unexpected).Should().BeTrue();

        pool.Shutdown(wait: false, cancelPending: true);
        release.Set();
        pool.Shutdown(wait: true);

        queued.Should().OnlyContain(t => t.IsCanceled, "the one worker was busy, so none of them had started");
        running.IsCompletedSuccessfully.Should().BeTrue("cancelling leaves the running item alone");
    }

    [Fact]
    public void Shutdown_CalledAgainOrDisposeAfterIt_IsHarmless()
    {
        var pool = new DaemonThreadPool(maxWorkers: 2);
        pool.Submit(() => { });

        pool.Shutdown(wait: true);
        pool.Shutdown(wait: false, cancelPending: true);
        pool.Dispose();

        pool.Workers.Should().OnlyContain(w => !w.IsAlive);
        pool.IsRegisteredForExit.Should().BeFalse();
    }

    // Ports test_shutdown.ThreadPoolShutdownTest.test_shutdown_no_wait
    [Fact]
    public void Shutdown_NoWait_ReturnsAtOnceAndTheWorkersStillRunTheQueuedItems()
    {
        using var release = new ManualResetEventSlim();
        var pool = new DaemonThreadPool(maxWorkers: 5);
        IEnumerable<int> results = pool.Map(
            x =>
            {
                release.Wait(TestTimeouts.Unexpected);
                return Math.Abs(x);
            },
            Enumerable.Range(-5, 10));
        IReadOnlyList<DaemonThread> workers = pool.Workers;

        pool.Shutdown(wait: false);
        bool anyEndedBeforeRelease = workers.Any(w => !w.IsAlive);
        release.Set();
        foreach (DaemonThread w in workers)
        {
            w.Join(TestTimeouts.Unexpected).Should().BeTrue("each worker ends once the queue is empty");
        }

        anyEndedBeforeRelease.Should().BeFalse("Shutdown(wait: false) does not wait, and the items were still blocked");
        results.Should().Equal([5, 4, 3, 2, 1, 0, 1, 2, 3, 4]);
    }

    // Ports test_shutdown.ThreadPoolShutdownTest.test_threads_terminate
    [Fact]
    public void Shutdown_Wait_EndsEveryWorkerAndTakesThePoolOffTheExitList()
    {
        using var gate = new SemaphoreSlim(0);
        var pool = new DaemonThreadPool(maxWorkers: 5);
        for (int i = 0; i < 3; i++)
        {
            pool.Submit(() => gate.Wait(TestTimeouts.Unexpected));
        }

        int workers = pool.Workers.Count;
        bool registeredWhileRunning = pool.IsRegisteredForExit;
        gate.Release(3);
        pool.Shutdown();

        workers.Should().Be(3);
        pool.Workers.Should().OnlyContain(w => !w.IsAlive);
        registeredWhileRunning.Should().BeTrue("a pool with workers is part of the exit sequence");
        pool.IsRegisteredForExit.Should().BeFalse("a pool that was shut down and whose workers ended removes itself, so nothing leaks");
    }

    // Ports test_shutdown.ThreadPoolShutdownTest.test_context_manager_shutdown
    [Fact]
    public void Dispose_LikeLeavingAWithBlock_JoinsTheWorkers()
    {
        DaemonThreadPool pool;
        using (pool = new DaemonThreadPool(maxWorkers: 5))
        {
            pool.Map(Math.Abs, Enumerable.Range(-5, 10)).Should().Equal([5, 4, 3, 2, 1, 0, 1, 2, 3, 4]);
        }

        pool.Workers.Should().OnlyContain(w => !w.IsAlive);
    }

    [Fact]
    public async Task DisposeAsync_CompletesWhenEveryWorkerHasEnded()
    {
        var pool = new DaemonThreadPool(maxWorkers: 3);
        var tasks = Enumerable.Range(0, 10).Select(i => pool.Submit(() => i)).ToList();

        await pool.DisposeAsync().AsTask().WaitAsync(TestTimeouts.Unexpected);

        tasks.Should().OnlyContain(t => t.IsCompletedSuccessfully);
        pool.Workers.Should().OnlyContain(w => !w.IsAlive);
    }

    [Fact]
    public async Task Shutdown_WaitFromThePoolsOwnItem_JoinsTheOtherWorkersAndSkipsTheCaller()
    {
        using var gate = new SemaphoreSlim(0);
        var pool = new DaemonThreadPool(maxWorkers: 2);
        Task other = pool.Submit(() => gate.Wait(TestTimeouts.Unexpected));
        Task<bool> selfShutdown = pool.Submit(() =>
        {
            gate.Release();
            pool.Shutdown(wait: true);
            return other.IsCompleted;
        });

        bool otherDone = await selfShutdown.WaitAsync(TestTimeouts.Unexpected); // joining its own worker would never return (CPython raises 'cannot join current thread')
        pool.Shutdown(wait: true);

        otherDone.Should().BeTrue("the other worker was joined, so its item had finished");
    }

    [Fact]
    public void BeginShutdown_FromTheExitSequence_RefusesNewWorkButRunsTheQueuedItems()
    {
        using var release = new ManualResetEventSlim();
        var pool = new DaemonThreadPool(maxWorkers: 1);
        Task blocker = pool.Submit(() => release.Wait(TestTimeouts.Unexpected));
        var queued = Enumerable.Range(0, 3).Select(_ => pool.Submit(() => { })).ToList();

        ((IExitParticipant)pool).BeginShutdown();

        FluentActions.Invoking(() => { pool.Submit(() => { }); })
            .Should().Throw<InvalidOperationException>().WithMessage("cannot schedule new futures after interpreter shutdown*");
        release.Set();
        foreach (DaemonThread w in pool.Workers)
        {
            w.Join(TestTimeouts.Unexpected).Should().BeTrue("the exit's join step waits for the workers, which end once the queue is empty");
        }

        blocker.IsCompletedSuccessfully.Should().BeTrue();
        queued.Should().OnlyContain(t => t.IsCompletedSuccessfully, "CPython's wake-up goes behind the queued items: every one runs");
    }

    [Fact]
    public void AtPointOfNoReturn_ItemsNotStarted_AreCancelledAndReportedUnderThePrefix()
    {
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var pool = new DaemonThreadPool(maxWorkers: 1, threadNamePrefix: "slow");
        Task running = pool.Submit(() =>
        {
            started.Set();
            release.Wait(TestTimeouts.Unexpected);
        });
        var queued = Enumerable.Range(0, 3).Select(_ => pool.Submit(() => { })).ToList();
        started.Wait(TestTimeouts.Unexpected).Should().BeTrue();
        var unfinished = new List<UnfinishedWork>();

        ((IExitParticipant)pool).BeginShutdown();
        ((IExitParticipant)pool).AtPointOfNoReturn(unfinished);
        release.Set();
        pool.Shutdown(wait: true);

        unfinished.Should().ContainSingle();
        unfinished[0].Kind.Should().Be(ExitWorkKind.PoolItems);
        unfinished[0].Name.Should().Be("slow");
        unfinished[0].Count.Should().Be(3);
        unfinished[0].ToString().Should().Be("PoolItems slow (3)");
        queued.Should().OnlyContain(t => t.IsCanceled);
        running.IsCompletedSuccessfully.Should().BeTrue("the running item is the worker's; the join step reports the worker if it outlives the deadline");
    }

    [Fact]
    public async Task AtPointOfNoReturn_NothingQueued_ReportsNothing()
    {
        var pool = new DaemonThreadPool(maxWorkers: 1);
        await pool.Submit(() => { }).WaitAsync(TestTimeouts.Unexpected);
        var unfinished = new List<UnfinishedWork>();

        ((IExitParticipant)pool).BeginShutdown();
        ((IExitParticipant)pool).AtPointOfNoReturn(unfinished);
        pool.Shutdown(wait: true);

        unfinished.Should().BeEmpty();
    }
}
