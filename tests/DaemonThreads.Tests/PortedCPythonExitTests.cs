using DaemonThreads.Tests.Infrastructure;
using static DaemonThreads.Tests.Infrastructure.ExitAssertions;

namespace DaemonThreads.Tests;

/// <summary>CPython's subprocess tests of shutdown, ported (reference/cpython-semantics.md, Part B).</summary>
public sealed class PortedCPythonExitTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("daemonthreads-io-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ThreadExitInMain_StillJoinsNonDaemonThreads()
    {
        // B1 #10 test_threading.ThreadTests.test_join_nondaemon_on_shutdown.
        ScenarioResult result = await ScenarioProcess.RunAsync("join-nondaemon-on-shutdown");

        result.ExitCode.Should().Be(0, "ThreadExitException is Python's SystemExit: status 0");
        result.Stdout.Should().Equal(["Woke up"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeGreaterThan(TimeSpan.FromSeconds(1), "the child sleeps 1 s and is waited for");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Theory]
    [InlineData("explicit")]
    [InlineData("late")]
    public async Task DuringShutdown_CurrentMainAndEnumerateAnswerConsistently(string when)
    {
        // B1 #23 test_main_thread_during_shutdown: once from an explicit Shutdown() on main, once late from ProcessExit
        // (the hook then runs on the finalizer thread, which answers as the main thread).
        ScenarioResult result = await ScenarioProcess.RunAsync("main-thread-during-shutdown", when);

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["GC: True True True"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task Exit_WaitsUntilTheThreadHasCompletelyFinished_CleanupIncluded()
    {
        // B1 #24 test_finalization_shutdown.
        ScenarioResult result = await ScenarioProcess.RunAsync("finalization-shutdown");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["body", "cleanup done"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task LibraryFirstUsedOffTheMainThread_ExitIsClean()
    {
        // B1 #34 test_import_from_another_thread.
        ScenarioResult result = await ScenarioProcess.RunAsync("first-use-off-main");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task Exit_WhileDaemonThreadsAreBusy_IsClean()
    {
        // B1 #43 test_stop_the_world_during_finalization. CPython's stderr is empty; ours holds only the report line
        // that names the abandoned daemons (SPEC §3.2 step 6).
        ScenarioResult result = await ScenarioProcess.RunAsync("busy-daemons");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["Exiting..."]);
        result.StderrLines().Should().ContainSingle().Which.Should().StartWith("DaemonThreads: shutdown abandoned 5 daemon thread(s): spinner");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task JoinMain_ReturnsWhenMainsCodeEnds()
    {
        // B2 #44 ThreadJoinOnShutdown.test_1_join_on_shutdown.
        ScenarioResult result = await ScenarioProcess.RunAsync("join-main");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["end of main", "end of thread"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task Exit_WithFortyDaemonThreadsDoingFileIO_IsCleanAndOnlyReportsThem()
    {
        // B2 #47 ThreadJoinOnShutdown.test_4_daemon_threads.
        ScenarioResult result = await ScenarioProcess.RunAsync("daemon-io", _directory);

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().BeEmpty();
        result.StderrLines().Should().ContainSingle().Which.Should().StartWith("DaemonThreads: shutdown abandoned 40 daemon thread(s): ");
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task ThreadStartedDuringTheExitWait_IsAlsoWaitedFor()
    {
        // B2 #48 ThreadJoinOnShutdown.test_thread_from_thread.
        ScenarioResult result = await ScenarioProcess.RunAsync("thread-from-thread");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["OK"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt);
    }

    [Fact]
    public async Task BeforeJoinHook_SignalsAWorkerAndJoinsIt()
    {
        // B3 #51 SubinterpThreadingTests.test_threads_join_with_no_main.
        ScenarioResult result = await ScenarioProcess.RunAsync("hook-signals-and-joins");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["I", "F", "D"]);
        result.Stderr.Should().BeEmpty();
        result.Elapsed.Should().BeLessThan(Prompt);
    }
}
