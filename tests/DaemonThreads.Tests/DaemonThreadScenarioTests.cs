using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>DaemonThread rules that depend on process-wide state, each run in a fresh child process (ThreadScenarios.cs).</summary>
public class DaemonThreadScenarioTests
{
    // Main detection (a); ports CPython test_threading.ThreadTests.test_import_from_another_thread (B1 #34), concept.
    [Fact]
    public async Task Main_LibraryFirstTouchedFromRawWorker_IsStillTheRealMainThread()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("main-first-touch-from-worker");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(
            new[]
            {
                "worker current Dummy-1 daemon=True",
                "worker main id 1",
                "worker main is current False",
                "main current is main True",
                "main current id matches True",
                "main native id is pid True",
            },
            "the worker is a dummy and Main is the thread that runs Main");
        result.Stderr.Should().BeEmpty();
    }

    // Main detection (b).
    [Fact]
    public async Task Current_AfterAwaitInAsyncMain_IsMainAndNewThreadsAreNonDaemon()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("main-first-touch-after-await");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(
            new[] { "on pool True", "current is main True", "child daemon False", "child background False" },
            "code after an await in async Main is the main program, so its threads default to non-daemon");
        result.Stderr.Should().BeEmpty();
    }

    // Main detection (c); ports CPython test_threading.ThreadingExceptionTests.test_print_exception (B4 #60)
    // and ExceptHookTests.test_excepthook (B5 #68).
    [Fact]
    public async Task ExceptHook_Default_WritesExceptionInThreadToStderrAndProcessLivesOn()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("thread-exception");

        result.ExitCode.Should().Be(0, "a thread exception leaves the exit code alone");
        result.Stdout.Should().Equal(new[] { "joined alive=False" }, "the process lives on after the thread failed");
        result.Stderr.Should().StartWith("Exception in thread excepthook thread:\n");
        result.Stderr.Should().Contain("System.InvalidOperationException: run failed");
        result.Stderr.Should().Contain("RunFailed", "the stack trace is printed (Python's traceback)");
        result.Stderr.Should().NotContain("Unhandled exception");
    }

    // Ports CPython test_threading.ExceptHookTests.test_system_exit (B5 #70).
    [Fact]
    public async Task ExceptHook_DefaultWithThreadExitException_IsSilent()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("thread-exit-silent");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal("after exit ran False");
        result.Stderr.Should().BeEmpty();
    }

    // Ports CPython test_threading.ExceptHookTests.test_custom_excepthook_fail (B5 #72).
    [Fact]
    public async Task ExceptHook_HookThrows_WritesExceptHookFailureToStderr()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("excepthook-fails");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal("joined");
        result.Stderr.Should().StartWith("Exception in DaemonThread.ExceptHook:\n");
        result.Stderr.Should().Contain("threading_hook failed");
        result.Stderr.Should().NotContain("Exception in thread").And.NotContain("Unhandled exception");
    }

    // Ports CPython test_threading.ExceptHookTests.test_original_excepthook (B5 #73).
    [Fact]
    public async Task ExceptHook_RestoredWithNull_WritesWhatTheDefaultWrote()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("excepthook-original");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(
            "default header True",
            "default equals restored True",
            "custom differs True",
            "custom output Running a thread failed");
    }

    // Ports CPython test_threading.ExceptHookTests.test_excepthook_thread_None (B5 #69).
    [Fact]
    public async Task ExceptHook_DefaultCalledWithoutThread_NamesTheCallingThreadsId()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("excepthook-thread-null");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal("ident 1");
        result.Stderr.Should().StartWith("Exception in thread 1:\n").And.Contain("System.InvalidOperationException: by hand");
    }

    // Ports CPython test_threading.ThreadingExceptionTests.test_print_exception_stderr_is_none_1 (B4 #61), concept.
    [Fact]
    public async Task ExceptHook_ErrorRedirectedAfterConstruction_ReportGoesToTheCurrentError()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("excepthook-stderr-redirected");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal("captured header True");
        result.Stderr.Should().BeEmpty("the report went to the redirected writer");
    }

    // Ports CPython test_threading.ThreadingExceptionTests.test_print_exception_stderr_is_none_2 (B4 #62), concept.
    [Fact]
    public async Task ExceptHook_ErrorDiscardedOrClosed_DropsReportWithoutCrashing()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("excepthook-stderr-none");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal("survived null stderr", "survived closed stderr");
        result.Stderr.Should().NotContain("Unhandled exception").And.BeEmpty();
    }

    // Main detection (d); ports CPython test_threading.ThreadTests.test_foreign_thread (B1 #5).
    [Fact]
    public async Task Current_OnForeignThread_IsDummyOneDaemonAndLeavesEnumerateWhenItEnds()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("foreign-thread-dummy");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(
            "dummy Dummy-1 daemon=True alive=True",
            "listed while alive True",
            "same again True",
            "listed after end False",
            "alive after end False",
            "next thread Thread-2 (<lambda>)");
        result.Stderr.Should().BeEmpty();
    }

    // Ports CPython test_threading.ThreadTests.test_main_thread (B1 #21) and
    // ThreadingExceptionTests.test_joining_current_thread (B4 #55) on the real main thread.
    [Fact]
    public async Task Main_OnMainThread_IsCurrentCannotJoinItselfAndHasNonDaemonChildren()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("main-thread-identity");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(
            "current is main True",
            "ident 1 1",
            "native id is pid True",
            "<DaemonThread(MainThread, started 1)>",
            "join InvalidOperationException True",
            "child daemon False");
        result.Stderr.Should().BeEmpty();
    }

    // Issue 9 F (SPEC §4): after the point of no return, a running daemon thread may never end.
    [Fact]
    public async Task Join_InfiniteTimeoutOnAbandonedDaemonAfterShutdown_ThrowsLikeJoin()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("join-infinite-abandoned-daemon");

        result.ExitCode.Should().Be(0, "the scenario ends instead of hanging in Join(Timeout.InfiniteTimeSpan)");
        result.Stdout.Should().Equal(
            new[] { "join() ThreadStateException", "join(infinite) ThreadStateException", "join(zero) returned False" },
            "an infinite timeout is the same wait as Join(), while a finite one is the caller's bound");
        result.StderrLines().Should().Equal(ExitAssertions.Abandoned("blocked daemon"));
    }

    // Issue 9 G: stack sizes from 1 to 16384 overflowed the stack and killed the process.
    [Fact]
    public async Task Start_TinyMaxStackSize_RaisedToASafeMinimumSoABodyCanThrowCatchAndPrint()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("small-stack-sizes");

        result.ExitCode.Should().Be(0, "a stack below the minimum is raised to it");
        result.Stdout.Should().Equal(
            new[] { 1, 4096, 16384 }.SelectMany(size => new[]
            {
                $"target {size} caught thrown on a small stack trace True",
                $"subclass {size} caught thrown on a small stack trace True",
            }),
            "both constructors raise the size");
        result.Stderr.Should().BeEmpty();
    }
}
