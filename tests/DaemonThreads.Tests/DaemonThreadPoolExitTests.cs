using DaemonThreads.Tests.Infrastructure;
using static DaemonThreads.Tests.Infrastructure.ExitAssertions;

namespace DaemonThreads.Tests;

/// <summary>SPEC 6.2 at exit, in child processes (PoolScenarios): a pool's queued work on every exit path.</summary>
/// <remarks>
/// The scenarios' pool has one worker, so its items run in order; item 0 waits until a before-join hook releases it,
/// so every item is still pending when the exit begins.
/// </remarks>
public class DaemonThreadPoolExitTests
{
    private static readonly string[] s_items = ["item 0", "item 1", "item 2", "item 3", "item 4"];

    // Ports test_shutdown.ExecutorShutdownTest.test_interpreter_shutdown
    [Fact]
    public async Task MainReturnsWithoutRunMain_QueuedItemsAllRunAndIdleWorkersDoNotHoldTheProcess()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("pool-main-returns");

        result.ExitCode.Should().Be(4, "Main's return value is the exit code");
        result.Stdout.Should().Equal(["idle item", "main end", "before-join", .. s_items, "atexit"], "every queued item runs before the at-exit hooks, even without RunMain");
        result.Stderr.Should().BeEmpty("nothing was abandoned");
        result.Elapsed.Should().BeLessThan(Prompt, "an idle worker holding the process would reach the 30 s ceiling instead");
    }

    [Fact]
    public async Task RunMainReturns_QueuedItemsRunBeforeTheAtExitHooks()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("pool-runmain");

        result.ExitCode.Should().Be(5);
        result.Stdout.Should().Equal(["main end", "before-join", .. s_items, "atexit"], "the join step waits for the pool's workers, which drain the queue first");
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt, "the items' simulated work is 0.2 s");
    }

    [Fact]
    public async Task Exit_WithPendingItems_RunsThemAndExitsWithTheCode()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("pool-exit");

        result.ExitCode.Should().Be(7);
        result.Stdout.Should().Equal(["main exiting", "before-join", .. s_items, "atexit"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt, "the items' simulated work is 0.2 s");
    }

    [Fact]
    public async Task SigTerm_DuringPendingWork_ItemsCompleteAndTheProcessExitsWith143()
    {
        using ScenarioProcess process = ScenarioProcess.Start("pool-sigterm");
        await process.WaitForLineAsync("READY");

        process.Signal(15);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(143, "128 + SIGTERM");
        result.Stdout.Should().Equal(["READY", "before-join", .. s_items, "atexit"], "the signal runs the whole sequence, and the pool's queue is non-daemon work");
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt, "the items' simulated work is 0.2 s");
    }

    [Fact]
    public async Task JoinTimeoutPasses_ItemsNotStartedAreCancelledAndReportedWithThePoolsPrefixAndCount()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("pool-join-timeout");

        result.ExitCode.Should().Be(3, "RunMain's code; a timed-out join does not change it");
        result.Stdout.Should().Equal(
            ["item 0 started", "main end", "atexit", "unfinished: Thread slow_0", "unfinished: PoolItems slow (9)", "cancelled 9"],
            "the stuck worker is named, and the nine items queued behind it never ran: they are counted under the pool's prefix and their tasks are cancelled");
        result.Stderr.Should().BeEmpty("the report went to ExitRegistry.ReportHandler");
        result.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(500), "the join waits for the 0.5 s JoinTimeout");
        result.Elapsed.Should().BeLessThan(Prompt, "the wait is bounded by the 0.5 s JoinTimeout; an unbounded one would reach the 30 s ceiling");
    }

    [Fact]
    public async Task DaemonPool_IsAbandonedAndItsQueuedItemsAreReported()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("pool-daemon");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(
            ["main end", "atexit", "unfinished: DaemonThread daemonpool_0", "unfinished: PoolItems daemonpool (3)", "cancelled 3"],
            "a daemon pool is never waited for: its queue is reported and cancelled, its stuck worker abandoned");
        result.Stderr.Should().BeEmpty("the report went to ExitRegistry.ReportHandler");
        result.Elapsed.Should().BeLessThan(Prompt, "waiting for the stuck daemon worker would reach the 30 s ceiling");
    }

    [Fact]
    public async Task DaemonPool_DefaultReport_NamesTheAbandonedWorkerOnStderr()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("pool-daemon", "stderr");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["main end", "atexit"]);
        result.StderrLines().Should().Equal(
            ["DaemonThreads: shutdown cancelled 3 queued pool item(s) that never started: daemonpool (3)", Abandoned("daemonpool_0")],
            "the core's stderr report names the pool's dropped items and the abandoned worker");
        result.Elapsed.Should().BeLessThan(Prompt, "waiting for the stuck daemon worker would reach the 30 s ceiling");
    }

    // Ports test_shutdown.ExecutorShutdownTest.test_submit_after_interpreter_shutdown
    [Fact]
    public async Task Submit_FromAnAtExitHook_ThrowsAfterInterpreterShutdown()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("pool-submit-at-exit");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().ContainSingle().Which.Should().StartWith("refused: cannot schedule new futures after interpreter shutdown");
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    // Ports test_shutdown.ExecutorShutdownTest.test_hang_gh83386
    [Fact]
    public async Task ShutdownWithoutWait_ThenMainReturns_TheRunningItemFinishesAndTheProcessExits()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("pool-shutdown-nowait");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["apple"], "the running item is non-daemon work: the exit waits for it");
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt, "the item's simulated work is 0.3 s");
    }
}
