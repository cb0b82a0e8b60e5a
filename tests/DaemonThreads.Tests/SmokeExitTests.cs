using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

public class SmokeExitTests
{
    [Fact]
    public async Task RunMain_Returns_JoinsWorkerThenRunsAtExitHooksAndExitsWithMainsCode()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("smoke");

        result.ExitCode.Should().Be(3, "RunMain returns main's result");
        result.Stdout.Should().Equal(new[] { "main <DaemonThread(MainThread, started 1)>", "worker done", "atexit" }, "the worker is joined before the at-exit hook runs");
    }
}
