using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>SPEC 6.2: DaemonThreadPool in-process (every pool is shut down by its test; the process-wide exit never runs here).</summary>
/// <remarks>Exit behaviour is tested in child processes (<see cref="DaemonThreadPoolExitTests"/>).</remarks>
public partial class DaemonThreadPoolTests
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

    // Issue 11: an idle worker spins, then waits; a submit wakes a waiting worker only for the items no spinner takes.
    [Fact]
    public void Submit_RepeatedlyToAnIdlePoolFromTwoThreads_EveryItemRunsAndNoWakeUpIsLost()
    {
        const int Rounds = 2000;
        var pool = new DaemonThreadPool(maxWorkers: 3);
        int ran = 0;

        void SubmitAndWait()
        {
            for (int i = 0; i < Rounds; i++)
            {
                // Each item is submitted to a pool whose workers are spinning or waiting: a lost wake-up hangs here.
                pool.Submit(() => Interlocked.Increment(ref ran)).Wait(TestTimeouts.Unexpected).Should().BeTrue("a submit always reaches a worker");
            }
        }

        var other = new Thread(SubmitAndWait);
        other.Start();
        SubmitAndWait();
        other.Join(TestTimeouts.Unexpected).Should().BeTrue("the other submitter ends after its rounds");
        pool.Shutdown(wait: true);

        ran.Should().Be(2 * Rounds);
        pool.Workers.Count.Should().BeLessThanOrEqualTo(3);
    }

    // Issue 11: a submit reads the outstanding wake-up flag without the lock, and a woken worker wakes the next one.
    [Fact]
    public void Submit_BurstsFromFourSubmittersToASleepingPool_EveryItemRunsAndNoWakeUpIsLost()
    {
        const int Rounds = 300;
        const int Submitters = 4;
        var pool = new DaemonThreadPool(maxWorkers: 4);
        int ran = 0;
        using var go = new Barrier(Submitters);

        void Bursts()
        {
            var tasks = new Task[8];
            for (int round = 0; round < Rounds; round++)
            {
                go.SignalAndWait(TestTimeouts.Unexpected).Should().BeTrue();
                for (int i = 0; i < tasks.Length; i++)
                {
                    tasks[i] = pool.Submit(() => Interlocked.Increment(ref ran));
                }

                // A lost wake-up leaves an item queued while every worker sleeps: this wait reaches the ceiling.
                Task.WaitAll(tasks, TestTimeouts.Unexpected).Should().BeTrue("every item of round {0} reaches a worker", round);
            }
        }

        var others = Enumerable.Range(1, Submitters - 1).Select(_ => new Thread(Bursts)).ToList();
        others.ForEach(t => t.Start());
        Bursts();
        others.ForEach(t => t.Join(TestTimeouts.Unexpected).Should().BeTrue());
        pool.Shutdown(wait: true);

        ran.Should().Be(Rounds * Submitters * 8);
    }

    [Fact]
    public async Task Submit_WhileOneWorkerIsBusyAndAnotherIdle_TheIdleWorkerRunsItWithoutWaitingForTheBusyOne()
    {
        // CPython: a put to the queue wakes an idle worker even when another is running a long item.
        var pool = new DaemonThreadPool(maxWorkers: 2);
        using var releaseLong = new ManualResetEventSlim();
        using var releaseShort = new ManualResetEventSlim();
        using var third = new ManualResetEventSlim();
        Task longItem = pool.Submit(() => releaseLong.Wait(TestTimeouts.Unexpected));
        Task shortItem = pool.Submit(() => releaseShort.Wait(TestTimeouts.Unexpected));
        releaseShort.Set();
        await shortItem.WaitAsync(TestTimeouts.Unexpected);

        Task thirdItem = pool.Submit(third.Set);

        third.Wait(TestTimeouts.Unexpected).Should().BeTrue("the idle worker takes the item while the other still runs the long one");
        longItem.IsCompleted.Should().BeFalse();
        pool.Workers.Should().HaveCount(2, "the idle worker was reused");
        releaseLong.Set();
        pool.Shutdown(wait: true);
        thirdItem.IsCompletedSuccessfully.Should().BeTrue();
    }

    [Fact]
    public async Task Shutdown_WhileAWorkerSpinsForWork_EndsItWithoutASubmit()
    {
        var pool = new DaemonThreadPool(maxWorkers: 1);
        await pool.Submit(static () => { }).WaitAsync(TestTimeouts.Unexpected);
        DaemonThread worker = pool.Workers.Single();

        // The worker is now spinning for work or waiting on the monitor; either way Shutdown must end it.
        pool.Shutdown(wait: false);

        worker.Join(TestTimeouts.Unexpected).Should().BeTrue("a spinning worker sees the flag, a waiting one the pulse");
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
