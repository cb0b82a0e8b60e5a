using System.Globalization;
using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>The promise the library exists for: non-daemon work is never lost, whichever way the process ends.</summary>
public sealed class DataSafetyTests : IDisposable
{
    private const int Records = 300;
    private readonly string _directory = Directory.CreateTempSubdirectory("daemonthreads-data-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("runmain", 0)]
    [InlineData("runmain-throws", 1)]
    [InlineData("exit-main", 0)]
    [InlineData("exit-worker", 0)]
    [InlineData("env-exit-main", 0)]
    [InlineData("env-exit-daemon", 0)]
    [InlineData("main-returns", 0)]
    [InlineData("signal", 143)]
    public async Task NonDaemonWriter_ProcessEndedByAnyPath_EveryRecordIsWrittenAndTheDaemonFlushes(string exitPath, int exitCode)
    {
        string path = Path.Combine(_directory, exitPath + ".txt");
        using ScenarioProcess process = ScenarioProcess.Start("data-writer", path, exitPath, Records.ToString(CultureInfo.InvariantCulture));
        if (exitPath == "signal")
        {
            await process.WaitForLineAsync("READY");
            process.Signal(15);
        }

        ScenarioResult result = await process.WaitForExitAsync(TestTimeouts.Unexpected);

        result.ExitCode.Should().Be(exitCode, result.Stderr);
        File.ReadAllLines(path).Should().Equal(Enumerable.Range(0, Records).Select(i => i.ToString(CultureInfo.InvariantCulture)), "the writer is non-daemon: all its records survive the exit");
        string[] markers = [.. result.Stdout.Where(l => l != "READY")];
        if (exitPath == "main-returns")
        {
            // The runtime waits for the foreground writer before ProcessExit starts the sequence.
            markers.Should().Equal(["writer done", "daemon flushed", "atexit"]);
        }
        else
        {
            // The flusher wakes when the sequence begins (the writer may still be writing) and finishes within the grace
            // period; both come before the at-exit hooks.
            markers.Should().BeEquivalentTo(["writer done", "daemon flushed", "atexit"]);
            markers[^1].Should().Be("atexit", "the join (step 3) and the grace period (step 4) come before the at-exit hooks (step 5)");
        }

        // 300 records of 2 ms simulated work is about 0.6 s (more on a loaded machine), plus 0.2 s of flush.
        result.Elapsed.Should().BeLessThan(ExitAssertions.Prompt);
    }
}
