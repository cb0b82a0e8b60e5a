using DaemonThreads.Tests.Infrastructure;
using static DaemonThreads.Tests.Infrastructure.ExitAssertions;

namespace DaemonThreads.Tests;

/// <summary>SPEC §3.1, one test per row and caller: who is joined, which hooks run, and the exit code.</summary>
/// <remarks>
/// The scenarios share a cast (ExitPathScenarios.Cast): a non-daemon "worker" released by a before-join hook, so the
/// marker order is fixed by events; a daemon "heartbeat" that never ends; an at-exit hook.
/// </remarks>
public class ExitPathTests
{
    [Fact]
    public async Task RunMain_Returns_RunsBeforeJoinHooksJoinsWorkerRunsAtExitHooksAndExitsWithMainsCode()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("runmain-returns");

        result.ExitCode.Should().Be(5, "RunMain returns main's result");
        result.Stdout.Should().Equal(["main end", "before-join", "worker done", "atexit"], "SPEC §3.2 steps 2, 3 and 5 in order");
        result.StderrLines().Should().Equal([Abandoned("heartbeat")], "the daemon is abandoned and named, nothing else is written");
        result.Elapsed.Should().BeLessThan(Prompt, "the worker's simulated work is 0.3 s");
    }

    [Fact]
    public async Task RunMain_Throws_PrintsExceptionFirstThenJoinsWorkerAndExitsWithOne()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("runmain-throws");

        result.ExitCode.Should().Be(1, "an exception escaping main gives 1, as in Python");
        result.Stdout.Should().Equal(["main end", "before-join", "worker done", "atexit"], "non-daemon threads still finish when main throws");
        string[] stderr = result.StderrLines();
        int exception = Array.FindIndex(stderr, l => l.StartsWith("Unhandled exception. System.InvalidOperationException: main failed on purpose", StringComparison.Ordinal));
        exception.Should().BeGreaterThanOrEqualTo(0, "the exception is printed");
        Array.IndexOf(stderr, "worker done").Should().BeGreaterThan(exception, "the exception is printed before the wait, as Python prints the traceback first");
        stderr[^1].Should().Be(Abandoned("heartbeat"));
        result.Elapsed.Should().BeLessThan(Prompt, "the worker's simulated work is 0.3 s");
    }

    [Fact]
    public async Task Exit_FromMainThread_JoinsNonDaemonThreadsRunsHooksAndExitsWithCode()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("exit-from-main");

        result.ExitCode.Should().Be(7);
        result.Stdout.Should().Equal(["main exiting", "before-join", "worker done", "atexit"], "Exit does not return to main");
        result.StderrLines().Should().Equal([Abandoned("heartbeat")]);
        result.Elapsed.Should().BeLessThan(Prompt, "the worker's simulated work is 0.3 s");
    }

    [Fact]
    public async Task Exit_FromWorker_JoinsOtherNonDaemonThreadsButNeverTheCaller()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("exit-from-worker");

        result.ExitCode.Should().Be(9);
        result.Stdout.Should().Equal(["caller exiting", "before-join", "worker done", "atexit"], "the other worker is joined; the caller is not (that would never end)");
        result.StderrLines().Should().Equal([Abandoned("heartbeat")], "the caller is not reported as timed out: it was never waited for");
        result.Elapsed.Should().BeLessThan(Prompt, "joining the caller would hang until the 30 s ceiling");
    }

    [Fact]
    public async Task Exit_FromDaemonThreadWithGracePeriod_DoesNotSpendTheGracePeriodWaitingForTheCaller()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("exit-from-daemon-grace");

        result.ExitCode.Should().Be(10);
        result.Stdout.Should().HaveCount(5);
        result.Stdout.Take(2).Should().Equal(["caller exiting", "before-join"]);
        result.Stdout.Skip(2).Take(2).Should().BeEquivalentTo(["worker done", "daemon flushed"], "both are released by the same hook");
        result.Stdout[^1].Should().Be("atexit");
        result.StderrLines().Should().Equal([Abandoned("caller")], "the caller is still inside Exit at the point of no return");

        // The grace period is 30 s; once the flusher is done only the caller is left, and waiting for the caller
        // would spend all 30 s. The work is 0.6 s, so 20 s tells the two apart on a loaded machine.
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task EnvironmentExit_FromMainThread_JoinsNonDaemonThreadsRunsHooksAndExitsWithCode()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("env-exit-main");

        result.ExitCode.Should().Be(11);
        result.Stdout.Should().Equal(["main exiting", "before-join", "worker done", "atexit"], "the sequence runs from ProcessExit");
        result.StderrLines().Should().Equal([Abandoned("heartbeat")]);
        result.Elapsed.Should().BeLessThan(Prompt, "the main thread is not a joined thread, so nothing waits for it");
    }

    [Fact]
    public async Task EnvironmentExit_FromDaemonThread_JoinsNonDaemonThreadsAndDoesNotDeadlock()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("env-exit-daemon");

        result.ExitCode.Should().Be(12);
        result.Stdout.Should().Equal(["caller exiting", "before-join", "worker done", "atexit"]);
        result.StderrLines().Should().Equal([Abandoned("heartbeat", "caller")], "the blocked daemon caller is abandoned like any daemon thread");
        result.Elapsed.Should().BeLessThan(Prompt, "a daemon caller is never waited for");
    }

    [Fact]
    public async Task EnvironmentExit_FromNonDaemonThread_JoinsTheOtherWorkerThenGivesUpOnTheCallerAfterThirtySeconds()
    {
        using ScenarioProcess process = ScenarioProcess.Start("env-exit-nondaemon");

        // By design (ExitRegistry.EnvironmentExitLastThreadTimeout): the blocked caller cannot be identified, so the
        // last non-daemon thread gets 30 s. Ceiling 90 s: 30 s of design plus generous start-up on a loaded machine.
        ScenarioResult result = await process.WaitForExitAsync(TimeSpan.FromSeconds(90));

        result.ExitCode.Should().Be(13);
        result.Stdout.Should().Equal(["caller exiting", "before-join", "worker done", "atexit"], "the other worker is joined in full before the bounded wait");
        result.StderrLines().Should().Equal([TimedOut("caller"), Abandoned("heartbeat")], "the caller is the last non-daemon thread; the bounded wait names it");
        result.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(29), "the last thread gets the full 30 s when JoinTimeout is infinite");
        result.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60), "30 s of design, plus start-up and the worker's 0.3 s; more means a deadlock");
    }

    [Fact]
    public async Task MainReturns_WithoutRunMain_RuntimeWaitsForWorkerThenHooksRunLate()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("main-returns");

        result.ExitCode.Should().Be(4, "Main's return value");
        result.Stdout.Should().Equal(["main end", "worker done", "before-join", "atexit"], "the runtime waits for foreground threads before ProcessExit, so before-join hooks run late (documented)");
        result.StderrLines().Should().Equal([Abandoned("heartbeat")]);
        result.Elapsed.Should().BeLessThan(Prompt, "the worker's simulated work is 0.3 s");
    }
}
