namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>
/// Exit-code races (issue 9 #6, SPEC 5.5: the first exit code claimed wins). Each scenario releases its racers with one
/// barrier, so that the parent, running it a few hundred times, sees both orders; the parent asserts the code every time.
/// </summary>
/// <remarks>
/// Every scenario registers an application <see cref="AppDomain.ProcessExit"/> handler after the library's own (the
/// library installs its handler on first use, which comes before), so it runs last and prints the exit code the
/// runtime is about to exit with: <c>exitcode N</c>. The parent checks that it is the process's exit code.
/// </remarks>
internal static class RaceScenarios
{
    // Environment.Exit(5) from a non-daemon thread while RunMain's main returns 0. Whichever comes first, the code is 5:
    // RunMain's result counts only when nothing claimed one. The library cannot tell which thread is blocked in
    // Environment.Exit, so when main wins, the sequence waits for the caller until JoinTimeout (2 s) and names it.
    [Scenario("race-env-exit-vs-main")]
    public static int EnvironmentExitVersusMainReturning() => ExitRegistry.RunMain(() =>
    {
        ExitRegistry.JoinTimeout = TimeSpan.FromSeconds(2);
        PrintExitCodeAtProcessExit();
        using var barrier = new Barrier(2);
        new DaemonThread(() =>
        {
            barrier.SignalAndWait();
            Environment.Exit(5);
        }, name: "caller").Start();
        barrier.SignalAndWait();
        return 0;
    });

    // The same race with ExitRegistry.Exit(5), which knows its caller: exact, and never waits for the caller. When main
    // wins, the sequence already runs when the worker calls Exit: the code is claimed and the worker ends.
    [Scenario("race-exit-vs-main")]
    public static int ExitVersusMainReturning() => ExitRegistry.RunMain(() =>
    {
        ExitRegistry.JoinTimeout = TimeSpan.FromSeconds(2);
        PrintExitCodeAtProcessExit();
        using var barrier = new Barrier(2);
        new DaemonThread(() =>
        {
            barrier.SignalAndWait();
            ExitRegistry.Exit(5);
        }, name: "caller").Start();
        barrier.SignalAndWait();
        return 0;
    });

    // ExitRegistry.Exit(3) and ExitRegistry.Exit(4) from two non-daemon threads released by one barrier. Each prints
    // "claim N" right before its call. A caller that finds the sequence already running (started by the other) ends with
    // ThreadExitException, whose message names the process's code ("the process exits with code N"), printed as
    // "ended N: <message>"; measured: that is usually the losing claim, but about 1 run in 600 the winner (it claimed
    // first, the other started the sequence before it looked). The report handler prints the trigger, and the
    // ProcessExit handler the code: all must agree with the process's exit code.
    [Scenario("race-two-exits")]
    public static int TwoExits()
    {
        ExitRegistry.JoinTimeout = TimeSpan.FromSeconds(5);
        ExitRegistry.ReportHandler = report => Out.Line($"report trigger={report.Trigger} timedout={report.TimedOut.Count}");
        PrintExitCodeAtProcessExit();
        var barrier = new Barrier(2);
        foreach (int code in new[] { 3, 4 })
        {
            new DaemonThread(() =>
            {
                barrier.SignalAndWait();
                Out.Line("claim " + code);
                try
                {
                    ExitRegistry.Exit(code);
                }
                catch (ThreadExitException ex)
                {
                    Out.Line($"ended {code}: {ex.Message}");
                    throw;
                }
            }, name: "exit" + code).Start();
        }

        ExitPathScenarios.WaitForEver();
        return 0;
    }

    // SIGTERM while RunMain's main loops on its token: the parent sends it as soon as it reads READY. Main returns 0 once
    // the token is cancelled, but the signal claimed 143 first.
    [Scenario("race-signal-runmain")]
    public static int SignalDuringRunMain() => ExitRegistry.RunMain(token =>
    {
        PrintExitCodeAtProcessExit();
        var worker = new DaemonThread(() =>
        {
            token.WaitHandle.WaitOne();
            Out.Line("worker done");
        }, name: "worker");
        worker.Start();
        Out.Ready();
        while (!token.IsCancellationRequested)
        {
            // A unit of simulated work between two looks at the token, as a real main loop does.
            Thread.SpinWait(2000);
        }

        Out.Line("main saw the token");
        return 0;
    });

    /// <summary>Prints <c>exitcode N</c> from an application ProcessExit handler that runs after the library's.</summary>
    private static void PrintExitCodeAtProcessExit()
    {
        // Any use installs the library's handler first (RunMain and JoinTimeout already did); this one is for clarity.
        _ = ExitRegistry.Trigger;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Out.Line("exitcode " + Environment.ExitCode);
    }
}
