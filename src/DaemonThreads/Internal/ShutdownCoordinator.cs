using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace DaemonThreads.Internal;

/// <summary>
/// The exit sequence and its hooks: the logic behind <see cref="ExitRegistry"/>, as an instance tests can create in
/// isolation.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The process-wide coordinator lives until the process exits; its events are waited on during exit, so disposing them would be wrong.")]
internal sealed class ShutdownCoordinator
{
    // Listed names per stderr line; the report object always has them all.
    private const int MaxNamesPerLine = 20;

    private readonly ThreadRegistry _registry;
    private readonly bool _isProcessWide;
    private readonly object _lock = new();
    private readonly List<Action> _beforeJoin = [];
    private readonly List<Action> _atExit = [];
    private readonly List<Exception> _hookErrors = [];
    private readonly List<IExitParticipant> _participants = [];
    private readonly CancellationTokenSource _shuttingDown = new();
    private readonly ManualResetEventSlim _done = new(false);
    private readonly ManualResetEventSlim _mainStopped = new(false);
    private TimeSpan _joinTimeout = Timeout.InfiniteTimeSpan;
    private TimeSpan _daemonGracePeriod = TimeSpan.Zero;
    private Phase _phase;
    private int _runnerThreadId;
    private volatile bool _stopWaiting;
    private ShutdownTrigger _trigger;
    private long _startTimestamp;
    private ShutdownReport? _report;
    private int? _exitCodeOverride;

    internal ShutdownCoordinator(ThreadRegistry registry, bool isProcessWide)
    {
        _registry = registry;
        _isProcessWide = isProcessWide;
    }

    private enum Phase
    {
        Idle,
        BeforeJoin,
        Joining,
        AtExit,
        Done,
    }

    /// <summary>Gets or sets the bound of the whole join step.</summary>
    internal TimeSpan JoinTimeout
    {
        get
        {
            lock (_lock)
            {
                return _joinTimeout;
            }
        }

        set
        {
            DaemonThread.ValidateTimeout(value, nameof(value));
            lock (_lock)
            {
                _joinTimeout = value;
            }
        }
    }

    /// <summary>Gets or sets how long daemon threads get, in total, to finish after the join.</summary>
    internal TimeSpan DaemonGracePeriod
    {
        get
        {
            lock (_lock)
            {
                return _daemonGracePeriod;
            }
        }

        set
        {
            DaemonThread.ValidateTimeout(value, nameof(value));
            lock (_lock)
            {
                _daemonGracePeriod = value;
            }
        }
    }

    /// <summary>Gets the token cancelled at the first step of the sequence.</summary>
    internal CancellationToken ShuttingDown => _shuttingDown.Token;

    /// <summary>Gets a value indicating whether the sequence has passed its point of no return.</summary>
    internal bool PastPointOfNoReturn => _registry.PastPointOfNoReturn;

    /// <summary>Gets a value indicating whether the main program has ended (what <c>Main.IsAlive</c> reports).</summary>
    internal bool MainStopped => _mainStopped.IsSet;

    /// <summary>Gets a value indicating whether the sequence has started.</summary>
    internal bool HasStarted
    {
        get
        {
            lock (_lock)
            {
                return _phase != Phase.Idle;
            }
        }
    }

    /// <summary>Gets the exit path that started the sequence (meaningful once <see cref="HasStarted"/> is <see langword="true"/>).</summary>
    internal ShutdownTrigger Trigger
    {
        get
        {
            lock (_lock)
            {
                return _trigger;
            }
        }
    }

    /// <summary>Gets a value indicating whether the calling thread is the one running the sequence, with the sequence not finished.</summary>
    internal bool IsRunningOnCurrentThread
    {
        get
        {
            lock (_lock)
            {
                return _phase != Phase.Idle && _phase != Phase.Done && _runnerThreadId == Environment.CurrentManagedThreadId;
            }
        }
    }

    /// <summary>Gets or sets where the report goes; <see langword="null"/> writes it to stderr.</summary>
    internal Action<ShutdownReport>? ReportSink { get; set; }

    /// <summary>Gets the exit code a signal asked for while the sequence ran, if any.</summary>
    internal int? ExitCodeOverride
    {
        get
        {
            lock (_lock)
            {
                return _exitCodeOverride;
            }
        }
    }

    internal void RegisterAtExit(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_lock)
        {
            if (_phase >= Phase.AtExit)
            {
                throw new InvalidOperationException(
                    "can't register atexit after shutdown: the at-exit hooks are already running or done, so this one would never run. Register it before the process begins to exit.");
            }

            _atExit.Add(callback);
        }
    }

    internal bool UnregisterAtExit(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_lock)
        {
            return _atExit.RemoveAll(h => h.Equals(callback)) > 0;
        }
    }

    internal void RegisterBeforeJoin(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_lock)
        {
            if (_phase != Phase.Idle)
            {
                throw new InvalidOperationException(
                    "can't register atexit after shutdown: the before-join hooks have already been collected, so this one would never run. Register it before the process begins to exit.");
            }

            _beforeJoin.Add(callback);
        }
    }

    /// <summary>Adds a participant (a pool) that is told when the sequence begins and asked what it leaves unfinished.</summary>
    /// <returns><see langword="false"/> when the sequence has already begun: the participant must act as shut down.</returns>
    internal bool AddParticipant(IExitParticipant participant)
    {
        lock (_lock)
        {
            if (_phase != Phase.Idle)
            {
                return false;
            }

            _participants.Add(participant);
            return true;
        }
    }

    /// <summary>Removes a participant that has shut down on its own and has nothing left to report.</summary>
    internal void RemoveParticipant(IExitParticipant participant)
    {
        lock (_lock)
        {
            _participants.Remove(participant);
        }
    }

    /// <summary>Waits until the main program has ended.</summary>
    internal bool WaitMainStopped(TimeSpan timeout) => _mainStopped.Wait(timeout);

    /// <summary>Ends the waits of the sequence now (a second signal): what is still running is reported and abandoned.</summary>
    internal void StopWaiting(int? exitCode)
    {
        lock (_lock)
        {
            _exitCodeOverride ??= exitCode;
        }

        _stopWaiting = true;
        _registry.PulseWaiters();
    }

    /// <summary>Records the exit code a path will end with, unless one was recorded before (the first wins).</summary>
    internal int ClaimExitCode(int exitCode)
    {
        lock (_lock)
        {
            _exitCodeOverride ??= exitCode;
            return _exitCodeOverride.Value;
        }
    }

    /// <summary>
    /// Runs the exit sequence once; later and concurrent calls wait for it and return the same report.
    /// </summary>
    /// <param name="trigger">The exit path.</param>
    /// <param name="callerMayBeBlocked">
    /// <see langword="true"/> on the <see cref="AppDomain.ProcessExit"/> path, where some thread may be blocked in
    /// <see cref="Environment.Exit(int)"/> without the library being able to tell which.
    /// </param>
    /// <remarks>
    /// The order (SPEC §3.2):
    /// <list type="number">
    /// <item>Mark shutting down and cancel <see cref="ShuttingDown"/>; <see cref="RegisterBeforeJoin"/> throws from here.</item>
    /// <item>Run the before-join hooks, newest first; a failing hook is reported and the others still run.</item>
    /// <item>Wait for every non-daemon thread except the caller, including threads started meanwhile, within one
    /// <see cref="JoinTimeout"/> deadline for the whole step.</item>
    /// <item>Give daemon threads up to <see cref="DaemonGracePeriod"/> in total to finish.</item>
    /// <item>Run the at-exit hooks, newest first; a failing hook is reported and the others still run. Non-daemon threads
    /// they started are joined within what is left of the step 3 deadline.</item>
    /// <item>Point of no return: build the report (timed-out non-daemon threads, abandoned daemon threads), write it,
    /// and refuse non-daemon starts from now on.</item>
    /// </list>
    /// </remarks>
    internal ShutdownReport Shutdown(ShutdownTrigger trigger, bool callerMayBeBlocked = false)
    {
        DaemonThread? caller = DaemonThread.CurrentStartedOrNull();
        if (caller is not null && !caller.IsDaemon)
        {
            // The caller is never joined: it would be waiting for itself.
            _registry.Exempt(caller);
        }

        bool run;
        lock (_lock)
        {
            run = _phase == Phase.Idle;
            if (run)
            {
                _phase = Phase.BeforeJoin;
                _trigger = trigger;
                _runnerThreadId = Environment.CurrentManagedThreadId;
                _startTimestamp = Stopwatch.GetTimestamp();
            }
        }

        if (!run)
        {
            if (IsRunningOnCurrentThread)
            {
                // Called from a hook: waiting would deadlock, so answer with what is known so far.
                return Provisional();
            }

            // Deliberately unbounded: the running sequence is itself bounded by JoinTimeout and the hooks the user wrote.
            _done.Wait();
            return _report!;
        }

        // Hooks run "as the main program" unless a DaemonThread runs the sequence (CPython runs them on the main thread).
        DaemonThread? previous = caller is null ? DaemonThread.OverrideCurrent(DaemonThread.Main) : null;
        try
        {
            return RunSequence(trigger, caller, callerMayBeBlocked);
        }
        finally
        {
            if (caller is null)
            {
                DaemonThread.RestoreCurrent(previous);
            }
        }
    }

    private ShutdownReport RunSequence(ShutdownTrigger trigger, DaemonThread? caller, bool callerMayBeBlocked)
    {
        // 1. Shutting down: wake whoever watches the token.
        _registry.BeginShutdown();
        try
        {
            _shuttingDown.Cancel();
        }
        catch (AggregateException callbacksFailed)
        {
            // A loop here, in a handler, would make the JIT compile this whole method fully optimised (on-stack
            // replacement cannot patch loops in handlers): measurably slower at its one call, so it is a method of its own.
            RecordCallbackErrors(callbacksFailed);
        }

        // 2. Before-join hooks, newest first.
        Action[] hooks;
        lock (_lock)
        {
            hooks = [.. _beforeJoin];
        }

        RunHooks(hooks, "before-join hook");

        IExitParticipant[] participants;
        lock (_lock)
        {
            participants = [.. _participants];
        }

        foreach (IExitParticipant participant in participants)
        {
            participant.BeginShutdown();
        }

        // CPython marks the main thread stopped before the join when the main program has ended.
        if (_isProcessWide && (trigger is ShutdownTrigger.RunMain or ShutdownTrigger.ProcessExit || (caller is null && Environment.CurrentManagedThreadId == 1)))
        {
            _mainStopped.Set();
        }

        // 3. Join the non-daemon threads within one deadline.
        TimeSpan joinTimeout;
        TimeSpan grace;
        lock (_lock)
        {
            _phase = Phase.Joining;
            joinTimeout = _joinTimeout;
            grace = _daemonGracePeriod;
        }

        Func<bool> stop = () => _stopWaiting;
        var deadline = Deadline.After(joinTimeout);
        Deadline? lastThreadDeadline = null;
        JoinNonDaemon();

        // 4. Grace period for daemon threads that watch ShuttingDown.
        if (grace > TimeSpan.Zero)
        {
            // A daemon caller (ExitRegistry.Exit or Shutdown from a daemon thread) is running this very sequence: it
            // cannot finish during the grace period, so it is not waited for.
            _registry.WaitForDaemons(caller is { IsDaemon: true } ? 1 : 0, Deadline.After(grace), stop);
        }

        // 5. At-exit hooks, newest first.
        lock (_lock)
        {
            _phase = Phase.AtExit;
            hooks = [.. _atExit];
        }

        RunHooks(hooks, "at-exit hook");

        // Threads an at-exit hook started are joined too, before the point of no return (SPEC §4; CPython main,
        // gh-136003), within what is left of the same deadlines: the join step keeps its one bound.
        JoinNonDaemon();

        // 6. Point of no return.
        var (joined, timedOut, abandoned) = _registry.PassPointOfNoReturn();
        foreach (DaemonThread t in timedOut)
        {
            t.AbandonAtExit();
        }

        if (_isProcessWide)
        {
            _mainStopped.Set();
        }

        var unfinished = new List<UnfinishedWork>();
        foreach (DaemonThread t in timedOut)
        {
            unfinished.Add(new UnfinishedWork(ExitWorkKind.Thread, t.Name, thread: t));
        }

        foreach (IExitParticipant participant in participants)
        {
            participant.AtPointOfNoReturn(unfinished);
        }

        foreach (DaemonThread t in abandoned)
        {
            unfinished.Add(new UnfinishedWork(ExitWorkKind.DaemonThread, t.Name, thread: t));
        }

        ShutdownReport report;
        lock (_lock)
        {
            report = new ShutdownReport(trigger, joined, timedOut, abandoned, [.. _hookErrors], Stopwatch.GetElapsedTime(_startTimestamp), isComplete: true, unfinished);
            _report = report;
            _phase = Phase.Done;
        }

        if (_isProcessWide)
        {
            DaemonThreadsMetrics.ShutdownCompleted(report);
        }

        Publish(report);
        _done.Set();
        return report;

        void JoinNonDaemon()
        {
            if (callerMayBeBlocked && deadline.IsInfinite)
            {
                // Environment.Exit: the thread that called it is blocked for good and may be a non-daemon thread, which
                // no API lets us identify. Every other non-daemon thread is waited for without a bound; the last one
                // may be that caller, so it gets a bounded wait instead of a deadlock (README, "Environment.Exit").
                // The bound is set once: a second pass (after the at-exit hooks) does not give the caller another 30 s.
                _registry.WaitForNonDaemon(1, Deadline.Infinite, stop);
                lastThreadDeadline ??= Deadline.After(ExitRegistry.EnvironmentExitLastThreadTimeout);
                _registry.WaitForNonDaemon(0, lastThreadDeadline.Value, stop);
            }
            else
            {
                _registry.WaitForNonDaemon(0, deadline, stop);
            }
        }
    }

    /// <summary>
    /// Runs the whole sequence once on a private, empty registry, so that its code is compiled and its types are loaded
    /// before a real exit needs them.
    /// </summary>
    /// <remarks>
    /// Measured (benchmarks/README.md): compiling the sequence on its first run put about 10 ms between the last
    /// non-daemon thread's end and the end of the exit sequence. <see cref="ExitRegistry"/> runs this on a short-lived
    /// background thread when it initialises, off the application's threads. Nothing here is visible: the registry, hooks and report
    /// are private, and a coordinator that is not process-wide records no metrics and writes nothing to stderr.
    /// </remarks>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031", Justification = "A rehearsal only saves time; whatever goes wrong in it must not reach the application, and the real exit runs the same code and reports it.")]
    internal static void Rehearse()
    {
        try
        {
            var rehearsal = new ShutdownCoordinator(new ThreadRegistry(), isProcessWide: false);
            rehearsal.RegisterBeforeJoin(static () => { });
            rehearsal.RegisterAtExit(static () => { });
            ShutdownReport report = rehearsal.Shutdown(ShutdownTrigger.ProcessExit, callerMayBeBlocked: true);
            _ = FormatForStandardError(report);
        }
        catch (Exception)
        {
            // Nothing to do: the real sequence compiles whatever the rehearsal did not.
        }
    }

    private void RecordCallbackErrors(AggregateException callbacksFailed)
    {
        foreach (Exception e in callbacksFailed.InnerExceptions)
        {
            RecordHookError("ShuttingDown callback", e);
        }
    }

    private ShutdownReport Provisional()
    {
        lock (_lock)
        {
            return new ShutdownReport(_trigger, [], [], [], [.. _hookErrors], Stopwatch.GetElapsedTime(_startTimestamp), isComplete: false);
        }
    }

    private void RunHooks(Action[] hooks, string kind)
    {
        for (int i = hooks.Length - 1; i >= 0; i--)
        {
            try
            {
                hooks[i]();
            }
            catch (Exception e)
            {
                RecordHookError(kind + " " + HookName(hooks[i]), e);
            }
        }
    }

    private void RecordHookError(string where, Exception e)
    {
        lock (_lock)
        {
            _hookErrors.Add(e);
        }

        if (ReportSink is null && _isProcessWide)
        {
            StandardError.Write("Exception ignored in " + where + ":" + Environment.NewLine + e + Environment.NewLine);
        }
    }

    private void Publish(ShutdownReport report)
    {
        Action<ShutdownReport>? sink = ReportSink;
        if (sink is not null)
        {
            try
            {
                sink(report);
            }
            catch (Exception e)
            {
                StandardError.Write("Exception in the shutdown report sink:" + Environment.NewLine + e + Environment.NewLine);
            }

            return;
        }

        if (!_isProcessWide)
        {
            return;
        }

        string text = FormatForStandardError(report);
        if (text.Length > 0)
        {
            StandardError.Write(text);
        }
    }

    /// <summary>Formats the stderr lines of a report: one for timed-out non-daemon threads, one for abandoned daemon threads.</summary>
    internal static string FormatForStandardError(ShutdownReport report)
    {
        var text = new StringBuilder();
        if (report.TimedOut.Count > 0)
        {
            text.Append("DaemonThreads: shutdown stopped waiting for ")
                .Append(report.TimedOut.Count.ToString(CultureInfo.InvariantCulture))
                .Append(" non-daemon thread(s), abandoned: ");
            AppendNames(text, report.TimedOut);
        }

        if (report.Abandoned.Count > 0)
        {
            text.Append("DaemonThreads: shutdown abandoned ")
                .Append(report.Abandoned.Count.ToString(CultureInfo.InvariantCulture))
                .Append(" daemon thread(s): ");
            AppendNames(text, report.Abandoned);
        }

        return text.ToString();
    }

    private static void AppendNames(StringBuilder text, IReadOnlyList<DaemonThread> threads)
    {
        int shown = Math.Min(threads.Count, MaxNamesPerLine);
        for (int i = 0; i < shown; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            text.Append(threads[i].Name);
        }

        if (threads.Count > shown)
        {
            text.Append(" and ").Append((threads.Count - shown).ToString(CultureInfo.InvariantCulture)).Append(" more");
        }

        text.Append(Environment.NewLine);
    }

    private static string HookName(Action hook)
        => (hook.Method.DeclaringType?.Name is { } type ? type + "." : string.Empty) + ThreadNaming.TargetName(hook);
}
