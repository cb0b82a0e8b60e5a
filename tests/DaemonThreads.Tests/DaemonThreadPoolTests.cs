using DaemonThreads.Internal;
using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>SPEC 6.2: DaemonThreadPool in-process (every pool is shut down by its test; the process-wide exit never runs here).</summary>
/// <remarks>Exit behaviour is tested in child processes (<see cref="DaemonThreadPoolExitTests"/>).</remarks>
public class DaemonThreadPoolTests
{
    // Ports executor.ExecutorTest.test_submit
    [Fact]
    public async Task Submit_Func_TaskCompletesWithTheResult()
    {
        using var pool = new DaemonThreadPool(maxWorkers: 2);

        Task<int> task = pool.Submit(() => (int)Math.Pow(2, 8));

        int result = await task.WaitAsync(TestTimeouts.Unexpected);
        result.Should().Be(256);
    }

    [Fact]
    public void Submit_NullWork_ThrowsArgumentNullException()
    {
        using var pool = new DaemonThreadPool();

        FluentActions.Invoking(() => { pool.Submit((Action)null!); }).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => { pool.Submit((Func<int>)null!); }).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public async Task Submit_Task_ContinuationsRunAsynchronously()
    {
        using var pool = new DaemonThreadPool(maxWorkers: 1);
        int? continuationThread = null;
        int? workerThread = null;

        Task task = pool.Submit(() => workerThread = Environment.CurrentManagedThreadId);
        Task continuation = task.ContinueWith(_ => continuationThread = Environment.CurrentManagedThreadId, TaskContinuationOptions.ExecuteSynchronously);

        await continuation.WaitAsync(TestTimeouts.Unexpected);
        continuationThread.Should().NotBe(workerThread, "the pool's tasks are created with RunContinuationsAsynchronously, so a continuation never runs on the worker");
    }

    [Fact]
    public async Task Submit_Work_RunsOnAWorkerThatIsCurrentAndInTheSubmittersExecutionContext()
    {
        var local = new AsyncLocal<string>();
        using var pool = new DaemonThreadPool(maxWorkers: 1, threadNamePrefix: "ctx");
        local.Value = "submitter";

        Task<(DaemonThread Current, string? Local)> task = pool.Submit<(DaemonThread, string?)>(() => (DaemonThread.Current, local.Value));

        (DaemonThread current, string? seen) = await task.WaitAsync(TestTimeouts.Unexpected);
        current.Should().BeSameAs(pool.Workers.Single(), "an item runs on a worker, which is a DaemonThread");
        current.Name.Should().Be("ctx_0");
        seen.Should().Be("submitter", "as Task.Run, an item runs in the ExecutionContext of its submitter");
    }

    // Ports executor.ExecutorTest.test_max_workers_negative
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Constructor_MaxWorkersNotPositive_ThrowsArgumentOutOfRangeException(int maxWorkers)
    {
        FluentActions.Invoking(() => new DaemonThreadPool(maxWorkers))
            .Should().Throw<ArgumentOutOfRangeException>()
            .WithMessage("max_workers must be greater than 0*")
            .And.ParamName.Should().Be("maxWorkers");
    }

    // Ports test_thread_pool.ThreadPoolExecutorTest.test_default_workers
    [Fact]
    public void Constructor_DefaultMaxWorkers_IsMin32ProcessorCountPlus4()
    {
        using var pool = new DaemonThreadPool();

        pool.MaxWorkers.Should().Be(Math.Min(32, Environment.ProcessorCount + 4), "CPython 3.8+ (bpo-35141)");
    }

    [Fact]
    public void Constructor_NoWorkSubmitted_StartsNoWorkerAndDoesNotRegisterForExit()
    {
        using var pool = new DaemonThreadPool();

        pool.Workers.Should().BeEmpty("workers start on demand");
        pool.IsRegisteredForExit.Should().BeFalse("an unused pool has nothing for the exit sequence");
    }

    [Fact]
    public async Task Constructor_IsDaemonNull_InheritsFromTheConstructingThread()
    {
        using var fromMain = ThreadTestHelpers.OnMainProgram(() => new DaemonThreadPool());
        using var fromDaemon = ThreadTestHelpers.OnDaemonThread(true, () => new DaemonThreadPool());
        using var explicitDaemon = ThreadTestHelpers.OnMainProgram(() => new DaemonThreadPool(isDaemon: true));

        fromMain.IsDaemon.Should().BeFalse("the main program is non-daemon (SPEC 2.2)");
        fromDaemon.IsDaemon.Should().BeTrue();
        explicitDaemon.IsDaemon.Should().BeTrue();
        (await fromDaemon.Submit(() => DaemonThread.Current.IsDaemon).WaitAsync(TestTimeouts.Unexpected)).Should().BeTrue("the workers take the pool's flag");
        (await fromMain.Submit(() => DaemonThread.Current.IsDaemon).WaitAsync(TestTimeouts.Unexpected)).Should().BeFalse();
    }

    // Ports executor.ExecutorTest.test_map
    [Fact]
    public void Map_ReturnsTheResultsInSourceOrder()
    {
        using var pool = new DaemonThreadPool(maxWorkers: 4);

        List<int> results = pool.Map(x => (int)Math.Pow(x, x), Enumerable.Range(0, 10)).ToList();

        results.Should().Equal(Enumerable.Range(0, 10).Select(x => (int)Math.Pow(x, x)));
    }

    // Ports test_thread_pool.ThreadPoolExecutorTest.test_map_submits_without_iteration
    [Fact]
    public void Map_NotEnumerated_SubmitsEveryItemAtTheCall()
    {
        var finished = new System.Collections.Concurrent.ConcurrentBag<int>();
        var pool = new DaemonThreadPool();

        _ = pool.Map(n => { finished.Add(n); return n; }, Enumerable.Range(0, 10));
        pool.Shutdown(wait: true);

        finished.Should().BeEquivalentTo(Enumerable.Range(0, 10), "Executor.map submits eagerly (issue 11777)");
    }

    // Ports executor.ExecutorTest.test_map_exception
    [Fact]
    public void Map_ItemThrows_RethrowsTheItemsExceptionUnwrappedWhenReached()
    {
        using var pool = new DaemonThreadPool(maxWorkers: 2);
        int[] divisors = [2, 3, 0, 5];

        using IEnumerator<int> results = pool.Map(d => 1 / d, divisors).GetEnumerator();

        results.MoveNext().Should().BeTrue();
        results.Current.Should().Be(0);
        results.MoveNext().Should().BeTrue();
        results.Current.Should().Be(0);
        FluentActions.Invoking(() => results.MoveNext()).Should().Throw<DivideByZeroException>("Python raises the item's own exception, not a wrapper");
    }

    // Ports executor.ExecutorTest.test_map_timeout
    [Fact]
    public void Map_TimeoutPassesBeforeAResultIsReady_ThrowsTimeoutExceptionAfterTheReadyResults()
    {
        using var release = new ManualResetEventSlim();
        using var pool = new DaemonThreadPool(maxWorkers: 3);
        var results = new List<int>();

        // The timeout only has to outlast items 0 and 1, which return at once; 1 s leaves room for a loaded machine
        // to start the workers, and the test takes that long because item 2 never returns before it.
        Action enumerate = () =>
        {
            foreach (int r in pool.Map(
                x =>
                {
                    if (x == 2)
                    {
                        release.Wait(TestTimeouts.Unexpected);
                    }

                    return x;
                },
                [0, 1, 2],
                timeout: TimeSpan.FromSeconds(1)))
            {
                results.Add(r);
            }
        };

        try
        {
            enumerate.Should().Throw<TimeoutException>("the third item waits for an event nobody sets before the timeout");
        }
        finally
        {
            release.Set();
        }

        results.Should().Equal([0, 1]);
    }

    // Ports test_thread_pool.ThreadPoolExecutorTest.test_executor_map_current_future_cancel
    [Fact]
    public async Task Map_TimeoutZeroWhileThePoolIsBusy_CancelsTheCurrentAndTheRemainingItems()
    {
        using var stop = new ManualResetEventSlim();
        var log = new List<string>();
        void LogAndWait(string id)
        {
            lock (log)
            {
                log.Add(id + " started");
            }

            stop.Wait(TestTimeouts.Unexpected);
            lock (log)
            {
                log.Add(id + " stopped");
            }
        }

        Task first;
        using (var pool = new DaemonThreadPool(maxWorkers: 1))
        {
            first = pool.Submit(() => LogAndWait("first"));
            try
            {
                using IEnumerator<bool> results = pool.Map(id => { LogAndWait(id); return true; }, ["second", "third"], timeout: TimeSpan.Zero).GetEnumerator();
                FluentActions.Invoking(() => results.MoveNext()).Should().Throw<TimeoutException>();
            }
            finally
            {
                stop.Set();
            }

            await first.WaitAsync(TestTimeouts.Unexpected);
        }

        log.Should().Equal(["first started", "first stopped"], "'second' is cancelled by the timeout, 'third' because it remained");
    }

    [Fact]
    public void Map_EnumerationEndsEarly_CancelsTheItemsNotStarted()
    {
        using var release = new ManualResetEventSlim();
        int ran = 0;
        var pool = new DaemonThreadPool(maxWorkers: 1);

        // One worker: item 0 completes, item 1 holds the worker, items 2-4 stay queued until the enumeration ends.
        IEnumerable<int> results = pool.Map(
            x =>
            {
                Interlocked.Increment(ref ran);
                if (x == 1)
                {
                    release.Wait(TestTimeouts.Unexpected);
                }

                return x;
            },
            Enumerable.Range(0, 5));
        using (IEnumerator<int> e = results.GetEnumerator())
        {
            e.MoveNext().Should().BeTrue();
            e.Current.Should().Be(0);
        }

        release.Set();
        pool.Shutdown(wait: true);

        ran.Should().Be(2, "disposing the enumerator cancels what has not started (items 2-4), as Python's result_iterator finally block");
    }

    [Fact]
    public void Map_EnumeratedTwice_ThrowsOnTheSecond()
    {
        using var pool = new DaemonThreadPool(maxWorkers: 1);
        IEnumerable<int> results = pool.Map(x => x, [1, 2]);

        results.ToList().Should().Equal([1, 2]);

        FluentActions.Invoking(() => results.ToList()).Should().Throw<InvalidOperationException>().WithMessage("the results of Map can be enumerated only once*");
    }

    [Fact]
    public void Map_NullArgumentsOrNegativeTimeout_Throw()
    {
        using var pool = new DaemonThreadPool(maxWorkers: 1);

        FluentActions.Invoking(() => pool.Map<int, int>(null!, [1])).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => pool.Map<int, int>(x => x, null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => pool.Map(x => x, [1], TimeSpan.FromSeconds(-2))).Should().Throw<ArgumentOutOfRangeException>();
    }

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

    // Ports test_thread_pool.ThreadPoolExecutorTest.test_saturation
    [Fact]
    public void Submit_MoreBlockingItemsThanWorkers_StartsExactlyMaxWorkers()
    {
        using var gate = new SemaphoreSlim(0);
        var pool = new DaemonThreadPool(maxWorkers: 4);
        var tasks = new List<Task>();

        for (int i = 0; i < 15 * 4; i++)
        {
            tasks.Add(pool.Submit(() => gate.Wait(TestTimeouts.Unexpected)));
        }

        int workers = pool.Workers.Count;
        gate.Release(15 * 4);
        pool.Shutdown(wait: true);

        workers.Should().Be(4);
        tasks.Should().OnlyContain(t => t.IsCompletedSuccessfully);
    }

    // Ports test_thread_pool.ThreadPoolExecutorTest.test_idle_thread_reuse
    [Fact]
    public async Task Submit_AfterTheResultOfTheLastItem_ReusesTheIdleWorker()
    {
        var pool = new DaemonThreadPool();

        (await pool.Submit(() => 21 * 2).WaitAsync(TestTimeouts.Unexpected)).Should().Be(42);
        (await pool.Submit(() => 6 * 7).WaitAsync(TestTimeouts.Unexpected)).Should().Be(42);
        (await pool.Submit(() => 3 * 14).WaitAsync(TestTimeouts.Unexpected)).Should().Be(42);
        int workers = pool.Workers.Count;
        pool.Shutdown(wait: true);

        workers.Should().Be(1, "a worker is marked idle before its item's task completes, so the next submit finds it idle");
    }

    // Ports test_shutdown.ThreadPoolShutdownTest.test_thread_names_assigned
    [Fact]
    public void Workers_GivenPrefix_AreNamedPrefixUnderscoreIndex()
    {
        var pool = new DaemonThreadPool(maxWorkers: 5, threadNamePrefix: "SpecialPool");
        using var gate = new SemaphoreSlim(0);
        for (int i = 0; i < 5; i++)
        {
            pool.Submit(() => gate.Wait(TestTimeouts.Unexpected));
        }

        IReadOnlyList<DaemonThread> workers = pool.Workers;
        gate.Release(5);
        pool.Shutdown(wait: true);

        workers.Select(w => w.Name).Should().Equal(["SpecialPool_0", "SpecialPool_1", "SpecialPool_2", "SpecialPool_3", "SpecialPool_4"]);
        workers.Should().OnlyContain(w => !w.IsAlive, "Shutdown(wait: true) joins them");
    }

    // Ports test_shutdown.ThreadPoolShutdownTest.test_thread_names_default
    [Fact]
    public void Workers_NoPrefix_AreNamedThreadPoolExecutorNUnderscoreIndex()
    {
        var pool = new DaemonThreadPool(maxWorkers: 5);
        _ = pool.Map(Math.Abs, Enumerable.Range(-5, 10));

        IReadOnlyList<DaemonThread> workers = pool.Workers;
        pool.Shutdown(wait: true);

        workers.Should().NotBeEmpty();
        workers.Should().OnlyContain(w => System.Text.RegularExpressions.Regex.IsMatch(w.Name, @"^ThreadPoolExecutor-\d+_[0-4]$"));
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
    public void Map_ItemCancelledByShutdownBeforeItRan_ThrowsTaskCanceledExceptionWhenReached()
    {
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var pool = new DaemonThreadPool(maxWorkers: 1);
        IEnumerable<int> results = pool.Map(
            x =>
            {
                if (x == 0)
                {
                    started.Set();
                    release.Wait(TestTimeouts.Unexpected);
                }

                return x;
            },
            [0, 1, 2]);
        started.Wait(TestTimeouts.Unexpected).Should().BeTrue();

        pool.Shutdown(wait: false, cancelPending: true);
        release.Set();
        using IEnumerator<int> e = results.GetEnumerator();

        e.MoveNext().Should().BeTrue("item 0 was running, so it was not cancelled");
        e.Current.Should().Be(0);
        FluentActions.Invoking(() => e.MoveNext()).Should().Throw<TaskCanceledException>("Python raises CancelledError for a cancelled future");
        pool.Shutdown(wait: true);
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

/// <summary>SPEC 6.2, the parts that read or replace process-wide state (the prefix counter, <see cref="DaemonThread.ExceptHook"/>).</summary>
[Collection(GlobalState.Name)]
public class DaemonThreadPoolProcessWideTests
{
    [Fact]
    public void Constructor_DefaultPrefix_UsesOneProcessWideCounterThatAGivenPrefixDoesNotMove()
    {
        using var first = new DaemonThreadPool();
        using var named = new DaemonThreadPool(threadNamePrefix: "named");
        using var second = new DaemonThreadPool();

        int n = int.Parse(first.ThreadNamePrefix["ThreadPoolExecutor-".Length..], System.Globalization.CultureInfo.InvariantCulture);

        first.ThreadNamePrefix.Should().MatchRegex(@"^ThreadPoolExecutor-\d+$");
        named.ThreadNamePrefix.Should().Be("named");
        second.ThreadNamePrefix.Should().Be("ThreadPoolExecutor-" + (n + 1), "as CPython, the counter moves only when the default prefix is used");
    }

    [Fact]
    public async Task Submit_WorkThrows_FaultsTheTaskAndNeverReachesExceptHook()
    {
        var failure = new InvalidOperationException("work failed on purpose");
        var hooked = new List<ThreadExceptionInfo>();
        Action<ThreadExceptionInfo> original = DaemonThread.ExceptHook;
        DaemonThread.ExceptHook = info =>
        {
            lock (hooked)
            {
                hooked.Add(info);
            }
        };
        Task task;
        try
        {
            var pool = new DaemonThreadPool(maxWorkers: 1);
            task = pool.Submit(() => throw failure);
            Task exitTask = pool.Submit(() => throw new ThreadExitException());
            Task<int> after = pool.Submit(() => 1);
            (await after.WaitAsync(TestTimeouts.Unexpected)).Should().Be(1, "the worker lives on after an item throws");
            pool.Shutdown(wait: true);
            exitTask.IsFaulted.Should().BeTrue("even ThreadExitException belongs to the task (Python's SystemExit in a work item goes to the future)");
        }
        finally
        {
            DaemonThread.ExceptHook = original;
        }

        task.IsFaulted.Should().BeTrue();
        task.Exception!.InnerException.Should().BeSameAs(failure);
        await FluentActions.Awaiting(() => task).Should().ThrowAsync<InvalidOperationException>().WithMessage("work failed on purpose");
        hooked.Should().BeEmpty("an item's exception goes to its task only");
    }
}
