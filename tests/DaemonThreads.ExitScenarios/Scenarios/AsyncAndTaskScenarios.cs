namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>Issue 10: async main (asyncio.run for .NET) and tracked tasks, on each exit path.</summary>
internal static class AsyncAndTaskScenarios
{
    [Scenario("runmain-async")]
    public static int RunMainAsync()
    {
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        return ExitRegistry.RunMain(async () =>
        {
            await Task.Delay(300);
            Out.Line("after await");

            // A thread created after an await belongs to the main program: non-daemon, joined.
            new DaemonThread(() =>
            {
                Thread.Sleep(200);
                Out.Line("thread after await done, daemon " + DaemonThread.Current.IsDaemon);
            }).Start();
        });
    }

    [Scenario("runmain-async-int")]
    public static int RunMainAsyncInt() => ExitRegistry.RunMain(async () =>
    {
        await Task.Yield();
        return 7;
    });

    [Scenario("runmain-async-throws")]
    public static int RunMainAsyncThrows() => ExitRegistry.RunMain(async () =>
    {
        await Task.Yield();
        throw new InvalidOperationException("async main failed on purpose");
    });

    [Scenario("runmain-async-exit")]
    public static int RunMainAsyncExit()
    {
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        return ExitRegistry.RunMain(async () =>
        {
            await Task.Yield();
            ExitRegistry.Exit(9);
        });
    }

    [Scenario("track-main-returns")]
    public static int TrackMainReturns()
    {
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        ExitRegistry.Track(Task.Run(async () =>
        {
            await Task.Delay(300);
            Out.Line("task done");
        }), "upload");
        return 3;
    }

    [Scenario("track-runmain")]
    public static int TrackRunMain() => ExitRegistry.RunMain(() =>
    {
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        ExitRegistry.Track(Task.Run(async () =>
        {
            await Task.Delay(300);
            Out.Line("task done");
        }), "upload");
        return 0;
    });

    [Scenario("track-timeout")]
    public static int TrackTimeout() => ExitRegistry.RunMain(() =>
    {
        ExitRegistry.JoinTimeout = TimeSpan.FromMilliseconds(200);
        ExitRegistry.ReportHandler = r => Out.Line("unfinished " + string.Join(",", r.Unfinished.Select(w => w.ToString())));
        ExitRegistry.Track(Task.Delay(Timeout.Infinite), "stuck-task");
        return 0;
    });

    [Scenario("track-timeout-stderr")]
    public static int TrackTimeoutStderr() => ExitRegistry.RunMain(() =>
    {
        ExitRegistry.JoinTimeout = TimeSpan.FromMilliseconds(200);
        ExitRegistry.Track(Task.Delay(Timeout.Infinite), "stuck-task");
        return 0;
    });

    [Scenario("track-signal")]
    public static int TrackSignal()
    {
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        var go = new TaskCompletionSource();
        ExitRegistry.ShuttingDown.Register(() => go.TrySetResult());
        ExitRegistry.Track(Task.Run(async () =>
        {
            await go.Task;
            await Task.Delay(200);
            Out.Line("task done");
        }), "flush");
        Out.Ready();
        ExitPathScenarios.WaitForEver();
        return 0;
    }
}
