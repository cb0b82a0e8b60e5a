namespace DaemonThreads.ExitScenarios.Scenarios;

internal static class SmokeScenarios
{
    // The simplest exit: a non-daemon worker finishes after Main's code, a daemon is abandoned.
    [Scenario("smoke")]
    public static int Smoke() => ExitRegistry.RunMain(() =>
    {
        using var go = new ManualResetEventSlim();
        var worker = new DaemonThread(() => { go.Wait(); Out.Line("worker done"); }, name: "worker");
        var daemon = new DaemonThread(() => go.Wait(Timeout.Infinite, CancellationToken.None), name: "heartbeat", isDaemon: true);
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        worker.Start();
        daemon.Start();
        Out.Line("main " + DaemonThread.Current);
        go.Set();
        return 3;
    });
}
