namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>One scenario per row of SPEC §3.1: every way the process can end, with the same cast.</summary>
/// <remarks>
/// The cast: a non-daemon "worker" that waits until a before-join hook releases it (so the order of the markers is
/// fixed by events, not by timing), a daemon "heartbeat" that never ends, one before-join and one at-exit hook.
/// </remarks>
internal static class ExitPathScenarios
{
    [Scenario("runmain-returns")]
    public static int RunMainReturns() => ExitRegistry.RunMain(() =>
    {
        Cast.Start();
        Out.Line("main end");
        return 5;
    });

    [Scenario("runmain-throws")]
    public static int RunMainThrows() => ExitRegistry.RunMain(() =>
    {
        Cast.Start(workerToStderr: true);
        Out.Line("main end");
        throw new InvalidOperationException("main failed on purpose");
    });

    [Scenario("exit-from-main")]
    public static int ExitFromMain()
    {
        Cast.Start();
        Out.Line("main exiting");
        ExitRegistry.Exit(7);
        return 0;
    }

    [Scenario("exit-from-worker")]
    public static int ExitFromWorker()
    {
        Cast.Start();
        var caller = new DaemonThread(() =>
        {
            Out.Line("caller exiting");

            // The caller is a non-daemon thread: if the sequence waited for it, it would wait for ever.
            ExitRegistry.Exit(9);
        }, name: "caller");
        caller.Start();
        WaitForEver();
        return 0;
    }

    // ExitRegistry.Exit from a daemon thread with a grace period: the grace step does not wait for the caller itself.
    [Scenario("exit-from-daemon-grace")]
    public static int ExitFromDaemonWithGracePeriod()
    {
        ExitRegistry.DaemonGracePeriod = TimeSpan.FromSeconds(30);
        using var go = new ManualResetEventSlim();
        var worker = new DaemonThread(() =>
        {
            go.Wait();
            Thread.Sleep(300);
            Out.Line("worker done");
        }, name: "worker");
        var flusher = new DaemonThread(() =>
        {
            go.Wait();

            // Simulated flush.
            Thread.Sleep(300);
            Out.Line("daemon flushed");
        }, name: "flusher", isDaemon: true);
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        ExitRegistry.RegisterBeforeJoin(() =>
        {
            Out.Line("before-join");
            go.Set();
        });
        worker.Start();
        flusher.Start();
        var caller = new DaemonThread(() =>
        {
            Out.Line("caller exiting");
            ExitRegistry.Exit(10);
        }, name: "caller", isDaemon: true);
        caller.Start();
        WaitForEver();
        return 0;
    }

    [Scenario("env-exit-main")]
    public static int EnvironmentExitFromMain()
    {
        Cast.Start();
        Out.Line("main exiting");
        Environment.Exit(11);
        return 0;
    }

    [Scenario("env-exit-daemon")]
    public static int EnvironmentExitFromDaemon()
    {
        Cast.Start();
        var caller = new DaemonThread(() =>
        {
            Out.Line("caller exiting");
            Environment.Exit(12);
        }, name: "caller", isDaemon: true);
        caller.Start();
        WaitForEver();
        return 0;
    }

    [Scenario("env-exit-nondaemon")]
    public static int EnvironmentExitFromNonDaemon()
    {
        Cast.Start();
        var caller = new DaemonThread(() =>
        {
            Out.Line("caller exiting");
            Environment.Exit(13);
        }, name: "caller");
        caller.Start();
        WaitForEver();
        return 0;
    }

    [Scenario("main-returns")]
    public static int MainReturns()
    {
        using var go = new ManualResetEventSlim();
        var worker = new DaemonThread(() =>
        {
            go.Wait();

            // Simulated work: the runtime's own wait for foreground threads must cover it.
            Thread.Sleep(300);
            Out.Line("worker done");
        }, name: "worker");
        var heartbeat = new DaemonThread(() => Thread.Sleep(Timeout.Infinite), name: "heartbeat", isDaemon: true);
        ExitRegistry.RegisterBeforeJoin(() => Out.Line("before-join"));
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        worker.Start();
        heartbeat.Start();
        Out.Line("main end");
        go.Set();
        return 4;
    }

    /// <summary>Blocks the main thread for good; the process ends from another thread.</summary>
    internal static void WaitForEver() => Thread.Sleep(Timeout.Infinite);
}

/// <summary>The shared cast of the exit-path scenarios.</summary>
internal static class Cast
{
    public static void Start(bool workerToStderr = false)
    {
        var go = new ManualResetEventSlim();
        var worker = new DaemonThread(() =>
        {
            go.Wait();

            // Simulated work, so that a sequence that forgot to wait would visibly lose it.
            Thread.Sleep(300);
            if (workerToStderr)
            {
                Console.Error.WriteLine("worker done");
            }

            Out.Line("worker done");
        }, name: "worker");
        var heartbeat = new DaemonThread(() => Thread.Sleep(Timeout.Infinite), name: "heartbeat", isDaemon: true);
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        ExitRegistry.RegisterBeforeJoin(() =>
        {
            Out.Line("before-join");
            go.Set();
        });
        worker.Start();
        heartbeat.Start();
    }
}
