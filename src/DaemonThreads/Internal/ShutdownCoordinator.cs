using System.Diagnostics;

namespace DaemonThreads.Internal;

/// <summary>
/// The exit sequence: an explicit state machine over one wait primitive, with the logic behind <see cref="ExitRegistry"/>,
/// as an instance tests can create in isolation.
/// </summary>
/// <remarks>
/// <para>
/// Files: this one holds the state, the entry point and the ordered steps; <c>ShutdownCoordinator.Callers.cs</c> the one
/// place that classifies a caller and decides what a call made during the exit does (the README's re-entrancy table);
/// <c>ShutdownCoordinator.Wait.cs</c> the wait primitive and the step runner that runs user code under a bound;
/// <c>ShutdownCoordinator.Report.cs</c> the report and its stderr lines.
/// </para>
/// <para>
/// One lock: the registry's. Every change that can end a wait (a thread or tracked task finishing, a hook returning,
/// the main program returning, a stop request, the Environment.Exit path being detected) pulses its monitor, so no wait
/// polls.
/// </para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The process-wide coordinator lives until the process exits; its events are waited on during exit, so disposing them would be wrong.")]
internal sealed partial class ShutdownCoordinator
{
    private readonly ThreadRegistry _registry;
    private readonly bool _isProcessWide;
    private readonly bool _emitTraces; // isolated coordinators (tests) show up in traces only when asked
    private readonly object _lock;
    // The lists are created on first use, under _lock: each List<T> over a library type is a generic instantiation the
    // runtime builds from metadata when it is first created (40-100 us each at start-up; benchmarks/README.md, "Wave 4"),
    // and a program that registers nothing needs none of them.
    private List<Action>? _beforeJoin;
    private List<Action>? _atExit;
    private List<Exception>? _hookErrors;
    private List<UnfinishedWork>? _abandonedHooks;
    private List<IExitParticipant>? _participants;
    // Created when the token is first asked for, under _lock, and only before the sequence begins: until then nothing can
    // be registered on it, so a sequence that begins first has no callbacks to run, and the getter answers a cancelled
    // token from then on (no source, no callbacks step).
    private CancellationTokenSource? _shuttingDown;
    private bool _handedOutCancelled; // ShuttingDown returned a cancelled token without a source (IsShuttingDownToken)
    private readonly ManualResetEventSlim _done = new(false);
    private readonly ManualResetEventSlim _mainStopped = new(false);
    private TimeSpan _joinTimeout = Timeout.InfiniteTimeSpan;
    private TimeSpan _daemonGracePeriod = TimeSpan.Zero;
    // Written under _lock; volatile so that HasStarted (every pool submit) reads it without the lock.
    private volatile Phase _phase;
    private int _runnerThreadId;
    private DaemonThread? _runnerIdentity;
    private ShutdownTrigger _trigger;
    private int? _signalNumber;
    private long _startTimestamp;
    private ShutdownReport? _report;
    private int? _claimedExitCode;
    private int _stopRequests;
    private bool _callerMayBeBlocked;
    private bool _quietPeriodSpent;
    private int? _forcedExitCode; // the first stop request's 128 + n: it abandons work, so it overrides a claimed code
    // The few threads that hooks join; a list, as everything else here, created when a hook first joins one.
    private List<DaemonThread>? _joinedBySteps;
    private int _mainProgramThreadId; // the thread running RunMain's main; 0 when none
    private bool _mainProgramRunning;

    internal ShutdownCoordinator(ThreadRegistry registry, bool isProcessWide, bool emitTraces = false)
    {
        _registry = registry;
        _isProcessWide = isProcessWide;
        _emitTraces = isProcessWide || emitTraces;
        _lock = registry.SyncRoot;
    }

    /// <summary>The states of the sequence, in order; it only moves forward.</summary>
    internal enum Phase
    {
        /// <summary>Nothing has begun.</summary>
        Idle,

        /// <summary><see cref="ShuttingDown"/> is being cancelled; on a signal under RunMain, the main program is waited for.</summary>
        Begun,

        /// <summary>Before-join hooks and participants (pools) run.</summary>
        BeforeJoin,

        /// <summary>Non-daemon threads and tracked tasks are waited for; then the grace period.</summary>
        Joining,

        /// <summary>At-exit hooks run; then the last join and the point of no return.</summary>
        AtExit,

        /// <summary>Past the point of no return: the report is published.</summary>
        Reporting,

        /// <summary>Finished: later calls get the report.</summary>
        Done,
    }

    /// <summary>Gets or sets the bound of the join step, and of each step that runs user code.</summary>
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

    /// <summary>Gets whether <paramref name="token"/> is one that <see cref="ShuttingDown"/> handed out, without creating the source when it never did.</summary>
    /// <remarks>
    /// For <c>RunMain</c>'s check of an escaped <see cref="OperationCanceledException"/>: reading <see cref="ShuttingDown"/>
    /// there compiled <see cref="CancellationTokenSource"/> (and, through its cancellation, enum formatting) into every
    /// NativeAOT image that calls <c>RunMain</c>, and created a source for a main program that never took the token.
    /// </remarks>
    internal bool IsShuttingDownToken(CancellationToken token)
    {
        CancellationTokenSource? source = Volatile.Read(ref _shuttingDown);
        // Without a source, ShuttingDown may have handed out only a cancelled token with none (once the sequence began):
        // a cancelled token is then taken for it, without naming CancellationToken(true), whose static source would
        // compile the type back in.
        return source is not null
            ? token == source.Token
            : Volatile.Read(ref _handedOutCancelled) && token.IsCancellationRequested;
    }

    /// <summary>Gets the token cancelled at the first step of the sequence.</summary>
    internal CancellationToken ShuttingDown
    {
        get
        {
            CancellationTokenSource? source = Volatile.Read(ref _shuttingDown);
            if (source is null)
            {
                lock (_lock)
                {
                    if (_shuttingDown is null && _phase != Phase.Idle)
                    {
                        // Nobody asked before the sequence began, so nothing was registered on it: cancelled, with no source.
                        Volatile.Write(ref _handedOutCancelled, true);
                        return new CancellationToken(canceled: true);
                    }

                    source = _shuttingDown ??= new CancellationTokenSource();
                }
            }

            return source.Token;
        }
    }

    /// <summary>Gets a value indicating whether the sequence has passed its point of no return.</summary>
    internal bool PastPointOfNoReturn => _registry.PastPointOfNoReturn;

    /// <summary>Gets a value indicating whether the main program has ended (what <c>Main.IsAlive</c> reports).</summary>
    internal bool MainStopped => _mainStopped.IsSet;

    /// <summary>Gets a value indicating whether the sequence has started.</summary>
    /// <remarks>
    /// A volatile read without the lock: <see cref="DaemonThreadPool.Submit(Action)"/> reads it on every call. The phase
    /// only moves forward, and it moves from Idle before anything of the sequence runs (ShuttingDown, hooks,
    /// participants), so code that sees any of those sees the sequence started.
    /// </remarks>
    internal bool HasStarted => _phase != Phase.Idle;

    /// <summary>Gets a value indicating whether the sequence has finished.</summary>
    internal bool IsDone => _done.IsSet;

    /// <summary>Gets the state of the sequence.</summary>
    internal Phase CurrentPhase
    {
        get
        {
            lock (_lock)
            {
                return _phase;
            }
        }
    }

    /// <summary>Gets the exit path that started the sequence, or <see langword="null"/> before it starts.</summary>
    internal ShutdownTrigger? Trigger
    {
        get
        {
            lock (_lock)
            {
                return _phase == Phase.Idle ? null : _trigger;
            }
        }
    }

    /// <summary>Gets the POSIX number of the signal that started the sequence, if a signal did.</summary>
    internal int? SignalNumber
    {
        get
        {
            lock (_lock)
            {
                return _phase == Phase.Idle ? null : _signalNumber;
            }
        }
    }

    /// <summary>Gets or sets where the report goes; <see langword="null"/> writes it to stderr.</summary>
    internal Action<ShutdownReport>? ReportSink { get; set; }

    /// <summary>
    /// Gets the exit code the process ends with, if decided: the first claimed code (SPEC 5.5), unless a second signal
    /// abandoned work, whose 128 + n then wins (README: "a second signal abandons, exit 128 + n").
    /// </summary>
    internal int? ClaimedExitCode
    {
        get
        {
            lock (_lock)
            {
                return _forcedExitCode ?? _claimedExitCode;
            }
        }
    }

    /// <summary>Records the shutdown instruments (under NativeAOT, creating the meter first), as user code the sequence runs.</summary>
    /// <remarks>
    /// A listener's callbacks (InstrumentPublished, the measurement callback) are user code: when one can run here, the
    /// recording is a step of its own on a step thread, bounded like a hook by <paramref name="joinTimeout"/> (when finite)
    /// and ended by a second signal, so a callback that never returns cannot hold the exit; one abandoned is named on
    /// stderr. The callbacks are classified as a step, so that <see cref="ExitRegistry.Exit(int)"/> from them
    /// throws and <see cref="Shutdown"/> answers at once instead of waiting for the sequence that is waiting for them
    /// (which hung the exit); what they throw is dropped, as the runtime's own instruments would leave it to the listener.
    /// With nobody listening (the common case) nothing is recorded and no thread is started. A listener that enables an
    /// instrument after that check (its meter created on the background thread at this moment, say) misses this one
    /// recording, as if it had subscribed a moment later: recording anyway would run its callback inline, unbounded.
    /// </remarks>
    private void RecordMetrics(ShutdownReport report, TimeSpan joinTimeout)
    {
        if (DaemonThreadsMetrics.ShutdownCallbacksCanRun())
        {
            RecordMetricsAsStep(report, joinTimeout);
        }
    }

    // Apart, never inlined: its closure would be allocated where RecordMetrics begins, and its List<UserStep> makes the
    // runtime load the System.Collections facade when it prepares the method; a short program's exit needs neither.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void RecordMetricsAsStep(ShutdownReport report, TimeSpan joinTimeout)
    {
        if (!RunUserSteps([new UserStep(ListenerStepName, () => RecordQuietly(report))], Deadline.After(joinTimeout)))
        {
            StandardError.Write("DaemonThreads: a MeterListener callback at exit did not return within its bound and was abandoned" + Environment.NewLine);
        }
    }

    private const string ListenerStepName = "MeterListener callback";

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031", Justification = "A listener's failing callback must not fail or hang the exit.")]
    private static void RecordQuietly(ShutdownReport report)
    {
        try
        {
            DaemonThreadsMetrics.ShutdownCompleted(report);
        }
        catch (Exception)
        {
            // The listener's: the report, the hooks and the exit code do not depend on it.
        }
    }

    /// <summary>
    /// Notes that user code run by the sequence (a hook) joins <paramref name="thread"/>: that thread's own
    /// <see cref="Shutdown"/> call then returns at once instead of waiting for the sequence (issue 9 #4).
    /// </summary>
    internal void NoteJoinedByStep(DaemonThread thread)
    {
        if (ReferenceEquals(t_stepOwner, this))
        {
            NoteJoinedByStepCore(thread);
        }
    }

    // Apart, never inlined: every Join calls NoteJoinedByStep, and a method that creates a List<DaemonThread> makes the
    // runtime load that type (and the System.Collections facade, 0.3-0.6 ms) when it prepares the method, even when the
    // list is never made (benchmarks/README.md, issue 11 "Wave 4").
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void NoteJoinedByStepCore(DaemonThread thread)
    {
        lock (_lock)
        {
            _joinedBySteps ??= [];
            if (!_joinedBySteps.Contains(thread))
            {
                _joinedBySteps.Add(thread);
                Monitor.PulseAll(_lock);
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

            (_atExit ??= []).Add(callback);
        }
    }

    internal bool UnregisterAtExit(Action callback)
    {
        ArgumentNullException.ThrowIfNull(callback);
        lock (_lock)
        {
            return _atExit is not null && _atExit.RemoveAll(h => h.Equals(callback)) > 0;
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

            (_beforeJoin ??= []).Add(callback);
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

            (_participants ??= []).Add(participant);
            return true;
        }
    }

    /// <summary>Removes a participant that has shut down on its own and has nothing left to report.</summary>
    internal void RemoveParticipant(IExitParticipant participant)
    {
        lock (_lock)
        {
            _participants?.Remove(participant);
        }
    }

    /// <summary>Waits until the sequence has finished, at most <paramref name="timeout"/>.</summary>
    internal bool WaitDone(TimeSpan timeout) => _done.Wait(timeout);

    /// <summary>Waits until the main program has ended.</summary>
    internal bool WaitMainStopped(TimeSpan timeout) => _mainStopped.Wait(timeout);

    /// <summary>Records the exit code a path will end with, unless one was recorded before (the first wins).</summary>
    /// <returns>The code the process will exit with.</returns>
    internal int ClaimExitCode(int exitCode)
    {
        lock (_lock)
        {
            _claimedExitCode ??= exitCode;
            return _forcedExitCode ?? _claimedExitCode.Value;
        }
    }

    /// <summary>
    /// Ends the wait that runs now (a second signal): the join stops for good, a hook running now is abandoned. What
    /// still runs is reported.
    /// </summary>
    /// <param name="exitCode">The code to exit with if no path claimed one.</param>
    internal void StopWaiting(int? exitCode)
    {
        lock (_lock)
        {
            if (exitCode is int code)
            {
                _forcedExitCode ??= code;
            }

            _stopRequests++;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Marks the calling thread as running RunMain's main program.</summary>
    internal void MainProgramStarting()
    {
        lock (_lock)
        {
            _mainProgramThreadId = Environment.CurrentManagedThreadId;
            _mainProgramRunning = true;
        }
    }

    /// <summary>Marks RunMain's main program as returned (or thrown); wakes a sequence that waits for it.</summary>
    internal void MainProgramReturned()
    {
        lock (_lock)
        {
            _mainProgramRunning = false;
            Monitor.PulseAll(_lock);
        }

        if (_isProcessWide)
        {
            _mainStopped.Set();
        }
    }

    /// <summary>Gets a value indicating whether RunMain's main program is still running.</summary>
    internal bool MainProgramRunning
    {
        get
        {
            lock (_lock)
            {
                return _mainProgramRunning;
            }
        }
    }

    /// <summary>
    /// Runs the exit sequence once; what a later or concurrent call does depends on its caller (see
    /// <see cref="ClassifyCaller"/> and the README's table).
    /// </summary>
    /// <param name="trigger">The exit path.</param>
    /// <param name="callerMayBeBlocked">
    /// <see langword="true"/> on the <see cref="AppDomain.ProcessExit"/> path, where some thread may be blocked in
    /// <see cref="Environment.Exit(int)"/> without the library being able to tell which.
    /// </param>
    /// <param name="signalNumber">The POSIX signal number when a signal starts the sequence.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trigger"/> is not a defined <see cref="ShutdownTrigger"/>.</exception>
    /// <remarks>
    /// The order (SPEC §3.2, §5):
    /// <list type="number">
    /// <item>Begin: refuse new before-join hooks; cancel <see cref="ShuttingDown"/> (its callbacks run as user code,
    /// bounded). On a signal under RunMain, wait for the main program to return, as for a non-daemon thread.</item>
    /// <item>Before-join hooks, newest first, then the participants (pools are marked shut down); bounded by
    /// <see cref="JoinTimeout"/> and a second signal. A failing hook is reported and the others still run.</item>
    /// <item>Join every non-daemon thread and tracked task except the caller, including work started meanwhile, within
    /// one <see cref="JoinTimeout"/> deadline for the whole step.</item>
    /// <item>Give daemon threads up to <see cref="DaemonGracePeriod"/> in total to finish.</item>
    /// <item>At-exit hooks, newest first; bounded as step 2.</item>
    /// <item>In one atomic step: join what the at-exit hooks started (within what is left of the step 3 deadline), then
    /// pass the point of no return: refuse non-daemon starts and tracked tasks from now on.</item>
    /// <item>Build the report (timed-out work, abandoned daemon threads and hooks), publish it (the report handler runs as
    /// bounded user code), then mark the sequence done.</item>
    /// </list>
    /// </remarks>
    internal ShutdownReport Shutdown(ShutdownTrigger trigger, bool callerMayBeBlocked = false, int? signalNumber = null)
    {
        // A range check, not Enum.IsDefined: that reflects over the enum on its first call (a JIT-compiled generic and the
        // runtime's enum cache, about a millisecond of a short program's exit; benchmarks/README.md, "Start-up").
        if (trigger is < ShutdownTrigger.Shutdown or > ShutdownTrigger.Host)
        {
            // The number, not the boxed enum: an undefined value has no name, and boxing it would compile Enum.ToString's
            // reflection into every NativeAOT image (benchmarks/README.md, "Wave 6").
            throw new ArgumentOutOfRangeException(nameof(trigger), (int)trigger, "Not a defined ShutdownTrigger value; use one of the named values (Shutdown, Host, ...).");
        }

        Caller caller = ClassifyCaller(tellTasks: false); // a task and any other caller are treated alike here
        if (caller.Thread is { IsDaemon: false } joinedCaller && caller.Role != CallerRole.Step)
        {
            // The caller is never joined: it would be waiting for itself. It runs the sequence or returns at once.
            _registry.Exempt(joinedCaller);
        }

        // Outside the lock: under NativeAOT this creates the ActivitySource, whose listeners' callbacks are user code.
        bool traced = _emitTraces && DaemonThreadsTracing.Listening();
        bool run;
        ShutdownReport? idle = null;
        TimeSpan idleJoinTimeout;
        lock (_lock)
        {
            idleJoinTimeout = _joinTimeout;
            run = _phase == Phase.Idle;
            if (run)
            {
                _phase = Phase.Begun;
                _trigger = trigger;
                _signalNumber = signalNumber;
                _runnerThreadId = Environment.CurrentManagedThreadId;
                _runnerIdentity = caller.Thread ?? DaemonThread.Main;
                _startTimestamp = Stopwatch.GetTimestamp();
                _callerMayBeBlocked |= callerMayBeBlocked;
                idle = traced ? null : TryFinishIdle(trigger);
            }
            else if (callerMayBeBlocked)
            {
                _callerMayBeBlocked = true;
                Monitor.PulseAll(_lock);
            }
        }

        if (!run)
        {
            return ReportForLateCaller(caller);
        }

        if (idle is not null)
        {
            if (_isProcessWide)
            {
                RecordMetrics(idle, idleJoinTimeout);
            }

            _done.Set();
            return idle;
        }

        return RunSequence();
    }

    /// <summary>
    /// The whole sequence of an exit that has nothing to run, in the lock section that began it: no hook, no participant,
    /// no live started thread, no tracked task, nobody holding <see cref="ShuttingDown"/>, no report handler, no span
    /// listener, and not a signal that must wait for the main program. Every step would find nothing to do and the report
    /// is empty, so the phase goes straight to Done (with the point of no return passed) and the report lists nothing.
    /// </summary>
    /// <returns>The report, or <see langword="null"/> when something is there to run: then <see cref="RunSequence"/> runs.</returns>
    /// <remarks>
    /// The common exit of a short program (RunMain that started and joined its threads): the full sequence cost it 2-3 ms
    /// of CPU at its first and only run, in type loads (its lists, the point of no return's tuple, the report's lists) and
    /// first calls (benchmarks/README.md, issue 11 "Wave 4"). Threads are added under this lock, so none can slip in; a
    /// task tracked concurrently (lock-free) is seen after the point of no return's flag and fence, and then the full
    /// sequence runs with the point already passed: the task is joined, later tracks and non-daemon starts are refused.
    /// </remarks>
    private ShutdownReport? TryFinishIdle(ShutdownTrigger trigger)
    {
        // Null checks only, no List<T> member: a list once made (even emptied since) sends the exit down the full path.
        if (_beforeJoin is not null || _atExit is not null || _participants is not null || _shuttingDown is not null
            || ReportSink is not null || (trigger is ShutdownTrigger.SigTerm or ShutdownTrigger.SigInt or ShutdownTrigger.SigHup && _mainProgramRunning)
            || !_registry.TryPassPointOfNoReturnIfIdle())
        {
            return null;
        }

        var report = new ShutdownReport(trigger, Stopwatch.GetElapsedTime(_startTimestamp));
        if (_isProcessWide)
        {
            _mainStopped.Set();
        }

        _report = report;
        _phase = Phase.Done;
        Monitor.PulseAll(_lock);
        return report;
    }

    private ShutdownReport RunSequence()
    {
        ShutdownTrigger trigger;
        TimeSpan joinTimeout;
        lock (_lock)
        {
            trigger = _trigger;
            joinTimeout = _joinTimeout;
        }

        // Spans are typed IDisposable here: a local of type Activity would make the runtime load
        // System.Diagnostics.DiagnosticSource when it prepares this method, and a loaded DiagnosticSource is what
        // DaemonThreadsMetrics.ListenerCanExist reads as "a listener can exist" (then the exit paid for an ActivitySource
        // and its event source: 20 ms CPU of a short program; benchmarks/README.md, "Start-up").
        IDisposable? sequence = _emitTraces ? DaemonThreadsTracing.StartSequence(trigger, SignalNumber) : null;
        IDisposable? step = DaemonThreadsTracing.StartStep(sequence, "shutting down");

        // 1. Begin: whoever watches the token wakes; then, on a signal under RunMain, the main program is joined first.
        _registry.BeginShutdown();
        bool tokenHandedOut;
        lock (_lock)
        {
            // When nobody has seen the token no callback can be registered on it: no step thread (a thread start and join
            // of every exit; benchmarks/README.md, "Start-up"), and the getter answers a cancelled token from now on.
            tokenHandedOut = _shuttingDown is not null;
        }

        if (tokenHandedOut)
        {
            RunUserSteps([new UserStep("ShuttingDown callbacks", CancelShuttingDown)], Deadline.After(joinTimeout));
        }
        if (trigger is ShutdownTrigger.SigTerm or ShutdownTrigger.SigInt or ShutdownTrigger.SigHup && MainProgramRunning)
        {
            step?.Dispose();
            step = DaemonThreadsTracing.StartStep(sequence, "wait for main");
            Deadline mainDeadline = Deadline.After(JoinTimeout);
            if (!WaitForExit(() => !_mainProgramRunning, mainDeadline, WaitKind.Work))
            {
                lock (_lock)
                {
                    (_abandonedHooks ??= []).Add(new UnfinishedWork(ExitWorkKind.MainProgram, DaemonThread.Main.Name, thread: DaemonThread.Main));
                }
            }
        }

        // 2. Before-join hooks, newest first, then the participants (pools): CPython's _python_exit runs as one of them.
        Action[] hooks;
        IExitParticipant[] participants;
        lock (_lock)
        {
            _phase = Phase.BeforeJoin;
            hooks = _beforeJoin is null ? [] : [.. _beforeJoin];
            participants = _participants is null ? [] : [.. _participants];
            joinTimeout = _joinTimeout;
        }

        var steps = new List<UserStep>(hooks.Length + participants.Length);
        for (int i = hooks.Length - 1; i >= 0; i--)
        {
            steps.Add(new UserStep("before-join hook " + HookName(hooks[i]), hooks[i]));
        }

        foreach (IExitParticipant participant in participants)
        {
            steps.Add(new UserStep("pool shutdown", participant.BeginShutdown));
        }

        step?.Dispose();
        step = DaemonThreadsTracing.StartStep(sequence, "before-join hooks", hooks.Length);
        RunUserSteps(steps, Deadline.After(joinTimeout));
        step?.Dispose();

        // CPython marks the main thread stopped before the join when the main program has ended.
        if (_isProcessWide && (trigger is ShutdownTrigger.RunMain or ShutdownTrigger.ProcessExit || !MainProgramRunning && Environment.CurrentManagedThreadId == 1))
        {
            _mainStopped.Set();
        }

        // 3. Join the non-daemon threads and tracked tasks within one deadline.
        TimeSpan grace;
        lock (_lock)
        {
            _phase = Phase.Joining;
            joinTimeout = _joinTimeout;
            grace = _daemonGracePeriod;
        }

        step = DaemonThreadsTracing.StartStep(sequence, "join");
        Deadline joinDeadline = Deadline.After(joinTimeout);
        WaitForExit(() => _registry.BlockingCount == 0, joinDeadline, WaitKind.Work);
        step?.Dispose();

        // 4. Grace period for daemon threads that watch ShuttingDown. A daemon runner (Exit or Shutdown from a daemon
        // thread) cannot finish during it, so it is not waited for.
        if (grace > TimeSpan.Zero)
        {
            int leave = _runnerIdentity is { IsDaemon: true, IsMain: false, IsDummy: false } && _registry.IsLinked(_runnerIdentity) ? 1 : 0;
            step = DaemonThreadsTracing.StartStep(sequence, "grace");
            WaitForExit(() => _registry.DaemonCount <= leave, Deadline.After(grace), WaitKind.Work);
            step?.Dispose();
        }

        // 5. At-exit hooks, newest first.
        lock (_lock)
        {
            _phase = Phase.AtExit;
            hooks = _atExit is null ? [] : [.. _atExit];
            joinTimeout = _joinTimeout;
        }

        steps.Clear();
        for (int i = hooks.Length - 1; i >= 0; i--)
        {
            steps.Add(new UserStep("at-exit hook " + HookName(hooks[i]), hooks[i]));
        }

        step = DaemonThreadsTracing.StartStep(sequence, "at-exit hooks", hooks.Length);
        RunUserSteps(steps, Deadline.After(joinTimeout));
        step?.Dispose();

        // 6. Threads an at-exit hook started are joined too (SPEC §4; CPython main, gh-136003), within what is left of the
        // same deadline; the last wait and the point of no return are one atomic step, so that a start that succeeds is
        // always joined and one that comes later is refused.
        step = DaemonThreadsTracing.StartStep(sequence, "point of no return");
        var (joined, timedOut, tasks, abandoned) = WaitAndPassPointOfNoReturn(joinDeadline);
        step?.Dispose();
        foreach (DaemonThread t in timedOut)
        {
            t.AbandonAtExit();
        }

        if (_isProcessWide)
        {
            _mainStopped.Set();
        }

        // 7. The report.
        ShutdownReport report = BuildReport(trigger, joined, timedOut, tasks, abandoned, participants);
        lock (_lock)
        {
            _report = report;
            _phase = Phase.Reporting;
            joinTimeout = _joinTimeout;
        }

        if (_isProcessWide)
        {
            RecordMetrics(report, joinTimeout);
        }

        step = DaemonThreadsTracing.StartStep(sequence, "report");
        Publish(report, Deadline.After(joinTimeout));
        step?.Dispose();
        DaemonThreadsTracing.EndSequence(sequence, report);
        lock (_lock)
        {
            _phase = Phase.Done;
            Monitor.PulseAll(_lock);
        }

        _done.Set();
        return report;
    }

    private void CancelShuttingDown()
    {
        try
        {
            _shuttingDown!.Cancel();
        }
        catch (AggregateException callbacksFailed)
        {
            // A loop here, in a handler, would make the JIT compile this whole method fully optimised (on-stack
            // replacement cannot patch loops in handlers), so it is a method of its own.
            RecordCallbackErrors(callbacksFailed);
        }
    }

    private void RecordCallbackErrors(AggregateException callbacksFailed)
    {
        foreach (Exception e in callbacksFailed.InnerExceptions)
        {
            RecordHookError("ShuttingDown callback", e);
        }
    }

    private static string HookName(Action hook)
        => (ThreadNaming.DeclaringTypeName(hook) is { } type ? type + "." : string.Empty) + ThreadNaming.TargetName(hook);
}
