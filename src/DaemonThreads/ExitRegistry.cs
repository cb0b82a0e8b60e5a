using System.Diagnostics.CodeAnalysis;
using DaemonThreads.Internal;

namespace DaemonThreads;

/// <summary>
/// Keeps the daemon / non-daemon promise when the process ends: joins non-daemon threads, abandons daemon threads,
/// runs exit hooks in a defined order and reports what it did, on every exit path.
/// </summary>
/// <remarks>
/// <para>
/// Python equivalent: <c>threading._shutdown()</c> with <c>atexit</c>. The one sequence (see <see cref="Shutdown()"/>)
/// runs on whichever path ends the process first: <see cref="RunMain(Func{int})"/> returning or throwing,
/// <see cref="Exit(int)"/>, <see cref="Environment.Exit(int)"/>, <c>Main</c> returning, SIGTERM, SIGINT or SIGHUP. It
/// runs once; later paths wait for it and share its report.
/// </para>
/// <para>
/// The registry installs itself the first time the library is used: an <see cref="AppDomain.ProcessExit"/> handler,
/// and (unless <see cref="HandleSignals"/> is turned off, or the <c>DaemonThreads.HandleSignals</c> runtime switch
/// is <see langword="false"/>) <see cref="System.Runtime.InteropServices.PosixSignalRegistration"/>s for SIGTERM,
/// SIGINT and SIGHUP, because .NET 10 no longer runs anything on SIGTERM.
/// </para>
/// <para>
/// Calls made during the exit (the README's table "What happens when X calls Y during the exit"): nothing that the
/// sequence may be waiting for ever waits for the sequence.
/// </para>
/// <list type="table">
/// <listheader><term>Caller, while the sequence runs</term><description><see cref="Shutdown()"/> / <see cref="Exit(int)"/></description></listheader>
/// <item><term>a hook or <see cref="ShuttingDown"/> callback</term><description>a provisional report at once / <see cref="InvalidOperationException"/> (the code is unchanged)</description></item>
/// <item><term>the report handler</term><description>the report being published / claims the code and ends the handler</description></item>
/// <item><term>a <see cref="DaemonThread"/> body</term><description>waits for the report unless a hook joins it (then a provisional one) / claims the code and throws <see cref="ThreadExitException"/></description></item>
/// <item><term>task code</term><description>waits for the report / claims the code and throws <see cref="ThreadExitException"/> into the task; its owner is still joined</description></item>
/// <item><term>RunMain's main while a signal's sequence waits for it</term><description>a provisional report / claims the code, unwinds main</description></item>
/// <item><term>any other thread, an <see cref="AppDomain.ProcessExit"/> handler</term><description>waits for the report / claims the code, waits, then exits (inside ProcessExit: sets <see cref="Environment.ExitCode"/> and returns)</description></item>
/// </list>
/// <para>
/// Exit codes: the first path that claims one wins (<see cref="Exit(int)"/>, <see cref="Environment.Exit(int)"/>, a first
/// signal, <c>Main</c>'s result); RunMain's result only when none did; a second signal forces 128 + n. Signals: a
/// second one ends the step that runs (the join, or a hook); once the sequence has finished a signal takes its default
/// action.
/// </para>
/// <para>Thread safety: every member may be called from any thread.</para>
/// </remarks>
public static class ExitRegistry
{
    private static volatile bool s_processExiting;

    static ExitRegistry()
    {
        Coordinator = new ShutdownCoordinator(ThreadRegistry.Default, isProcessWide: true);

        // Raised by the runtime before any ProcessExit handler, whoever registered first: from here ExitRegistry.Exit must
        // not call Environment.Exit (it would deadlock inside ProcessExit), even from an application's ProcessExit
        // handler that runs before ours (issue 9 #5).
        System.Runtime.Loader.AssemblyLoadContext.Default.Unloading += static _ => s_processExiting = true;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        if (!AppContext.TryGetSwitch("DaemonThreads.HandleSignals", out bool handle) || handle)
        {
            SignalHandlers.Install();
        }

        // DaemonThread's statics first, on this thread: identifying the main thread reads the OS id of the calling thread
        // when it is the main thread (the only way off Linux).
        _ = DaemonThread.Main;

        // The meter only once something could listen to it (a MeterListener, or an EventPipe session such as
        // dotnet-counters, both of which load System.Diagnostics.DiagnosticSource first): creating the process's first
        // meter cost a short program more CPU than everything else the library does at start (benchmarks/startup).
        // Nothing else is started here: the exit sequence is not rehearsed any more, because the package ships it
        // precompiled (ReadyToRun) and the rehearsal's own threads and JIT cost every process more than the first-call
        // JIT it saved at exit (benchmarks/README.md, "Start-up").
        DaemonThreadsMetrics.CreateWhenListenable(static () => !Coordinator.HasStarted);
    }

    /// <summary>Gets or sets how long the sequence waits, in total, for non-daemon threads.</summary>
    /// <value>Default <see cref="Timeout.InfiniteTimeSpan"/>: wait for ever, as Python does.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    /// <remarks>
    /// Non-daemon threads still running when it runs out are listed in <see cref="ShutdownReport.TimedOut"/>, named on
    /// stderr, and abandoned: the runtime no longer waits for them either.
    /// </remarks>
    public static TimeSpan JoinTimeout
    {
        get => Coordinator.JoinTimeout;
        set => Coordinator.JoinTimeout = value;
    }

    /// <summary>Gets or sets how long daemon threads get, in total, to finish after the join (they observe <see cref="ShuttingDown"/>).</summary>
    /// <value>Default <see cref="TimeSpan.Zero"/>: daemon threads are abandoned at once, as in Python.</value>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public static TimeSpan DaemonGracePeriod
    {
        get => Coordinator.DaemonGracePeriod;
        set => Coordinator.DaemonGracePeriod = value;
    }

    /// <summary>Gets a token that is cancelled when the exit sequence begins.</summary>
    /// <remarks>Daemon threads that must flush watch it, and finish within <see cref="DaemonGracePeriod"/>.</remarks>
    public static CancellationToken ShuttingDown => Coordinator.ShuttingDown;

    /// <summary>Gets or sets whether SIGTERM, SIGINT and SIGHUP run the exit sequence and exit with 128 + the signal number.</summary>
    /// <value>Default <see langword="true"/>, or the value of the <c>DaemonThreads.HandleSignals</c> runtime switch.</value>
    /// <remarks>
    /// The first signal cancels the default action (immediate death), starts the sequence on a thread of its own and
    /// lets the application's own signal handlers run; a second signal stops the waiting: what still runs is reported
    /// and abandoned. A first signal that arrives while <see cref="RunMain(Func{int})"/>, <see cref="Exit(int)"/> or
    /// <see cref="Environment.Exit(int)"/> already runs the sequence lets that path finish and keep its exit code; after
    /// a hand-made <see cref="Shutdown()"/> it ends the process. Set it to <see langword="false"/> when something else owns the signals (the Generic Host; the
    /// DaemonThreads.Hosting package does this for you).
    /// </remarks>
    public static bool HandleSignals
    {
        get => SignalHandlers.Installed;
        set
        {
            if (value)
            {
                SignalHandlers.Install();
            }
            else
            {
                SignalHandlers.Uninstall();
            }
        }
    }

    /// <summary>Gets or sets the callback that receives the shutdown report and hook failures instead of stderr.</summary>
    /// <value>Default <see langword="null"/>: hook failures and the report's timed-out and abandoned threads are written to stderr.</value>
    /// <remarks>
    /// For hosts that log (the DaemonThreads.Hosting package routes it to <c>ILogger</c>). It is called once, at the
    /// point of no return, on the thread running the sequence; an exception it throws is written to stderr.
    /// </remarks>
    public static Action<ShutdownReport>? ReportHandler
    {
        get => Coordinator.ReportSink;
        set => Coordinator.ReportSink = value;
    }

    internal static ShutdownCoordinator Coordinator { get; }

    /// <summary>Gets a value indicating whether the runtime is exiting (the <see cref="AppDomain.ProcessExit"/> handler has begun).</summary>
    internal static bool IsProcessExiting => s_processExiting;

    /// <summary>Registers a hook that runs after the non-daemon threads are joined; hooks run newest first.</summary>
    /// <param name="callback">The hook. The same delegate may be registered several times; it then runs once per registration.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The at-exit hooks are already running or done, so this one would never run.</exception>
    /// <remarks>Python equivalent: <c>atexit.register</c>. A hook that throws is reported and the others still run.</remarks>
    public static void RegisterAtExit(Action callback) => Coordinator.RegisterAtExit(callback);

    /// <summary>Removes every registration of <paramref name="callback"/> as an at-exit hook.</summary>
    /// <param name="callback">The hook to remove (compared with delegate equality: same method and target).</param>
    /// <returns><see langword="true"/> when at least one registration was removed.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is <see langword="null"/>.</exception>
    /// <remarks>Python equivalent: <c>atexit.unregister</c>.</remarks>
    public static bool UnregisterAtExit(Action callback) => Coordinator.UnregisterAtExit(callback);

    /// <summary>Registers a hook that runs when shutdown begins, before the non-daemon threads are joined; hooks run newest first.</summary>
    /// <param name="callback">The hook; typically it tells worker threads to stop so that the join can finish.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">Shutdown has begun ("can't register atexit after shutdown").</exception>
    /// <remarks>
    /// Python equivalent: <c>threading._register_atexit</c>. Unlike CPython, a hook that throws is reported and the
    /// join still happens (CPython would abandon every non-daemon thread).
    /// </remarks>
    public static void RegisterBeforeJoin(Action callback) => Coordinator.RegisterBeforeJoin(callback);

    /// <summary>Runs the exit sequence now, once; later calls return the same report.</summary>
    /// <returns>What the sequence did.</returns>
    /// <remarks>
    /// <para>Python equivalent: <c>threading._shutdown()</c>. The order:</para>
    /// <list type="number">
    /// <item>Mark shutting down and cancel <see cref="ShuttingDown"/>. From here <see cref="RegisterBeforeJoin"/> throws.</item>
    /// <item>Run the before-join hooks, newest first. A hook that throws is reported; the rest still run.</item>
    /// <item>Join every non-daemon thread except the caller, re-scanning until none is left (threads started
    /// meanwhile are joined too), within one <see cref="JoinTimeout"/> deadline for the whole step.</item>
    /// <item>If <see cref="DaemonGracePeriod"/> is positive, give daemon threads up to that long in total to finish.</item>
    /// <item>Run the at-exit hooks, newest first. A hook that throws is reported; the rest still run. Non-daemon threads
    /// they started are joined within what is left of the <see cref="JoinTimeout"/> deadline.</item>
    /// <item>Point of no return: build the report; name timed-out and abandoned threads on stderr. From now on
    /// starting a non-daemon thread throws, and <see cref="DaemonThread.Join()"/> on a running daemon thread throws
    /// instead of hanging.</item>
    /// </list>
    /// <para>
    /// It does not end the process. Called concurrently, or from a non-daemon thread, it is safe: the sequence
    /// runs once, never waits for its caller, and every caller gets the report. Called from a hook while the
    /// sequence runs, it returns at once with a provisional report (<see cref="ShutdownReport.IsComplete"/> is
    /// <see langword="false"/>).
    /// </para>
    /// </remarks>
    public static ShutdownReport Shutdown() => Coordinator.Shutdown(ShutdownTrigger.Shutdown);

    /// <summary>Runs the exit sequence now for a host or framework that owns the process's lifetime; see <see cref="Shutdown()"/>.</summary>
    /// <param name="trigger">The exit path to record in the report.</param>
    /// <returns>What the sequence did.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trigger"/> is not a defined <see cref="ShutdownTrigger"/> value.</exception>
    public static ShutdownReport Shutdown(ShutdownTrigger trigger) => Coordinator.Shutdown(trigger);

    /// <summary>Gets the exit path of the running (or finished) exit sequence, or <see langword="null"/> before it begins.</summary>
    /// <remarks>For hooks and <see cref="ShuttingDown"/> callbacks that act on why the process exits; see <see cref="SignalNumber"/> for signals.</remarks>
    public static ShutdownTrigger? Trigger => Coordinator.Trigger;

    /// <summary>Gets the POSIX number of the signal that started the exit sequence (15, 2, 1), or <see langword="null"/> when no signal did.</summary>
    public static int? SignalNumber => Coordinator.SignalNumber;

    /// <summary>Runs <paramref name="main"/> as the main program, then the exit sequence; returns the exit code for <c>Main</c> to return.</summary>
    /// <param name="main">The main program; its result is the exit code.</param>
    /// <returns>
    /// The first exit code an exit path claimed (<see cref="Exit(int)"/>, <see cref="Environment.Exit(int)"/>, a signal: 128 + n);
    /// otherwise <paramref name="main"/>'s result; 1 if it threw (the exception is printed to stderr first); 0 if it threw
    /// <see cref="ThreadExitException"/>.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="main"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// <para>
    /// Python equivalent: the interpreter running a script. Use it as <c>return ExitRegistry.RunMain(() =&gt; { ... });</c>
    /// so that non-daemon threads are joined (within <see cref="JoinTimeout"/>), hooks run in order, and the
    /// report is written before <c>Main</c> returns, even when <paramref name="main"/> throws.
    /// </para>
    /// <para>
    /// On SIGTERM, SIGINT or SIGHUP while <paramref name="main"/> runs, <see cref="ShuttingDown"/> is cancelled first, then
    /// the sequence waits for <paramref name="main"/> to return as for a non-daemon thread (within <see cref="JoinTimeout"/>;
    /// a second signal stops the wait), and only then runs the hooks: <paramref name="main"/>'s <c>finally</c> blocks run
    /// before the at-exit hooks, as with CPython's KeyboardInterrupt. A main blocked in a call that ignores the token is
    /// waited for until <see cref="JoinTimeout"/>. Use the overloads that take a <see cref="CancellationToken"/> to see the
    /// signal.
    /// </para>
    /// </remarks>
    public static int RunMain(Func<int> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunMainCore(main, static m => ((Func<int>)m!)());
    }

    /// <summary>Runs <paramref name="main"/> as the main program, then the exit sequence; returns the exit code for <c>Main</c> to return.</summary>
    /// <param name="main">The main program.</param>
    /// <returns>The first claimed exit code; otherwise 0, or 1 if <paramref name="main"/> threw (the exception is printed to stderr first).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="main"/> is <see langword="null"/>.</exception>
    /// <remarks>See <see cref="RunMain(Func{int})"/>. An <c>async</c> lambda binds to <see cref="RunMain(Func{Task})"/>, never to this overload.</remarks>
    public static int RunMain(Action main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunMainCore(main, static m =>
        {
            ((Action)m!)();
            return 0;
        });
    }

    /// <summary>Runs <paramref name="main"/> as the main program with a token cancelled when the process begins to exit, then the exit sequence.</summary>
    /// <param name="main">The main program; its argument is <see cref="ShuttingDown"/>, its result the exit code.</param>
    /// <returns>See <see cref="RunMain(Func{int})"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="main"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// The idiomatic form for a program that must stop on SIGTERM or Ctrl+C: loop until the token is cancelled, return,
    /// and the sequence then joins the threads and runs the hooks. An <see cref="OperationCanceledException"/> for this
    /// token is a normal return (not printed). See <see cref="RunMain(Func{int})"/>.
    /// </remarks>
    public static int RunMain(Func<CancellationToken, int> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunMainCore(main, static m => ((Func<CancellationToken, int>)m!)(Coordinator.ShuttingDown));
    }

    /// <summary>Runs <paramref name="main"/> as the main program with a token cancelled when the process begins to exit, then the exit sequence.</summary>
    /// <param name="main">The main program; its argument is <see cref="ShuttingDown"/>.</param>
    /// <returns>See <see cref="RunMain(Action)"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="main"/> is <see langword="null"/>.</exception>
    /// <remarks>See <see cref="RunMain(Func{CancellationToken, int})"/>.</remarks>
    public static int RunMain(Action<CancellationToken> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunMainCore(main, static m =>
        {
            ((Action<CancellationToken>)m!)(Coordinator.ShuttingDown);
            return 0;
        });
    }

    /// <summary>Runs the asynchronous <paramref name="main"/> to completion as the main program, then the exit sequence.</summary>
    /// <param name="main">The main program.</param>
    /// <returns>See <see cref="RunMain(Action)"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="main"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// Python equivalent: <c>asyncio.run(main())</c>, followed by the thread shutdown. The calling thread waits for the
    /// task; its continuations belong to the main program (threads they create default to non-daemon). A faulted task
    /// prints its exception and exits 1, as the synchronous form does. <c>RunMain(async () =&gt; ...)</c> binds here, so
    /// no <c>async void</c> is possible through RunMain.
    /// </remarks>
#if NET9_0_OR_GREATER
    // A lambda that only throws converts to both the task and the synchronous form; the task form runs it the same way.
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
#endif
    public static int RunMain(Func<Task> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunMainCore(main, static m =>
        {
            ((Func<Task>)m!)().GetAwaiter().GetResult();
            return 0;
        });
    }

    /// <summary>Runs the asynchronous <paramref name="main"/> to completion as the main program, then the exit sequence.</summary>
    /// <param name="main">The main program; its result is the exit code.</param>
    /// <returns>See <see cref="RunMain(Func{int})"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="main"/> is <see langword="null"/>.</exception>
    /// <remarks>See <see cref="RunMain(Func{Task})"/>.</remarks>
#if NET9_0_OR_GREATER
    // A lambda that only throws converts to both the task and the synchronous form; the task form runs it the same way.
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
#endif
    public static int RunMain(Func<Task<int>> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunMainCore(main, static m => ((Func<Task<int>>)m!)().GetAwaiter().GetResult());
    }

    /// <summary>Runs the asynchronous <paramref name="main"/> with a token cancelled when the process begins to exit, then the exit sequence.</summary>
    /// <param name="main">The main program; its argument is <see cref="ShuttingDown"/>.</param>
    /// <returns>See <see cref="RunMain(Action)"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="main"/> is <see langword="null"/>.</exception>
    /// <remarks>See <see cref="RunMain(Func{Task})"/> and <see cref="RunMain(Func{CancellationToken, int})"/>.</remarks>
#if NET9_0_OR_GREATER
    // A lambda that only throws converts to both the task and the synchronous form; the task form runs it the same way.
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
#endif
    public static int RunMain(Func<CancellationToken, Task> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunMainCore(main, static m =>
        {
            ((Func<CancellationToken, Task>)m!)(Coordinator.ShuttingDown).GetAwaiter().GetResult();
            return 0;
        });
    }

    /// <summary>Runs the asynchronous <paramref name="main"/> with a token cancelled when the process begins to exit, then the exit sequence.</summary>
    /// <param name="main">The main program; its argument is <see cref="ShuttingDown"/>, its result the exit code.</param>
    /// <returns>See <see cref="RunMain(Func{int})"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="main"/> is <see langword="null"/>.</exception>
    /// <remarks>See <see cref="RunMain(Func{Task})"/> and <see cref="RunMain(Func{CancellationToken, int})"/>.</remarks>
#if NET9_0_OR_GREATER
    // A lambda that only throws converts to both the task and the synchronous form; the task form runs it the same way.
    [System.Runtime.CompilerServices.OverloadResolutionPriority(1)]
#endif
    public static int RunMain(Func<CancellationToken, Task<int>> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunMainCore(main, static m => ((Func<CancellationToken, Task<int>>)m!)(Coordinator.ShuttingDown).GetAwaiter().GetResult());
    }

    /// <summary>Makes <paramref name="task"/> must-finish work: the exit sequence waits for it as for a non-daemon thread.</summary>
    /// <param name="task">The task.</param>
    /// <param name="name">The name the report and the stderr line give it when it does not finish; <see langword="null"/> gives <c>Task-ID</c>.</param>
    /// <returns><paramref name="task"/>, so that <c>await ExitRegistry.Track(SaveAsync(), "save")</c> reads naturally.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="task"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The exit sequence has passed its point of no return: nothing would wait for the task.</exception>
    /// <remarks>
    /// <para>
    /// No Python equivalent (an <c>executor.submit</c> future is the closest). The join step waits for every tracked task
    /// within the same <see cref="JoinTimeout"/> deadline as the threads, on every exit path, <c>Main</c> returning
    /// without RunMain included; a task still running at the deadline is named in <see cref="ShutdownReport.Unfinished"/>
    /// and on stderr. It costs no thread and, on the common path, no allocation: the task takes a slot in a fixed table,
    /// and nothing runs when it completes (a finished task is neither waited for nor reported). A finished task stays
    /// referenced by its slot until a later tracked task takes the slot over, or at most until the sweep after the next
    /// full garbage collection, so it and its result are collectable by the one after: nothing finished is kept alive for
    /// longer. Once the exit has begun, each tracked task gets a continuation that wakes the join. Tracking a task twice
    /// tracks it once, under the first name.
    /// </para>
    /// <para>Thread safety: callable from any thread, including from hooks before the point of no return.</para>
    /// </remarks>
    public static Task Track(Task task, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (!task.IsCompleted && !ThreadRegistry.Default.Track(task, name))
        {
            throw new InvalidOperationException(
                "can't track a task at interpreter shutdown: the exit sequence has passed its point of no return, so nothing would wait for it. Track it before the process begins to exit.");
        }

        return task;
    }

    /// <summary>Makes <paramref name="task"/> must-finish work; see <see cref="Track(Task, string?)"/>.</summary>
    /// <typeparam name="T">The task's result type.</typeparam>
    /// <param name="task">The task.</param>
    /// <param name="name">The name the report gives it when it does not finish.</param>
    /// <returns><paramref name="task"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="task"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The exit sequence has passed its point of no return.</exception>
    public static Task<T> Track<T>(Task<T> task, string? name = null)
    {
        Track((Task)task, name);
        return task;
    }

    /// <summary>Ends the process with <paramref name="exitCode"/> after the exit sequence; callable from any thread.</summary>
    /// <param name="exitCode">The process exit code. The first exit path that claims a code wins; later ones keep it.</param>
    /// <exception cref="InvalidOperationException">Called from a hook or a <see cref="ShuttingDown"/> callback (the process is already exiting).</exception>
    /// <exception cref="ThreadExitException">
    /// Called while the exit sequence already runs from a <see cref="DaemonThread"/>'s body, from task code, or from
    /// RunMain's main program: the code is claimed and that code ends (the sequence may be waiting for it), as Python's
    /// <c>SystemExit</c> ends a thread. The default <see cref="DaemonThread.ExceptHook"/> ignores it.
    /// </exception>
    /// <remarks>
    /// <para>
    /// Python equivalent: <c>sys.exit(n)</c> in the main thread. The calling thread is never joined; every other
    /// non-daemon thread is. Use it instead of <see cref="Environment.Exit(int)"/>, whose caller the library cannot
    /// identify. Called from the report handler, it sets the exit code (if no path claimed one) and ends the handler.
    /// Called from an <see cref="AppDomain.ProcessExit"/> handler (before or after the library's own), it runs or waits
    /// for the sequence, sets <see cref="Environment.ExitCode"/> and returns, because <see cref="Environment.Exit(int)"/>
    /// there deadlocks. The README's table "What happens when X calls Y during the exit" lists every case.
    /// </para>
    /// </remarks>
    [DoesNotReturn]
    public static void Exit(int exitCode)
    {
        Coordinator.Exit(exitCode, static () => s_processExiting);
#pragma warning disable CS8763 // Only inside ProcessExit, where Environment.Exit would deadlock (see remarks).
    }
#pragma warning restore CS8763

    [SuppressMessage("Design", "CA1031", Justification = "Python prints whatever escapes the main program, then exits 1; nothing may escape RunMain before the exit sequence.")]
    private static int RunMainCore(object main, Func<object, int> invoke)
    {
        int exitCode;
        Coordinator.MainProgramStarting();
        try
        {
            exitCode = invoke(main);
        }
        catch (ThreadExitException)
        {
            exitCode = 0;
        }
        catch (OperationCanceledException canceled) when (Coordinator.IsShuttingDownToken(canceled.CancellationToken))
        {
            // The token given to main was cancelled by the exit: a normal way for main to stop.
            exitCode = 0;
        }
        catch (Exception ex)
        {
            // Python prints the traceback before it waits for the threads; .NET's own wording for an escaped exception.
            StandardError.Write("Unhandled exception. " + ex + Environment.NewLine);
            exitCode = 1;
        }
        finally
        {
            Coordinator.MainProgramReturned();
        }

        Coordinator.Shutdown(ShutdownTrigger.RunMain);
        return Coordinator.ClaimedExitCode ?? exitCode;
    }

    /// <summary>Forces the registry's one-time installation; every entry point of the library calls it.</summary>
    internal static void EnsureInitialized()
    {
        // The static constructor does the work; this call only makes sure it has run.
    }

    private static void OnProcessExit(object? sender, EventArgs e)
    {
        s_processExiting = true;
        try
        {
            // Runs on the finalizer thread, after the runtime's own wait for foreground threads when Main returned,
            // or at once when Environment.Exit was called. Never calls Environment.Exit (that deadlocks here).
            // The code the runtime will exit with (Environment.Exit's argument, or Main's result) is this path's claim:
            // an earlier claim (ExitRegistry.Exit, a signal) wins, a later one loses (SPEC 5.5).
            Coordinator.ClaimExitCode(Environment.ExitCode);
            if (!Coordinator.IsDone)
            {
                // Finished already (RunMain, Exit): Shutdown would only hand this thread the report it has no use for.
                Coordinator.Shutdown(ShutdownTrigger.ProcessExit, callerMayBeBlocked: true);
            }

            if (Coordinator.ClaimedExitCode is int code)
            {
                Environment.ExitCode = code;
            }
        }
        catch (Exception ex)
        {
            // An exception escaping a ProcessExit handler crashes the process and skips the other handlers.
            StandardError.Write("Exception in the DaemonThreads exit sequence:" + Environment.NewLine + ex + Environment.NewLine);
        }
    }
}
