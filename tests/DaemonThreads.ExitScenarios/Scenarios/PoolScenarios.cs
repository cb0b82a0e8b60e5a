namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>SPEC 6.2 at exit: a DaemonThreadPool's queued work on every exit path.</summary>
/// <remarks>
/// The cast: a pool with one worker, so that its items run in submission order; item 0 waits until a before-join hook
/// releases it, so every item is still pending when the exit begins, and the order of the markers is fixed by events.
/// </remarks>
internal static class PoolScenarios
{
    private const int Items = 5;

    // Ports test_shutdown.ExecutorShutdownTest.test_interpreter_shutdown: Main returns (no RunMain) with queued items.
    [Scenario("pool-main-returns")]
    public static int MainReturns()
    {
        QueueBehindTheExit(new DaemonThreadPool(maxWorkers: 1, threadNamePrefix: "pool"));

        // An idle worker of a pool never shut down must not hold the process either.
        var idle = new DaemonThreadPool(threadNamePrefix: "idle");
        idle.Submit(() => Out.Line("idle item")).Wait();
        Out.Line("main end");
        return 4;
    }

    [Scenario("pool-runmain")]
    public static int RunMainReturns() => ExitRegistry.RunMain(() =>
    {
        QueueBehindTheExit(new DaemonThreadPool(maxWorkers: 1, threadNamePrefix: "pool"));
        Out.Line("main end");
        return 5;
    });

    [Scenario("pool-exit")]
    public static int ExitWithPendingItems()
    {
        QueueBehindTheExit(new DaemonThreadPool(maxWorkers: 1, threadNamePrefix: "pool"));
        Out.Line("main exiting");
        ExitRegistry.Exit(7);
        return 0;
    }

    [Scenario("pool-sigterm")]
    public static int SigTermWithPendingItems()
    {
        QueueBehindTheExit(new DaemonThreadPool(maxWorkers: 1, threadNamePrefix: "pool"));
        Out.Ready();
        ExitPathScenarios.WaitForEver();
        return 0;
    }

    // JoinTimeout short, the one worker stuck on item 0: the items behind it never start.
    [Scenario("pool-join-timeout")]
    public static int JoinTimeoutWithSlowItems() => ExitRegistry.RunMain(() =>
    {
        ExitRegistry.JoinTimeout = TimeSpan.FromMilliseconds(500);
        var pool = new DaemonThreadPool(maxWorkers: 1, threadNamePrefix: "slow");
        using var started = new ManualResetEventSlim();
        var stuck = new ManualResetEventSlim();
        var tasks = new List<Task>
        {
            pool.Submit(() =>
            {
                Out.Line("item 0 started");
                started.Set();
                stuck.Wait(); // never set: the worker outlives the deadline
            }),
        };
        for (int i = 1; i < 10; i++)
        {
            int n = i;
            tasks.Add(pool.Submit(() => Out.Line("item " + n)));
        }

        PrintReport(() => "cancelled " + tasks.Count(t => t.IsCanceled));
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        started.Wait();
        Out.Line("main end");
        return 3;
    });

    // A daemon pool is abandoned: its stuck worker is an abandoned daemon thread, its queue is reported.
    [Scenario("pool-daemon")]
    public static int DaemonPoolAbandoned(string[] args) => ExitRegistry.RunMain(() =>
    {
        var pool = new DaemonThreadPool(maxWorkers: 1, threadNamePrefix: "daemonpool", isDaemon: true);
        using var started = new ManualResetEventSlim();
        var stuck = new ManualResetEventSlim();
        pool.Submit(() =>
        {
            started.Set();
            stuck.Wait(); // never set: a daemon worker is not waited for
        });
        var queued = Enumerable.Range(1, 3).Select(i => pool.Submit(() => Out.Line("item " + i))).ToList();
        started.Wait();
        if (args is not ["stderr"])
        {
            PrintReport(() => "cancelled " + queued.Count(t => t.IsCanceled));
        }

        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        Out.Line("main end");
        return 0;
    });

    // Ports test_shutdown.ExecutorShutdownTest.test_submit_after_interpreter_shutdown: submitting from an at-exit hook.
    [Scenario("pool-submit-at-exit")]
    public static int SubmitFromAtExitHook() => ExitRegistry.RunMain(() =>
    {
        var pool = new DaemonThreadPool(maxWorkers: 5);
        ExitRegistry.RegisterAtExit(() =>
        {
            try
            {
                pool.Submit(() => { });
                Out.Line("submitted");
            }
            catch (InvalidOperationException e)
            {
                Out.Line("refused: " + e.Message);
            }
        });
        pool.Submit(() => 42).Wait();
        return 0;
    });

    // Ports test_shutdown.ExecutorShutdownTest.test_hang_gh83386: Shutdown(wait: false) with a running item, then Main returns.
    [Scenario("pool-shutdown-nowait")]
    public static int ShutdownNoWaitThenMainReturns()
    {
        var pool = new DaemonThreadPool(maxWorkers: 3);
        using var started = new ManualResetEventSlim();
        pool.Submit(() =>
        {
            started.Set();
            Thread.Sleep(300); // simulated work that outlives Main
            Out.Line("apple");
        });
        started.Wait();
        pool.Shutdown(wait: false);
        return 0;
    }

    /// <summary>Queues <see cref="Items"/> items on a one-worker pool: item 0 waits until the before-join hook releases it.</summary>
    private static void QueueBehindTheExit(DaemonThreadPool pool)
    {
        var release = new ManualResetEventSlim();
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        ExitRegistry.RegisterBeforeJoin(() =>
        {
            Out.Line("before-join");
            release.Set();
        });
        pool.Submit(() =>
        {
            release.Wait();
            Out.Line("item 0");
        });
        for (int i = 1; i < Items; i++)
        {
            int n = i;
            pool.Submit(() =>
            {
                // Simulated work, so that an exit that forgot to wait would visibly lose the items.
                Thread.Sleep(50);
                Out.Line("item " + n);
            });
        }
    }

    /// <summary>Prints the report's unfinished entries to stdout (the core's stderr report names only threads).</summary>
    private static void PrintReport(Func<string> afterwards)
        => ExitRegistry.ReportHandler = report =>
        {
            foreach (UnfinishedWork entry in report.Unfinished)
            {
                Out.Line("unfinished: " + entry);
            }

            Out.Line(afterwards());
        };
}
