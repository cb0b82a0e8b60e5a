using DaemonThreads.Tests.Infrastructure;
using static DaemonThreads.Tests.Infrastructure.ExitAssertions;

namespace DaemonThreads.Tests;

/// <summary>
/// Issue 9: the exit promise under composition. Each test ran into a hang (killed at the ceiling) or a wrong exit code on
/// the main before the exit sequence became one state machine over one wait primitive.
/// </summary>
public class CompositionExitTests
{
    [Fact]
    public async Task ReportHandler_CallingExit_SetsTheExitCodeInsteadOfHanging()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("report-handler-exits");

        result.ExitCode.Should().Be(1, "the report handler chose 1 because a thread timed out; RunMain's own 0 is only a fallback");
        result.Stdout.Should().Equal(["report timed out 1"]);
        result.Elapsed.Should().BeLessThan(Prompt, "the handler used to wait on itself for ever");
    }

    [Theory]
    [InlineData("idle")]
    [InlineData("hook")]
    public async Task MeterListener_CallingExitAndShutdownAndThrowingAtExit_KeepsTheCodeAndDoesNotHang(string sequence)
    {
        // The listener's measurement callback runs on the thread running the exit (the shutdown duration). It used to be
        // classified as an outside caller there: Exit waited for the sequence that was waiting for it, for ever (found
        // with the NativeAOT build, where the exit also creates the meter there).
        ScenarioResult result = await ScenarioProcess.RunAsync("meter-callback-exit", sequence);

        result.ExitCode.Should().Be(7, "RunMain's code stands: Exit from a listener at exit is refused as from a hook, and the listener's exception is dropped");
        string[] expected = sequence == "hook"
            ? ["atexit", "Exit from the listener: InvalidOperationException", "Shutdown from the listener: RunMain", "RunMain returned 7"]
            : ["Exit from the listener: InvalidOperationException", "Shutdown from the listener: RunMain", "RunMain returned 7"];
        result.Stdout.Should().Equal(expected);
        result.Elapsed.Should().BeLessThan(Prompt, "the callback's Exit used to wait on the sequence for ever");
    }

    [Theory]
    [InlineData("idle")]
    [InlineData("hook")]
    public async Task MeterListener_BlockingAtExit_IsAbandonedAtTheFiniteJoinTimeout(string sequence)
    {
        // The listener's callback is user code the exit runs, like a hook: JoinTimeout bounds it. It used to run inline on
        // the thread running the sequence, which then waited for ever whatever the bound.
        ScenarioResult result = await ScenarioProcess.RunAsync("meter-callback-exit", sequence, "block", "300");

        result.ExitCode.Should().Be(7, "RunMain's code stands");
        string[] expected = sequence == "hook" ? ["atexit", "stuck", "RunMain returned 7"] : ["stuck", "RunMain returned 7"];
        result.Stdout.Should().Equal(expected);
        result.Stderr.Should().Contain("DaemonThreads: a MeterListener callback at exit did not return within its bound and was abandoned");
        result.Elapsed.Should().BeLessThan(Prompt, "JoinTimeout (0.3 s) bounds the callback");
    }

    [Fact]
    public async Task MeterListener_BlockingAtExit_IsAbandonedByASecondSignal()
    {
        // JoinTimeout infinite: the second signal is the way out of every step, this one too (it used to be ignored: the
        // sequence's thread itself was stuck in the callback, so no wait was there to end).
        using ScenarioProcess process = ScenarioProcess.Start("meter-callback-exit", "hook", "block");
        await process.WaitForLineAsync("stuck");

        // Two signals sent back to back can merge into one, so the second is repeated until the process ends.
        process.Signal(15);
        ScenarioResult result = await process.SignalUntilExitAsync(15, TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(143, "a second signal abandons and forces 128 + n");
        result.Stderr.Should().Contain("DaemonThreads: a MeterListener callback at exit did not return within its bound and was abandoned");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task ReportHandler_CallingShutdown_GetsTheReportBeingPublished()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("report-handler-shutdown");

        result.ExitCode.Should().Be(4);
        result.Stdout.Should().Equal(["atexit", "same report True"]);
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task HookJoiningAWorker_ThatCallsShutdown_GetsAnAnswerAtOnce()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("hook-joins-worker", "shutdown");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["worker got a report, complete False", "hook joined the worker", "atexit"], "a joined worker never waits for the sequence that waits for it");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task HookJoiningAWorker_ThatCallsExit_ClaimsTheCodeAndEndsTheWorker()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("hook-joins-worker", "exit");

        result.ExitCode.Should().Be(8, "the worker's Exit is the first claim; RunMain's 0 is the fallback");
        result.Stdout.Should().Equal(["worker unwound", "hook joined the worker", "atexit"], "Exit during the exit ends the calling body, as SystemExit ends a thread");
        result.Stderr.Should().BeEmpty("the default exception hook ignores ThreadExitException");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task ExitFromAnApplicationProcessExitHandler_RegisteredBeforeTheLibrary_ExitsWithItsCode()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("app-processexit-exits");

        result.ExitCode.Should().Be(11);
        result.Stdout.Should().Equal(["worker done", "app handler", "atexit", "app handler returned"], "inside ProcessExit, Exit runs the sequence, sets the code and returns (Environment.Exit there deadlocks)");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Theory]
    [InlineData(15, 143)]
    [InlineData(2, 130)]
    public async Task Signal_AfterTheSequenceFinished_TakesItsDefaultAction(int signal, int exitCode)
    {
        using ScenarioProcess process = ScenarioProcess.Start("signal-after-runmain");
        await process.WaitForLineAsync("READY");

        process.Signal(signal);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(exitCode, "the signal must end the lingering process, as in raw .NET; it used to be swallowed");
    }

    [Theory]
    [InlineData("before-join")]
    [InlineData("at-exit")]
    [InlineData("token")]
    [InlineData("report")]
    public async Task SecondSignal_EndsAStepStuckInUserCode(string where)
    {
        using ScenarioProcess process = ScenarioProcess.Start("stuck-user-code", where);
        await process.WaitForLineAsync("stuck");

        // Two signals sent back to back can merge into one (POSIX signals do not queue), so the second is repeated until
        // the process ends; every signal after the first is a stop request.
        process.Signal(15);
        ScenarioResult result = await process.SignalUntilExitAsync(15, TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(143, "a second signal abandons and forces 128 + n");
        if (where != "report")
        {
            result.Stderr.Should().Contain("DaemonThreads: shutdown abandoned 1 hook(s) still running", "the abandoned step is named");
        }

        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Theory]
    [InlineData("before-join")]
    [InlineData("at-exit")]
    [InlineData("token")]
    public async Task FiniteJoinTimeout_EndsAStepStuckInUserCode(string where)
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("stuck-user-code", where, "300");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Contain("stuck");
        result.Stderr.Should().Contain("DaemonThreads: shutdown abandoned 1 hook(s) still running");
        result.Elapsed.Should().BeLessThan(Prompt, "JoinTimeout (0.3 s) bounds each step that runs user code");
    }

    [Theory]
    [InlineData(2, 130)]
    [InlineData(15, 143)]
    public async Task Signal_UnderRunMain_MainUnwindsBeforeTheAtExitHook(int signal, int exitCode)
    {
        using ScenarioProcess process = ScenarioProcess.Start("signal-runmain-unwinds");
        await process.WaitForLineAsync("READY");

        process.Signal(signal);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(exitCode);
        result.Stdout.Should().HaveCount(3);
        result.Stdout[1].Should().StartWith("finally ", "main's finally runs before the hooks (CPython's KeyboardInterrupt)");
        string count = result.Stdout[1]["finally ".Length..];
        result.Stdout[2].Should().Be("hook saved " + count, "the hook sees every item main added: main stopped before it ran");
    }

    [Fact]
    public async Task Signal_UnderAsyncRunMain_CancelsTheTokenAndMainUnwinds()
    {
        using ScenarioProcess process = ScenarioProcess.Start("signal-runmain-async");
        await process.WaitForLineAsync("READY");

        process.Signal(2);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(130);
        result.Stdout.Should().Equal(["READY", "finally", "atexit"]);
        result.Stderr.Should().BeEmpty("a cancellation of main's own token is a normal return");
    }

    [Fact]
    public async Task Signal_UnderRunMain_MainThatIgnoresTheToken_IsWaitedForUntilJoinTimeoutThenNamed()
    {
        using ScenarioProcess process = ScenarioProcess.Start("signal-runmain-ignores-token");
        await process.WaitForLineAsync("READY");

        process.Signal(15);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(143);
        result.Stdout.Should().Equal(["READY", "atexit"]);
        result.Stderr.Should().Contain("DaemonThreads: shutdown stopped waiting for the main program: MainThread");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task Shutdown_WithAnUndefinedTrigger_IsRefusedAndTheSequenceHasNotBegun()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("shutdown-bad-trigger");

        result.ExitCode.Should().Be(5);
        result.Stdout.Should().Equal(["refused ArgumentOutOfRangeException", "atexit"]);
    }

    [Fact]
    public async Task InterruptingTheThreadThatRunsTheSequence_NeitherCrashesNorLosesTheWorker()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("interrupt-runner");

        result.ExitCode.Should().Be(0, "the interrupt used to escape as ThreadInterruptedException and crash with 134");
        result.Stdout.Should().Equal(["worker done", "atexit"]);
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task Hooks_ReadTheTriggerAndTheSignalNumber()
    {
        using ScenarioProcess process = ScenarioProcess.Start("hook-reads-trigger");
        await process.WaitForLineAsync("READY");

        process.Signal(15);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(143);
        result.Stdout.Should().Equal(["before none", "READY", "trigger SigTerm signal 15"]);
    }

    [Fact]
    public async Task ExitFromPoolCodeOwnedByANonDaemonThread_DoesNotExemptThatThread()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("pool-exit-from-owned-task");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().HaveCount(100, "the writer keeps running, so it is joined: every record is written");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task WindowsConsoleRule_Simulated_HandlerReturnsOnlyAfterTheSequenceAndTheCodeIsOurs()
    {
        using ScenarioProcess process = ScenarioProcess.Start("windows-console-signal", new Dictionary<string, string> { ["DAEMONTHREADS_SIMULATE_WINDOWS_CONSOLE"] = "20000" });
        await process.WaitForLineAsync("READY");

        process.Signal(15);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(143, "the simulation ends the process (FailFast, 134) as soon as the handler returns; 143 shows the sequence's own exit came first");
        result.Stdout.Should().Equal(["READY", "before-join", "worker done", "atexit"]);
    }

    [Fact]
    public async Task WindowsConsoleRule_Simulated_AllowanceSpent_TheOsEndsTheProcess()
    {
        using ScenarioProcess process = ScenarioProcess.Start("windows-console-signal", new Dictionary<string, string> { ["DAEMONTHREADS_SIMULATE_WINDOWS_CONSOLE"] = "1500" }, "20000");
        await process.WaitForLineAsync("READY");

        process.Signal(15);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().NotBe(143, "a hook longer than the OS's allowance: the handler returns and the (simulated) OS ends the process");
        result.Stdout.Should().NotContain("atexit");
        result.Elapsed.Should().BeLessThan(Prompt, "the handler waits at most the allowance");
    }
}

/// <summary>Issue 9 #2 and #3: Environment.Exit while another path runs, or from two threads. 30 s by design each; classes of their own so that they run in parallel.</summary>
public class EnvironmentExitFromJoinedThreadTests
{
    [Fact]
    public async Task EnvironmentExit_FromAThreadRunMainIsJoining_EndsAfterTheQuietPeriodWithItsCode()
    {
        using ScenarioProcess process = ScenarioProcess.Start("envexit-from-joined-thread");

        // 30 s quiet period by design (the blocked caller cannot be identified); 90 s ceiling for a loaded machine.
        ScenarioResult result = await process.WaitForExitAsync(TimeSpan.FromSeconds(90));

        result.ExitCode.Should().Be(6, "Environment.Exit's code is the first claim; RunMain's 0 is only a fallback");
        result.Stdout.Should().Equal(["caller exiting", "atexit"]);
        result.StderrLines().Should().Equal([TimedOut("caller")], "the caller sits in a wait with nothing else left, so it is given up on and named");
        result.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), "it used to hang for ever");
    }
}

/// <summary>Issue 9 #3.</summary>
public class EnvironmentExitFromTwoThreadsTests
{
    [Fact]
    public async Task EnvironmentExit_FromTwoThreadsAtOnce_EndsAfterTheQuietPeriodWithOneOfTheCodes()
    {
        using ScenarioProcess process = ScenarioProcess.Start("envexit-two-threads");

        ScenarioResult result = await process.WaitForExitAsync(TimeSpan.FromSeconds(90));

        result.ExitCode.Should().BeOneOf(3, 4);
        result.Stderr.Should().Contain("DaemonThreads: shutdown stopped waiting for 2 non-daemon thread(s)", "both callers are blocked for good and named");
        result.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), "the 'all but one' wait used to never end");
    }
}

/// <summary>Issue 10: async main and tracked tasks on the exit paths.</summary>
public class AsyncMainAndTrackedTaskExitTests
{
    [Fact]
    public async Task RunMain_WithAnAsyncLambda_RunsItToTheEndAndJoinsWhatItStarted()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("runmain-async");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["after await", "thread after await done, daemon False", "atexit"], "an async lambda binds to Func<Task>, never async void");
    }

    [Fact]
    public async Task RunMain_WithAnAsyncLambdaReturningInt_ExitsWithIt()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("runmain-async-int");

        result.ExitCode.Should().Be(7);
    }

    [Fact]
    public async Task RunMain_WithAFaultedAsyncMain_PrintsTheExceptionAndExits1()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("runmain-async-throws");

        result.ExitCode.Should().Be(1);
        result.Stderr.Should().Contain("Unhandled exception. System.InvalidOperationException: async main failed on purpose");
    }

    [Fact]
    public async Task RunMain_AsyncMainCallingExit_ExitsWithTheCode()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("runmain-async-exit");

        result.ExitCode.Should().Be(9);
        result.Stdout.Should().Equal(["atexit"]);
    }

    [Fact]
    public async Task Track_MainReturnsWithoutRunMain_TheTaskFinishesBeforeTheHooks()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("track-main-returns");

        result.ExitCode.Should().Be(3);
        result.Stdout.Should().Equal(["task done", "atexit"]);
    }

    [Fact]
    public async Task Track_UnderRunMain_TheTaskIsJoined()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("track-runmain");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["task done", "atexit"]);
    }

    [Fact]
    public async Task Track_TaskStillRunningAtTheDeadline_IsNamedInTheReport()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("track-timeout");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["unfinished Task stuck-task"]);
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task Track_TaskStillRunningAtTheDeadline_IsNamedOnStderr()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("track-timeout-stderr");

        result.StderrLines().Should().Equal(["DaemonThreads: shutdown stopped waiting for 1 tracked task(s), abandoned: stuck-task"]);
    }

    [Fact]
    public async Task Track_OnSigterm_TheTaskFinishesThenTheProcessExits143()
    {
        using ScenarioProcess process = ScenarioProcess.Start("track-signal");
        await process.WaitForLineAsync("READY");

        process.Signal(15);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(143);
        result.Stdout.Should().Equal(["READY", "task done", "atexit"]);
    }
}

/// <summary>Issue 9, deliver 9: a process that is PID 1 (a container without an init) keeps SIGTERM's graceful exit.</summary>
public class Pid1ExitTests
{
    [Fact]
    public async Task Sigterm_ToAProcessThatIsPid1_RunsTheWholeSequenceAndExits143()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root" || !File.Exists("/usr/bin/unshare"))
        {
            // A new PID namespace needs root and util-linux's unshare; CI runs as root on Linux, so there the test runs.
            Assert.Fail("needs root and /usr/bin/unshare to make the scenario PID 1 (CI has both)");
        }

        using ScenarioProcess process = ScenarioProcess.StartAsPid1("signal");
        await process.WaitForLineAsync("READY");

        process.SignalGrandchild(15);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(143, "the library's handler makes SIGTERM graceful even for PID 1, which the kernel never kills by default");
        result.Stdout.Should().Equal(["READY", "before-join", "worker done", "atexit"]);
    }
}

/// <summary>Issue 9 #8, by repetition: every start that succeeds during the exit is joined; none is killed mid-work.</summary>
public class StartRaceExitTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task StartsDuringTheExit_EverySuccessfulStartIsJoined_Repeated()
    {
        const int Runs = 20;
        int refusedRuns = 0;
        for (int batch = 0; batch < Runs / 2; batch++)
        {
            ScenarioResult[] results = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
            {
                using ScenarioProcess process = ScenarioProcess.Start("start-race");
                await process.WaitForLineAsync("READY");
                process.Signal(15);
                return await process.WaitForExitAsync(TestTimeouts.Unexpected);
            }));

            foreach (ScenarioResult result in results)
            {
                result.ExitCode.Should().Be(143);
                var started = result.Stdout.Where(l => l.StartsWith("started ", StringComparison.Ordinal)).Select(l => l[8..]).ToHashSet();
                var done = result.Stdout.Where(l => l.StartsWith("done ", StringComparison.Ordinal)).Select(l => l[5..]).ToHashSet();
                started.Should().BeSubsetOf(done, "a writer whose Start() succeeded is joined before the process exits");
                result.Stderr.Should().NotContain("stopped waiting", "JoinTimeout is infinite: nothing may be declared timed out");
                refusedRuns += result.Stdout.Any(l => l.StartsWith("refused ", StringComparison.Ordinal)) ? 1 : 0;
            }
        }

        output.WriteLine($"{Runs} runs, all joined; {refusedRuns} runs had a start refused after the point of no return");
    }
}
