using DaemonThreads.Tests.Infrastructure;
using static DaemonThreads.Tests.Infrastructure.ExitAssertions;

namespace DaemonThreads.Tests;

/// <summary>No hang the user did not choose; hooks; Shutdown() from awkward places; threads started during shutdown.</summary>
public class ShutdownHookTests
{
    [Fact]
    public async Task JoinTimeout_ThreeStuckThreads_BoundsTheWholeJoinStepAsOneDeadline()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("join-timeout");

        result.ExitCode.Should().Be(0);
        result.Stdout[0].Should().Be("quick done");
        result.Stdout[1].Should().Be("timed out: stuck1,stuck2,stuck3", "ShutdownReport.TimedOut names every thread still running");
        int elapsedMs = int.Parse(result.Stdout[2]["elapsed ms: ".Length..], System.Globalization.CultureInfo.InvariantCulture);

        // One 2 s deadline for the step: at least 2 s, and well below the 6 s that three per-thread timeouts would take
        // (4 s leaves 2 s for a loaded machine).
        elapsedMs.Should().BeInRange(1900, 4000);
        result.StderrLines().Should().ContainSingle().Which.Should().StartWith("DaemonThreads: shutdown stopped waiting for 3 non-daemon thread(s), abandoned: ")
            .And.Contain("stuck1").And.Contain("stuck2").And.Contain("stuck3");
        result.Elapsed.Should().BeLessThan(Prompt, "the timed-out threads were made background, so the runtime does not wait for them after Main returns");
    }

    [Fact]
    public async Task Hooks_ThatThrow_AreReportedAndTheOthersStillRunAndTheJoinStillHappens()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("hooks-throw");

        result.ExitCode.Should().Be(0, "Exit from a hook is refused, so the exit code stays the path's own (CPython B8 #88: SystemExit in a callback)");

        // CPython B9 #1 (A5.3): a raising _register_atexit callback abandons every non-daemon thread; SPEC §4: we join.
        result.Stdout.Should().Equal(["before-join b", "before-join a", "worker done", "atexit z", "atexit y", "atexit x", "hook errors: InvalidOperationException,InvalidOperationException,InvalidOperationException"]);
        result.Stderr.Should().Contain("Exception ignored in before-join hook").And.Contain("before-join hook failed on purpose");
        result.Stderr.Should().Contain("Exception ignored in at-exit hook").And.Contain("at-exit hook failed on purpose");
        result.Stderr.Should().Contain("cannot exit from inside a shutdown hook");
        result.Elapsed.Should().BeLessThan(Prompt, "the worker's simulated work is 0.2 s");
    }

    [Fact]
    public async Task Shutdown_FromNonDaemonThread_ReturnsWithoutWaitingForTheCaller()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("shutdown-from-nondaemon");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["worker done", "shutdown returned, joined: worker"], "the worker is joined, the caller is not");
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt, "waiting for the caller would hang until the ceiling");
    }

    [Fact]
    public async Task Shutdown_FromHook_ReturnsProvisionalReport()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("shutdown-from-hook");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["before-join sees complete=False", "at-exit sees complete=False", "main sees complete=True"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt, "a hook waiting for its own sequence would deadlock");
    }

    [Fact]
    public async Task Shutdown_ConcurrentFromSeveralThreads_RunsEachHookOnceAndReturnsOneReport()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("shutdown-concurrent");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["before-join ran 1", "at-exit ran 1", "same report True"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt, "each caller is exempt from the join, so no caller waits for another");
    }

    [Fact]
    public async Task StartDuringShutdown_BeforePointOfNoReturnJoined_AfterRefused_JoinOfAbandonedDaemonThrows()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("start-during-shutdown");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().HaveCount(8);

        // The three joined threads finish in an order set by their simulated work; all before the report.
        result.Stdout.Take(4).Should().BeEquivalentTo(["from-before-join OK", "thread2 OK", "24", "42"], "threads started by a before-join hook, by a thread during the join (CPython B2 #48) and by an at-exit hook (B8 #90) are joined");
        result.Stdout.ToList().IndexOf("24").Should().BeLessThan(result.Stdout.ToList().IndexOf("42"));
        result.Stdout[3].Should().Be("42", "the at-exit hook's thread starts last and is joined before the report");
        result.Stdout[4].Should().Be("timed out: 0");

        // CPython B1 #36 test_start_new_thread_at_finalization.
        result.Stdout[5].Should().StartWith("start refused: can't create new thread at interpreter shutdown");

        // CPython B1 #37 test_join_daemon_thread_in_finalization and #38 test_join_finished_daemon_thread_in_finalization.
        result.Stdout[6].Should().StartWith("join refused: cannot join thread at interpreter shutdown").And.EndWith("alive=True");
        result.Stdout[7].Should().Be("all clear!", "joining a daemon that already finished still works");
        result.Stdout.Should().NotContain("must not run");
        result.StderrLines().Should().Equal([Abandoned("busy")]);
        result.Elapsed.Should().BeLessThan(Prompt, "the simulated work adds up to about 1.5 s");
    }

    [Fact]
    public async Task Register_FromInsideTheRun_IsRefusedAndTheLateHookNeverRuns()
    {
        // CPython B6 #77 AtexitTests.test_atexit_after_shutdown; B9 #7 (a callback registered during the run never runs).
        ScenarioResult result = await ScenarioProcess.RunAsync("register-after-shutdown");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["before-join", "atexit"]);
        result.Stderr.Should().Contain("InvalidOperationException: can't register atexit after shutdown");
        result.StderrLines().Count(l => l.StartsWith("Exception ignored in", StringComparison.Ordinal)).Should().Be(2, "both refusals are reported as hook failures");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task BeforeJoinHook_Output_IsPrintedAndStderrIsEmpty()
    {
        // CPython B6 #75 AtexitTests.test_atexit_output.
        ScenarioResult result = await ScenarioProcess.RunAsync("before-join-output");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["parrot"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task BeforeJoinHook_ShutdownThenProcessExit_RunsOnce()
    {
        // CPython B6 #76 AtexitTests.test_atexit_called_once.
        ScenarioResult result = await ScenarioProcess.RunAsync("before-join-called-once");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["hook"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task AtExitHooks_RunNewestFirst()
    {
        // CPython B8 #85 test_atexit FunctionalTest.test_shutdown.
        ScenarioResult result = await ScenarioProcess.RunAsync("atexit-order");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["two", "one"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task AtExitHook_SignalsAndJoinsDaemon_DaemonsFinallyRuns()
    {
        // CPython B9 #4 (A5.4): daemon threads still run during at-exit hooks, and a hook can stop and join one.
        ScenarioResult result = await ScenarioProcess.RunAsync("atexit-joins-daemon");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["daemon finally", "atexit joined daemon"]);
        result.Stderr.Should().BeEmpty("the daemon ended inside the hook, so nothing is abandoned");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task NonDaemonTimer_DelaysExitUntilItFires()
    {
        // CPython B9 #6 (A10): a non-daemon Timer is a non-daemon thread.
        ScenarioResult result = await ScenarioProcess.RunAsync("timer", "fire");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["timer fired", "atexit"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(1), "the exit waits for the 1 s timer");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task NonDaemonTimer_CancelledFromBeforeJoinHook_DoesNotDelayExit()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("timer", "cancel");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["atexit"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt, "the timer's interval is 60 s; cancelling it ends the wait at once");
    }
}
