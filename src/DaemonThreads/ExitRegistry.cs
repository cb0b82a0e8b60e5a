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
/// <para>Thread safety: every member may be called from any thread.</para>
/// </remarks>
public static class ExitRegistry
{
    /// <summary>
    /// How long the <see cref="Environment.Exit(int)"/> path waits for the last non-daemon thread when
    /// <see cref="JoinTimeout"/> is infinite: that thread may be the one blocked in <see cref="Environment.Exit(int)"/>.
    /// </summary>
    internal static readonly TimeSpan EnvironmentExitLastThreadTimeout = TimeSpan.FromSeconds(30);

    private static volatile bool s_processExiting;

    static ExitRegistry()
    {
        Coordinator = new ShutdownCoordinator(ThreadRegistry.Default, isProcessWide: true);
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        if (!AppContext.TryGetSwitch("DaemonThreads.HandleSignals", out bool handle) || handle)
        {
            SignalHandlers.Install();
        }

        // Off the application's threads: compile the exit sequence now rather than while an exiting process waits
        // for it, then create the meter (both measured in benchmarks/README.md). A short-lived thread of its own, not
        // the thread pool: the pool's first use cost 4-5 ms on the calling thread in a program that had not used it.
        // DaemonThread's statics first, on this thread: identifying the main thread reads the OS id of the calling thread
        // when it is the main thread (the only way off Linux), which the warm-up thread must not do in its place.
        _ = DaemonThread.Main;
        StartWarmUp();
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
    public static ShutdownReport Shutdown(ShutdownTrigger trigger) => Coordinator.Shutdown(trigger);

    /// <summary>Runs <paramref name="main"/> as the main program, then the exit sequence; returns the exit code for <c>Main</c> to return.</summary>
    /// <param name="main">The main program; its result is the exit code.</param>
    /// <returns><paramref name="main"/>'s result; 1 if it threw (the exception is printed to stderr first); 0 if it threw <see cref="ThreadExitException"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="main"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// Python equivalent: the interpreter running a script. Use it as <c>return ExitRegistry.RunMain(() =&gt; { ... });</c>
    /// so that non-daemon threads are joined (within <see cref="JoinTimeout"/>), hooks run in order, and the
    /// report is written before <c>Main</c> returns, even when <paramref name="main"/> throws.
    /// </remarks>
    public static int RunMain(Func<int> main)
    {
        ArgumentNullException.ThrowIfNull(main);
        int exitCode;
        try
        {
            exitCode = main();
        }
        catch (ThreadExitException)
        {
            exitCode = 0;
        }
        catch (Exception ex)
        {
            // Python prints the traceback before it waits for the threads; .NET's own wording for an escaped exception.
            StandardError.Write("Unhandled exception. " + ex + Environment.NewLine);
            exitCode = 1;
        }

        Coordinator.Shutdown(ShutdownTrigger.RunMain);
        return Coordinator.ExitCodeOverride ?? exitCode;
    }

    /// <summary>Runs <paramref name="main"/> as the main program, then the exit sequence; returns the exit code for <c>Main</c> to return.</summary>
    /// <param name="main">The main program.</param>
    /// <returns>0, or 1 if <paramref name="main"/> threw (the exception is printed to stderr first).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="main"/> is <see langword="null"/>.</exception>
    /// <remarks>See <see cref="RunMain(Func{int})"/>.</remarks>
    public static int RunMain(Action main)
    {
        ArgumentNullException.ThrowIfNull(main);
        return RunMain(() =>
        {
            main();
            return 0;
        });
    }

    /// <summary>Ends the process with <paramref name="exitCode"/> after the exit sequence; callable from any thread.</summary>
    /// <param name="exitCode">The process exit code. If several threads exit at once, the first code wins.</param>
    /// <exception cref="InvalidOperationException">Called from a hook while the sequence runs (the process is already exiting).</exception>
    /// <remarks>
    /// Python equivalent: <c>sys.exit(n)</c> in the main thread. The calling thread is never joined; every other
    /// non-daemon thread is. Use it instead of <see cref="Environment.Exit(int)"/>, whose caller the library cannot
    /// identify. Called from an <see cref="AppDomain.ProcessExit"/> handler, it runs the sequence, sets
    /// <see cref="Environment.ExitCode"/> and returns, because <see cref="Environment.Exit(int)"/> there deadlocks.
    /// </remarks>
    [DoesNotReturn]
    public static void Exit(int exitCode)
    {
        if (Coordinator.IsRunningOnCurrentThread)
        {
            throw new InvalidOperationException(
                "cannot exit from inside a shutdown hook: the process is already exiting. Return from the hook instead; the exit code stays the one the exit path chose.");
        }

        int code = Coordinator.ClaimExitCode(exitCode);
        Coordinator.Shutdown(ShutdownTrigger.Exit);
        if (s_processExiting)
        {
            Environment.ExitCode = code;
#pragma warning disable CS8763 // The runtime is already exiting; Environment.Exit here would deadlock (see remarks).
            return;
#pragma warning restore CS8763
        }

        Environment.Exit(code);
    }

    /// <summary>Forces the registry's one-time installation; every entry point of the library calls it.</summary>
    internal static void EnsureInitialized()
    {
        // The static constructor does the work; this call only makes sure it has run.
    }

    [SuppressMessage("Design", "CA1031", Justification = "The warm-up only saves time later; failing to start it (no threads on this platform, none left in this process) must not make the library unusable.")]
    private static void StartWarmUp()
    {
        try
        {
            new Thread(WarmUp, 256 * 1024) { IsBackground = true, Name = ".NET DaemonThreads warm-up" }.Start();
        }
        catch (Exception)
        {
            // Everything the warm-up does happens anyway on first real use, only later.
        }
    }

    [SuppressMessage("Design", "CA1031", Justification = "The warm-up only saves time later; a failure in it must not crash the process, and what it skipped happens on first real use.")]
    private static void WarmUp()
    {
        ShutdownCoordinator.Rehearse();
        try
        {
            // Not once the process is exiting: the 18 ms would only delay the exit, and no listener can subscribe now.
            if (!Coordinator.HasStarted)
            {
                DaemonThreadsMetrics.EnsureCreated();
            }
        }
        catch (Exception)
        {
            // No meter: the library works without one, and nothing can listen to a meter that does not exist.
        }
    }

    private static void OnProcessExit(object? sender, EventArgs e)
    {
        s_processExiting = true;
        try
        {
            // Runs on the finalizer thread, after the runtime's own wait for foreground threads when Main returned,
            // or at once when Environment.Exit was called. Never calls Environment.Exit (that deadlocks here).
            Coordinator.Shutdown(ShutdownTrigger.ProcessExit, callerMayBeBlocked: true);
            if (Coordinator.ExitCodeOverride is int code)
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
