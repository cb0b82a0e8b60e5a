using System.Runtime.InteropServices;

namespace DaemonThreads.ExitScenarios.Scenarios;

internal static class SignalScenarios
{
    // The parent sends one signal after READY: the worker finishes, hooks run, exit 128 + n.
    [Scenario("signal")]
    public static int Signal()
    {
        Cast.Start();
        Out.Ready();
        ExitPathScenarios.WaitForEver();
        return 0;
    }

    // A non-daemon thread that never ends: the first signal starts the wait, the second stops it.
    [Scenario("signal-twice")]
    public static int SignalTwice()
    {
        var stuck = new DaemonThread(() => Thread.Sleep(Timeout.Infinite), name: "stuck");
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        ExitRegistry.RegisterBeforeJoin(() => Out.Line("before-join"));
        stuck.Start();
        Out.Ready();
        ExitPathScenarios.WaitForEver();
        return 0;
    }

    // The application's own handler runs as well as the library's.
    [Scenario("signal-app-handler")]
    public static int SignalAppHandler()
    {
        Cast.Start();
        using var registration = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => Out.Line("app handler"));
        Out.Ready();
        ExitPathScenarios.WaitForEver();
        return 0;
    }

    // Opt-out: the default action of the signal (death) applies; nothing of ours runs.
    [Scenario("signal-optout")]
    public static int SignalOptOut()
    {
        ExitRegistry.HandleSignals = false;
        Cast.Start();
        Out.Ready();
        ExitPathScenarios.WaitForEver();
        return 0;
    }

    // The sequence already ran (a hand-made Shutdown()) and the program goes on: a signal must still end it.
    [Scenario("signal-after-shutdown")]
    public static int SignalAfterShutdown()
    {
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        _ = ExitRegistry.Shutdown();
        Out.Ready();
        ExitPathScenarios.WaitForEver();
        return 0;
    }

    // Environment.Exit waits without bound for all non-daemon threads but the last: two stuck threads, so only a signal
    // can end the wait. The first leaves the ProcessExit path alone; the second stops it.
    [Scenario("env-exit-signal")]
    public static int EnvironmentExitThenSignals()
    {
        new DaemonThread(() => Thread.Sleep(Timeout.Infinite), name: "stuck1").Start();
        new DaemonThread(() => Thread.Sleep(Timeout.Infinite), name: "stuck2").Start();
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        ExitRegistry.RegisterBeforeJoin(Out.Ready);
        Environment.Exit(5);
        return 0;
    }

    // B9 #2: Ctrl+C while RunMain's exit sequence waits for a non-daemon thread that never ends: the first keeps
    // waiting (the sequence already runs), the second abandons.
    [Scenario("sigint-during-exit-wait")]
    public static int SigIntDuringExitWait() => ExitRegistry.RunMain(() =>
    {
        var stuck = new DaemonThread(() => Thread.Sleep(Timeout.Infinite), name: "stuck");
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        ExitRegistry.RegisterBeforeJoin(Out.Ready);
        stuck.Start();
        Out.Line("main end");
        return 0;
    });
}
