using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>SPEC 2.7: exceptions escaping a thread body. The hook is process-wide, so these tests run alone and restore it.</summary>
/// <remarks>What the default hook writes to stderr is checked in child processes (<see cref="DaemonThreadScenarioTests"/>).</remarks>
[Collection(GlobalState.Name)]
public class DaemonThreadExceptHookTests
{
    // Ports CPython test_threading.ExceptHookTests.test_custom_excepthook (B5 #71)
    [Fact]
    public void ExceptHook_Custom_ReceivesTheExceptionAndTheThreadOnTheDyingThread()
    {
        var failure = new InvalidOperationException("run failed");
        ThreadExceptionInfo? received = null;
        DaemonThread? currentInHook = null;
        int? hookThreadId = null;
        var thread = new DaemonThread(() => throw failure, name: "excepthook thread", isDaemon: true);

        WithHook(
            info =>
            {
                received = info;
                currentInHook = DaemonThread.Current;
                hookThreadId = Environment.CurrentManagedThreadId;
            },
            () =>
            {
                thread.Start();
                thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
            });

        received.Should().NotBeNull();
        received!.Exception.Should().BeSameAs(failure);
        received.Exception.StackTrace.Should().NotBeNullOrEmpty("the exception keeps its stack trace (Python's exc_traceback)");
        received.Thread.Should().BeSameAs(thread);
        currentInHook.Should().BeSameAs(thread, "the hook runs on the dying thread");
        hookThreadId.Should().Be(thread.ManagedThreadId);
    }

    [Fact]
    public void Join_ThreadThatThrew_ReturnsOnlyAfterTheHookReturned()
    {
        using var hookEntered = new ManualResetEventSlim();
        using var releaseHook = new ManualResetEventSlim();
        bool hookReturned = false;
        var thread = new DaemonThread(() => throw new InvalidOperationException("boom"), isDaemon: true);

        WithHook(
            _ =>
            {
                hookEntered.Set();
                releaseHook.Wait(TestTimeouts.Unexpected);
                hookReturned = true;
            },
            () =>
            {
                thread.Start();
                hookEntered.Wait(TestTimeouts.Unexpected).Should().BeTrue();
                Task joinAsync = thread.JoinAsync();

                thread.Join(TestTimeouts.Expected).Should().BeFalse("the hook is still running");
                thread.IsAlive.Should().BeTrue();
                DaemonThread.Enumerate().Should().Contain(thread, "the thread is listed until its hook has returned");
                joinAsync.IsCompleted.Should().BeFalse();
                releaseHook.Set();
                thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
                hookReturned.Should().BeTrue("Join returns after the hook returned");
                joinAsync.Wait(TestTimeouts.Unexpected).Should().BeTrue();
            });
    }

    [Fact]
    public void ExceptHook_SetNull_RestoresTheDefault()
    {
        Action<ThreadExceptionInfo> original = DaemonThread.ExceptHook;
        Action<ThreadExceptionInfo> custom = _ => { };

        try
        {
            DaemonThread.ExceptHook = custom;
            Action<ThreadExceptionInfo> whileCustom = DaemonThread.ExceptHook;
            DaemonThread.ExceptHook = null!;

            whileCustom.Should().BeSameAs(custom);
            DaemonThread.ExceptHook.Should().BeSameAs(original, "null restores the default hook");
        }
        finally
        {
            DaemonThread.ExceptHook = original;
        }
    }

    // Ports CPython test_threading.ExceptHookTests.test_system_exit (B5 #70), custom-hook half.
    [Fact]
    public void ExceptHook_ThreadExitException_IsPassedToACustomHook()
    {
        var exit = new ThreadExitException("leaving");
        Exception? received = null;
        bool afterThrow = false;
        var thread = new DaemonThread(
            () =>
            {
                throw exit;
#pragma warning disable CS0162 // Unreachable on purpose: shows the thread ended at the throw.
                afterThrow = true;
#pragma warning restore CS0162
            },
            isDaemon: true);

        WithHook(
            info => received = info.Exception,
            () =>
            {
                thread.Start();
                thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
            });

        received.Should().BeSameAs(exit, "only the default hook is silent about ThreadExitException");
        afterThrow.Should().BeFalse();
    }

    [Fact]
    public void ExceptHook_ReadAtTheMomentOfFailure()
    {
        using var go = new ManualResetEventSlim();
        var seen = new List<string>();
        var thread = new DaemonThread(
            () =>
            {
                go.Wait(TestTimeouts.Unexpected);
                throw new InvalidOperationException("late");
            },
            isDaemon: true);
        thread.Start();

        WithHook(
            _ => seen.Add("hook installed after start"),
            () =>
            {
                go.Set();
                thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
            });

        seen.Should().Equal("hook installed after start");
    }

    [Fact]
    public void ExceptHook_HookThatThrows_DoesNotEscapeTheThread()
    {
        bool hookRan = false;
        var thread = new DaemonThread(() => throw new InvalidOperationException("run failed"), isDaemon: true);

        WithHook(
            _ =>
            {
                hookRan = true;
                throw new InvalidOperationException("threading_hook failed");
            },
            () =>
            {
                thread.Start();
                thread.Join(TestTimeouts.Unexpected).Should().BeTrue("a failing hook still lets the thread end");
            });

        hookRan.Should().BeTrue();
        thread.IsAlive.Should().BeFalse();
        DaemonThread.Enumerate().Should().NotContain(thread);
    }

    // SPEC 2.8 and §4: unlike CPython's Timer, the finished state is set even when the callback throws.
    [Fact]
    public void Timer_CallbackThrows_IsFinishedAndHookGetsTheException()
    {
        var failure = new InvalidOperationException("callback failed");
        ThreadExceptionInfo? received = null;
        var timer = new DaemonTimer(TimeSpan.Zero, () => throw failure, isDaemon: true);

        WithHook(
            info => received = info,
            () =>
            {
                timer.Start();
                timer.Join(TestTimeouts.Unexpected).Should().BeTrue();
            });

        timer.IsFinished.Should().BeTrue("unlike CPython, a throwing callback still finishes the timer");
        received!.Exception.Should().BeSameAs(failure);
        received.Thread.Should().BeSameAs(timer);
    }

    [Fact]
    public void ThreadExceptionInfo_NullException_ThrowsArgumentNullException()
    {
        Action act = () => _ = new ThreadExceptionInfo(null!, null);

        act.Should().Throw<ArgumentNullException>().WithParameterName("exception");
    }

    private static void WithHook(Action<ThreadExceptionInfo> hook, Action body)
    {
        Action<ThreadExceptionInfo> original = DaemonThread.ExceptHook;
        DaemonThread.ExceptHook = hook;
        try
        {
            body();
        }
        finally
        {
            DaemonThread.ExceptHook = original;
        }
    }
}
