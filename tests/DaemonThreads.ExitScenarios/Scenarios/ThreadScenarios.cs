using System.Runtime.CompilerServices;

namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>DaemonThread rules that depend on process-wide state: which thread touches the library first, stderr, the exception hook.</summary>
internal static class ThreadScenarios
{
    // Main detection (a) and CPython's test_import_from_another_thread (B1 #34): the library is first touched from
    // a raw worker thread, and still finds the real main thread.
    [Scenario("main-first-touch-from-worker")]
    public static int MainFirstTouchFromWorker()
    {
        var worker = new Thread(() =>
        {
            DaemonThread current = DaemonThread.Current;
            Out.Line("worker current " + current.Name + " daemon=" + current.IsDaemon);
            Out.Line("worker main id " + DaemonThread.Main.ManagedThreadId);
            Out.Line("worker main is current " + ReferenceEquals(current, DaemonThread.Main));
        });
        worker.Start();
        worker.Join();

        Out.Line("main current is main " + ReferenceEquals(DaemonThread.Current, DaemonThread.Main));
        Out.Line("main current id matches " + (DaemonThread.Current.ManagedThreadId == Environment.CurrentManagedThreadId));
        Out.Line("main native id is pid " + (DaemonThread.Main.NativeThreadId == Environment.ProcessId));
        return 0;
    }

    // Main detection (b): in async Main the library is first touched after an await, on a pool thread.
    [Scenario("main-first-touch-after-await")]
    public static async Task<int> MainFirstTouchAfterAwait()
    {
        await Task.Yield();
        Out.Line("on pool " + Thread.CurrentThread.IsThreadPoolThread);
        Out.Line("current is main " + ReferenceEquals(DaemonThread.Current, DaemonThread.Main));
        bool? background = null;
        var child = new DaemonThread(() => background = Thread.CurrentThread.IsBackground);
        Out.Line("child daemon " + child.IsDaemon);
        child.Start();
        child.Join();
        Out.Line("child background " + background);
        return 0;
    }

    // Main detection (c), CPython's test_print_exception (B4 #60) and test_excepthook (B5 #68).
    [Scenario("thread-exception")]
    public static int ThreadException()
    {
        var thread = new DaemonThread(RunFailed, name: "excepthook thread");
        thread.Start();
        thread.Join();
        Out.Line("joined alive=" + thread.IsAlive);
        return 0;
    }

    // CPython's test_system_exit (B5 #70): ThreadExitException ends the thread silently.
    [Scenario("thread-exit-silent")]
    public static int ThreadExitSilent()
    {
        bool after = false;
        var thread = new DaemonThread(() =>
        {
            ExitThread();
            after = true;
        });
        thread.Start();
        thread.Join();
        Out.Line("after exit ran " + after);
        return 0;
    }

    // CPython's test_custom_excepthook_fail (B5 #72).
    [Scenario("excepthook-fails")]
    public static int ExceptHookFails()
    {
        DaemonThread.ExceptHook = _ => throw new InvalidOperationException("threading_hook failed");
        var thread = new DaemonThread(RunFailed, name: "excepthook thread");
        thread.Start();
        thread.Join();
        Out.Line("joined");
        return 0;
    }

    // CPython's test_original_excepthook (B5 #73): default, custom, then default restored with null.
    [Scenario("excepthook-original")]
    public static int ExceptHookOriginal()
    {
        TextWriter stderr = Console.Error;
        string defaultOutput = CaptureFailure();
        DaemonThread.ExceptHook = _ => Console.Error.Write("Running a thread failed\n");
        string customOutput = CaptureFailure();
        DaemonThread.ExceptHook = null!;
        string restoredOutput = CaptureFailure();
        Console.SetError(stderr);

        Out.Line("default header " + defaultOutput.StartsWith("Exception in thread failing:", StringComparison.Ordinal));
        Out.Line("default equals restored " + (defaultOutput == restoredOutput));
        Out.Line("custom differs " + (customOutput != defaultOutput));
        Out.Line("custom output " + customOutput.TrimEnd('\n'));
        return 0;
    }

    // CPython's test_excepthook_thread_None (B5 #69): the default hook called by hand without a thread.
    [Scenario("excepthook-thread-null")]
    public static int ExceptHookThreadNull()
    {
        DaemonThread.ExceptHook(new ThreadExceptionInfo(new InvalidOperationException("by hand"), null));
        Out.Line("ident " + Environment.CurrentManagedThreadId);
        return 0;
    }

    // CPython's test_print_exception_stderr_is_none_1 (B4 #61), concept: the report goes to Console.Error as it is
    // when the thread fails, so redirecting it after the thread was created captures the report.
    [Scenario("excepthook-stderr-redirected")]
    public static int ExceptHookStderrRedirected()
    {
        var thread = new DaemonThread(RunFailed, name: "redirected");
        TextWriter stderr = Console.Error;
        using var captured = new StringWriter();
        Console.SetError(captured);
        thread.Start();
        thread.Join();
        Console.SetError(stderr);
        Out.Line("captured header " + captured.ToString().StartsWith("Exception in thread redirected:", StringComparison.Ordinal));
        return 0;
    }

    // CPython's test_print_exception_stderr_is_none_2 (B4 #62), concept: with stderr discarded or already closed the
    // report is dropped and nothing crashes.
    [Scenario("excepthook-stderr-none")]
    public static int ExceptHookStderrNone()
    {
        TextWriter stderr = Console.Error;
        Console.SetError(TextWriter.Null);
        var toNull = new DaemonThread(RunFailed, name: "to null");
        toNull.Start();
        toNull.Join();
        Out.Line("survived null stderr");

        var closed = new StreamWriter(new MemoryStream());
        closed.Dispose();
        Console.SetError(closed);
        var toClosed = new DaemonThread(RunFailed, name: "to closed");
        toClosed.Start();
        toClosed.Join();
        Console.SetError(stderr);
        Out.Line("survived closed stderr");
        return 0;
    }

    // Main detection (d) and CPython's test_foreign_thread (B1 #5): a raw thread is adopted as a daemon dummy.
    [Scenario("foreign-thread-dummy")]
    public static int ForeignThreadDummy()
    {
        DaemonThread? dummy = null;
        var foreign = new Thread(() =>
        {
            dummy = DaemonThread.Current;
            Out.Line("dummy " + dummy.Name + " daemon=" + dummy.IsDaemon + " alive=" + dummy.IsAlive);
            Out.Line("listed while alive " + DaemonThread.Enumerate().Contains(dummy));
            Out.Line("same again " + ReferenceEquals(dummy, DaemonThread.Current));
        });
        foreign.Start();
        foreign.Join();

        Out.Line("listed after end " + DaemonThread.Enumerate().Contains(dummy!));
        Out.Line("alive after end " + dummy!.IsAlive);
        Out.Line("next thread " + new DaemonThread(() => { }, isDaemon: true).Name);
        return 0;
    }

    // CPython's test_main_thread (B1 #21) and test_joining_current_thread (B4 #55), on the real main thread.
    [Scenario("main-thread-identity")]
    public static int MainThreadIdentity()
    {
        DaemonThread current = DaemonThread.Current;
        Out.Line("current is main " + ReferenceEquals(current, DaemonThread.Main));
        Out.Line("ident " + current.ManagedThreadId + " " + Environment.CurrentManagedThreadId);
        Out.Line("native id is pid " + (current.NativeThreadId == Environment.ProcessId));
        Out.Line(current.ToString());
        try
        {
            current.Join();
            Out.Line("join returned");
        }
        catch (InvalidOperationException ex)
        {
            Out.Line("join " + ex.GetType().Name + " " + ex.Message.StartsWith("cannot join current thread", StringComparison.Ordinal));
        }

        bool? daemonChild = null;
        var child = new DaemonThread(() => daemonChild = DaemonThread.Current.IsDaemon);
        child.Start();
        child.Join();
        Out.Line("child daemon " + daemonChild);
        return 0;
    }

    // Issue 9 F: after the point of no return, Join(Timeout.InfiniteTimeSpan) on an abandoned daemon throws as
    // Join() does, instead of waiting for a thread that may never end.
    [Scenario("join-infinite-abandoned-daemon")]
    public static int JoinInfiniteAbandonedDaemon()
    {
        using var started = new ManualResetEventSlim();
        var neverSet = new ManualResetEventSlim(); // not disposed: the daemon waits on it until the process ends
        var daemon = new DaemonThread(() => { started.Set(); neverSet.Wait(); }, name: "blocked daemon", isDaemon: true);
        daemon.Start();
        started.Wait();

        ExitRegistry.Shutdown();

        Out.Line("join() " + Outcome(daemon.Join));
        Out.Line("join(infinite) " + Outcome(() => daemon.Join(Timeout.InfiniteTimeSpan)));
        Out.Line("join(zero) " + Outcome(() => daemon.Join(TimeSpan.Zero)));
        return 0;
    }

    // Issue 9 G: a tiny maxStackSize is raised to a safe minimum instead of overflowing the stack (which kills the
    // process); the bodies throw, catch and write to Console, which is what a small stack could not hold.
    [Scenario("small-stack-sizes")]
    public static int SmallStackSizes()
    {
        foreach (int size in new[] { 1, 4096, 16384 })
        {
            var thread = new DaemonThread(() => ThrowCatchAndPrint("target " + size), maxStackSize: size);
            thread.Start();
            thread.Join();
            var subclass = new SmallStackThread(size);
            subclass.Start();
            subclass.Join();
        }

        return 0;
    }

    private static void ThrowCatchAndPrint(string label)
    {
        try
        {
            throw new InvalidOperationException("thrown on a small stack");
        }
        catch (InvalidOperationException ex)
        {
            Out.Line(label + " caught " + ex.Message + " trace " + ex.ToString().Contains(nameof(ThrowCatchAndPrint), StringComparison.Ordinal));
        }
    }

    private static string Outcome(Func<bool> join)
    {
        try
        {
            return "returned " + join();
        }
        catch (Exception ex)
        {
            return ex.GetType().Name;
        }
    }

    private static string Outcome(Action join) => Outcome(() =>
    {
        join();
        return true;
    });

    private static string CaptureFailure()
    {
        using var captured = new StringWriter();
        Console.SetError(captured);
        var thread = new DaemonThread(RunFailed, name: "failing");
        thread.Start();
        thread.Join();
        return captured.ToString();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RunFailed() => throw new InvalidOperationException("run failed");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ExitThread() => throw new ThreadExitException();

    private sealed class SmallStackThread : DaemonThread
    {
        private readonly int _size;

        public SmallStackThread(int size)
            : base(maxStackSize: size)
        {
            _size = size;
        }

        protected override void Run() => ThrowCatchAndPrint("subclass " + _size);
    }
}
