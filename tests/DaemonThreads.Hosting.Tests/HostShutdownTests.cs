
namespace DaemonThreads.Hosting.Tests;

/// <summary>A real Generic Host with <c>AddDaemonThreads</c>, in a child process: stdout has the markers, stderr the console log.</summary>
public class HostShutdownTests
{
    private const int SigTerm = 15;

    [Fact]
    public async Task SigTerm_HostWithAddDaemonThreads_JoinsWriterDropsHeartbeatAndExitsZero()
    {
        using var process = ScenarioProcess.Start("graceful", "signal");
        await process.WaitForLineAsync("READY");

        process.Signal(SigTerm);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(0, "a signal-initiated graceful stop exits with the host's convention, not 128 + 15. stderr:\n" + result.Stderr);
        result.Stdout.Should().Contain("signal handlers installed by DaemonThreads: False", "the host owns the signals once it has started");
        // "stopping" (the scenario's own ApplicationStopping callback) races with the sequence's thread, so it is not ordered here.
        result.Stdout.Should().Contain("stopping");
        result.Stdout.Should().ContainInOrder(new[] { "writer: flushed after stop", "at-exit hook", "stopped", "host stopped; heartbeat alive = True" },
            "the non-daemon writer finishes while the host stops; the daemon heartbeat is still running when the host is done");
        result.Stderr.Should().Contain("DaemonThreads[5] DaemonThreads exit sequence finished (trigger Host)", "the host, not a signal handler of the core, ran the sequence")
            .And.Contain("joined 1: writer");
        result.Stderr.Should().Contain("info: DaemonThreads[7] Abandoned 1 daemon thread(s) at exit: heartbeat", "dropped daemon work is reported through the logger");
    }

    [Fact]
    public async Task SigTerm_HostWithAddDaemonThreads_IsHandledOnce()
    {
        using var process = ScenarioProcess.Start("graceful", "signal");
        await process.WaitForLineAsync("READY");

        process.Signal(SigTerm);
        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.Stdout.Count(l => l == "stopping").Should().Be(1, "ApplicationStopping fires once");
        result.Stdout.Count(l => l == "before-join hook").Should().Be(1, "the exit sequence runs once");
        CountOf(result.Stderr, "DaemonThreads[3]").Should().Be(1, "the sequence is started once, by the host");
        CountOf(result.Stderr, "(trigger SigTerm)").Should().Be(0, "the core's own SIGTERM handler was removed when the host started");
        result.ExitCode.Should().Be(0, "the core's handler would have exited with 143");
    }

    [Fact]
    public async Task StopApplication_HostWithAddDaemonThreads_RunsSequenceBeforeHostStopsAndExitsZero()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("graceful", "stop");

        result.ExitCode.Should().Be(0, "stderr:\n" + result.Stderr);
        result.Stdout.Should().Contain("stopping");
        result.Stdout.Should().ContainInOrder(new[] { "before-join hook", "at-exit hook", "stopped" },
            "ApplicationStopping starts the sequence and StopAsync waits for it before ApplicationStopped");
        result.Stdout.Should().ContainInOrder(new[] { "writer: flushed after stop", "stopped" }, "non-daemon work completes before the host has stopped");
        result.Stderr.Should().Contain("info: DaemonThreads[7] Abandoned 1 daemon thread(s) at exit: heartbeat");
    }

    [Fact]
    public async Task StopApplication_NonDaemonThreadIgnoresStop_LogsItByNameAtWarningAndExitsZero()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("timeout");

        result.ExitCode.Should().Be(0, "the host's convention: an overrun is logged, not turned into an exit code. stderr:\n" + result.Stderr);
        result.Stderr.Should().Contain("warn: DaemonThreads[4] Host shutdown timeout passed with 1 non-daemon thread(s) still running: stuck",
            "the host's 1 s ShutdownTimeout cancelled the wait");
        result.Stderr.Should().Contain("DaemonThreads: shutdown stopped waiting for 1 non-daemon thread(s), abandoned: stuck",
            "the 3 s join timeout abandons the thread so that the runtime does not wait for it; the host is disposed by then, so the report goes to stderr");
        result.Stdout.Should().ContainInOrder("stopped", "host stopped; stuck alive = True");
        result.Elapsed.Should().BeLessThan(TestTimeouts.Unexpected, "the 1 s host and 3 s join timeouts bound the stop");
    }

    [Fact]
    public async Task ThreadBodyThrows_HostWithAddDaemonThreads_LogsErrorWithThreadNameInsteadOfStderrHook()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("exception");

        result.ExitCode.Should().Be(0, "the thread dies, the process lives. stderr:\n" + result.Stderr);
        result.Stdout.Should().ContainInOrder("faulty joined", "host stopped");
        result.Stderr.Should().Contain("fail: DaemonThreads[1] Exception in thread faulty System.InvalidOperationException: boom from the thread body");
        CountOf(result.Stderr, "boom from the thread body").Should().Be(1, "the logger replaces the default hook; the exception is not printed twice");
    }

    [Fact]
    public async Task HostStop_WithMeterListener_RecordsShutdownDurationAndAbandonedDaemon()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("metrics");

        result.ExitCode.Should().Be(0, "stderr:\n" + result.Stderr);
        result.Stdout.Should().Contain("metric shutdown.duration recorded: True", "the sequence records its duration once it finishes");
        result.Stdout.Should().Contain("metric shutdown.abandoned: 1", "the heartbeat daemon is the one thread abandoned");
    }

    [Fact]
    public async Task HostStart_JoinTimeoutNotSet_UsesHostShutdownTimeoutWithoutWarning()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("join-timeout", "default");

        result.ExitCode.Should().Be(0, "stderr:\n" + result.Stderr);
        result.Stdout.Should().Contain("join timeout: 00:00:02", "the registry's join timeout follows the host's 2 s ShutdownTimeout");
        CountOf(result.Stderr, "DaemonThreads[9]").Should().Be(0, "equal timeouts are what the default is for");
    }

    [Fact]
    public async Task HostStart_JoinTimeoutLongerThanShutdownTimeout_LogsWarning()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("join-timeout", "longer");

        result.ExitCode.Should().Be(0, "stderr:\n" + result.Stderr);
        result.Stdout.Should().Contain("join timeout: 00:00:05", "a join timeout the application set is used as it is");
        result.Stderr.Should().Contain("warn: DaemonThreads[9] DaemonThreads JoinTimeout (00:00:05) is longer than the host's ShutdownTimeout (00:00:02)",
            "the process could outlive the host's timeout, which deployments size their kill deadline from");
    }

    private static int CountOf(string text, string value)
    {
        int count = 0;
        for (int i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
