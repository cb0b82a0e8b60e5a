using System.Diagnostics;
using System.Globalization;
using DaemonThreads.Internal;

namespace DaemonThreads;

/// <summary>
/// Runs code on its own OS thread with Python's <c>threading.Thread</c> rules: a daemon flag that decides whether
/// the process waits for the thread at exit, names, identity, enumeration and an exception hook.
/// </summary>
/// <remarks>
/// <para>
/// Python equivalent: <c>threading.Thread</c>. A <see cref="DaemonThread"/> wraps one
/// <see cref="System.Threading.Thread"/>, whose <see cref="System.Threading.Thread.IsBackground"/> always equals
/// <see cref="IsDaemon"/>. Non-daemon threads are joined by <see cref="ExitRegistry"/> before the process exits;
/// daemon threads are abandoned and reported.
/// </para>
/// <para>
/// Rules that differ from a raw <see cref="System.Threading.Thread"/>: the daemon flag is inherited from the thread
/// that constructs the object and frozen at <see cref="Start"/>; an exception escaping the body goes to
/// <see cref="ExceptHook"/> instead of crashing the process; joining the current thread throws instead of
/// deadlocking.
/// </para>
/// <para>Thread safety: every member may be called from any thread.</para>
/// </remarks>
public class DaemonThread
{
    private const int StateInitial = 0;
    private const int StateStarting = 1;
    private const int StateStarted = 2;

    private static readonly Action<ThreadExceptionInfo> s_defaultExceptHook = DefaultExceptHook;
    private static readonly DaemonThread s_main = CreateMain();
    // The logical owner of pool code; holds only DaemonThread values. Typed object so that reading it is not a cast
    // through shared generic code: that cast was most of Current's cost on a pool thread (benchmarks/README.md).
    private static readonly AsyncLocal<object?> s_logical = new();
    private static Action<ThreadExceptionInfo> s_exceptHook = s_defaultExceptHook;

    // What t_current holds on a thread-pool thread once Current has been asked there: pool threads change owners
    // between work items, so the owner itself cannot be cached, only the fact that this is a pool thread. It is never
    // returned to callers.
    private static readonly DaemonThread s_poolMarker = new(ThreadKind.Dummy, "<pool>", null, 0, 0);

    // What t_current holds on a foreign, non-pool thread that asked Current while running a task (a LongRunning task's
    // dedicated thread): Current asks the slow path again each time, which answers the flowed owner while a task runs
    // and adopts a dummy once none does. Never returned to callers.
    private static readonly DaemonThread s_taskThreadMarker = new(ThreadKind.Dummy, "<task thread>", null, 0, 0);

    [ThreadStatic]
    private static DaemonThread? t_current;

    private readonly object _lock = new();
    private readonly ThreadKind _kind;
    private readonly int _maxStackSize;
    private readonly bool _runInBackground;
    private Action? _target;
    private string _name;
    private bool _isDaemon;
    private int _state;
    private Thread? _thread;
    private int _managedThreadId; // 0: not started
    private long _nativeThreadId; // 0: not yet known
    private bool _nativeIdRecorded;
    private bool _osStarted; // the OS thread has been started (state Started alone is published just before that)
    private int _osStartWaiters; // threads in WaitUntilOsStarted, so that Start takes the lock only to wake them
    private bool _bodyFinished;
    private bool _abandonedAtExit; // AbandonAtExit ran: Start makes the OS thread background whatever point it is at
    private TaskCompletionSource? _completion;

    /// <summary>Creates a thread that will run <paramref name="target"/>.</summary>
    /// <param name="target">The code the thread runs.</param>
    /// <param name="name">The thread's name; <see langword="null"/> or empty generates <c>Thread-N (TargetName)</c>.</param>
    /// <param name="isDaemon">
    /// <see langword="true"/> for a daemon thread (abandoned at exit), <see langword="false"/> for a non-daemon thread
    /// (joined at exit), <see langword="null"/> to copy the flag of the thread constructing this object.
    /// </param>
    /// <param name="maxStackSize">
    /// The stack size in bytes, or 0 for the default. A size from 1 to 256 KiB is raised to 256 KiB:
    /// a smaller stack overflows, and ends the process, as soon as the body throws an exception and prints it.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxStackSize"/> is negative.</exception>
    /// <remarks>
    /// Python equivalent: <c>threading.Thread(target=..., name=..., daemon=...)</c>; the stack size is
    /// <c>threading.stack_size()</c>, which refuses sizes below 32 KiB where this raises them, as
    /// <see cref="System.Threading.Thread"/> documents for sizes below its minimum.
    /// </remarks>
    public DaemonThread(Action target, string? name = null, bool? isDaemon = null, int maxStackSize = 0)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfNegative(maxStackSize);
        ExitRegistry.EnsureInitialized();
        _target = target;
        _kind = ThreadKind.Started;
        _maxStackSize = EffectiveStackSize(maxStackSize);
        _isDaemon = isDaemon ?? Current.IsDaemon;
        _name = string.IsNullOrEmpty(name) ? ThreadNaming.ThreadName(ThreadNaming.NextNumber(), target) : name;
    }

    /// <summary>Creates a thread whose body is <see cref="Run"/>, for subclasses.</summary>
    /// <param name="name">The thread's name; <see langword="null"/> or empty generates <c>Thread-N</c>.</param>
    /// <param name="isDaemon">
    /// <see langword="true"/> for a daemon thread, <see langword="false"/> for a non-daemon thread,
    /// <see langword="null"/> to copy the flag of the thread constructing this object.
    /// </param>
    /// <param name="maxStackSize">
    /// The stack size in bytes, or 0 for the default. A size from 1 to 256 KiB is raised to 256 KiB:
    /// a smaller stack overflows, and ends the process, as soon as the body throws an exception and prints it.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxStackSize"/> is negative.</exception>
    /// <remarks>Python equivalent: subclassing <c>threading.Thread</c> and overriding <c>run()</c>.</remarks>
    protected DaemonThread(string? name = null, bool? isDaemon = null, int maxStackSize = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxStackSize);
        ExitRegistry.EnsureInitialized();
        _kind = ThreadKind.Started;
        _maxStackSize = EffectiveStackSize(maxStackSize);
        _isDaemon = isDaemon ?? Current.IsDaemon;
        _name = string.IsNullOrEmpty(name) ? ThreadNaming.ThreadName(ThreadNaming.NextNumber(), null) : name;
    }

    /// <summary>Creates a thread for the library's own use (a pool worker) with an explicit flag.</summary>
    /// <param name="target">The code the thread runs.</param>
    /// <param name="name">The thread's name.</param>
    /// <param name="isDaemon">Whether the exit sequence abandons (<see langword="true"/>) or joins it.</param>
    /// <param name="runInBackground">
    /// <see langword="true"/> to make the OS thread a background thread even when it is non-daemon: the exit sequence still
    /// joins it, but the runtime's own unbounded wait for foreground threads when <c>Main</c> returns never waits for it
    /// (an idle pool worker must not hold the process; SPEC 6.2).
    /// </param>
    internal DaemonThread(Action target, string name, bool isDaemon, bool runInBackground)
    {
        ArgumentNullException.ThrowIfNull(target);
        ExitRegistry.EnsureInitialized();
        _target = target;
        _kind = ThreadKind.Started;
        _isDaemon = isDaemon;
        _runInBackground = runInBackground;
        _name = name;
    }

    // The main thread and dummies: started from birth, never started by us.
    private DaemonThread(ThreadKind kind, string name, Thread? thread, int managedThreadId, long? nativeThreadId)
    {
        _kind = kind;
        _name = name;
        _isDaemon = kind == ThreadKind.Dummy;
        _state = StateStarted;
        _thread = thread;
        _managedThreadId = managedThreadId;
        _nativeThreadId = nativeThreadId ?? 0;
        _nativeIdRecorded = true;
        _osStarted = true;
    }

    /// <summary>Gets the smallest stack size a thread is given when a size is asked for: 256 KiB.</summary>
    /// <remarks>
    /// Linux x64, .NET 10, measured with a body that throws, catches and writes the exception with its stack trace to
    /// <see cref="Console"/>: 64 KiB and less overflow the stack (the process dies), 80 KiB is enough. 256 KiB leaves
    /// three times that for the exception hook and deeper user code; larger requests are passed on unchanged.
    /// </remarks>
    internal const int MinimumStackSize = 256 * 1024;

    private enum ThreadKind
    {
        Started,
        Main,
        Dummy,
    }

    /// <summary>Gets or sets the hook called, on the dying thread, with any exception that escapes a thread body.</summary>
    /// <value>
    /// The current hook. The default writes <c>Exception in thread NAME:</c> and the exception to stderr, and ignores
    /// <see cref="ThreadExitException"/>. Setting <see langword="null"/> restores the default.
    /// </value>
    /// <remarks>
    /// Python equivalent: <c>threading.excepthook</c>. The hook is read at the moment of the failure. If the hook
    /// itself throws, <c>Exception in DaemonThread.ExceptHook:</c> and the hook's exception are written to stderr.
    /// Either way the thread ends, the process lives on and its exit code is unchanged; <see cref="Join()"/>
    /// returns after the hook has returned.
    /// </remarks>
    public static Action<ThreadExceptionInfo> ExceptHook
    {
        get => Volatile.Read(ref s_exceptHook);
        set => Volatile.Write(ref s_exceptHook, value ?? s_defaultExceptHook);
    }

    /// <summary>Gets the <see cref="DaemonThread"/> of the calling code.</summary>
    /// <remarks>
    /// Python equivalent: <c>threading.current_thread()</c>. On a thread this library started it is that thread; on
    /// the process's main thread it is <see cref="Main"/>. Thread-pool code, and a task on a thread of its own
    /// (<see cref="TaskCreationOptions.LongRunning"/>), belongs to the logical thread it runs on behalf of (the
    /// <see cref="DaemonThread"/> or the main program that started it, followed through <c>await</c>); such code with
    /// no owner counts as the main program, so threads it creates default to non-daemon (losing work silently is the
    /// worse failure). Any other thread (a raw <see cref="System.Threading.Thread"/>, a native thread) is adopted on
    /// first use as a daemon dummy named <c>Dummy-N</c>, even when it was started from a <see cref="DaemonThread"/>.
    /// </remarks>
    public static DaemonThread Current
    {
        get
        {
            // One thread-static read on every thread; on a pool thread one AsyncLocal read more (benchmarks/README.md).
            DaemonThread? current = t_current;
            if (ReferenceEquals(current, s_poolMarker))
            {
                return LogicalOwner() ?? s_main;
            }

            return current is not null && !ReferenceEquals(current, s_taskThreadMarker) ? current : CurrentSlow();
        }
    }

    /// <summary>Gets the <see cref="DaemonThread"/> that stands for the process's main thread, named <c>MainThread</c>.</summary>
    /// <remarks>
    /// Python equivalent: <c>threading.main_thread()</c>. It is identified correctly even when the library is first
    /// used from another thread. It is non-daemon, always listed by <see cref="Enumerate"/>, and stops being alive
    /// when the main program ends (the shutdown sequence marks it), which is when <see cref="Join()"/> on it returns.
    /// </remarks>
    public static DaemonThread Main => s_main;

    /// <summary>Gets the number of live threads; equals <c>Enumerate().Count</c>.</summary>
    /// <remarks>Python equivalent: <c>threading.active_count()</c>.</remarks>
    public static int ActiveCount => ThreadRegistry.Default.ActiveCount;

    /// <summary>Gets or sets the thread's name.</summary>
    /// <exception cref="ArgumentNullException">The value is <see langword="null"/>.</exception>
    /// <remarks>
    /// Python equivalent: <c>Thread.name</c>. For a thread this library started, the OS-visible name follows (Linux
    /// shows its first 15 characters).
    /// </remarks>
    public string Name
    {
        get => Volatile.Read(ref _name);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_lock)
            {
                _name = value;
                if (_kind == ThreadKind.Started && _thread is not null && !_bodyFinished)
                {
                    _thread.Name = value;
                }
            }
        }
    }

    /// <summary>Gets or sets whether this is a daemon thread: one the process does not wait for at exit.</summary>
    /// <exception cref="ThreadStateException">Set after <see cref="Start"/> was called (even once the thread has ended), or on <see cref="Main"/> or a dummy.</exception>
    /// <remarks>
    /// Python equivalent: <c>Thread.daemon</c>. It maps to <see cref="System.Threading.Thread.IsBackground"/>, but is
    /// frozen at <see cref="Start"/> as in Python and Java, although raw .NET allows changes.
    /// </remarks>
    public bool IsDaemon
    {
        get => _isDaemon;
        set
        {
            lock (_lock)
            {
                if (Volatile.Read(ref _state) != StateInitial)
                {
                    throw new ThreadStateException(
                        "cannot set daemon status of active thread: the daemon flag is frozen once the thread has been started. Set IsDaemon before Start().");
                }

                _isDaemon = value;
            }
        }
    }

    /// <summary>Gets whether the thread is running: from <see cref="Start"/> until its OS thread has ended.</summary>
    /// <remarks>
    /// Python equivalent: <c>Thread.is_alive()</c>. <see cref="Main"/> stops being alive when the main program ends; a
    /// dummy is alive while its foreign OS thread is.
    /// </remarks>
    public bool IsAlive
    {
        get
        {
            switch (_kind)
            {
                case ThreadKind.Main:
                    return !ExitRegistry.Coordinator.MainStopped;
                case ThreadKind.Dummy:
                    return _thread!.IsAlive;
                default:
                    // Race: a refused Start() resets _thread after publishing StateStarted; read it once (issue 9 D).
                    Thread? thread = Volatile.Read(ref _thread);
                    return Volatile.Read(ref _state) == StateStarted && thread is not null && thread.IsAlive;
            }
        }
    }

    /// <summary>Gets the managed thread id, or <see langword="null"/> before <see cref="Start"/>; kept after the thread ends.</summary>
    /// <remarks>Python equivalent: <c>Thread.ident</c>. Ids are recycled once a thread has ended, as in Python.</remarks>
    public int? ManagedThreadId
    {
        get
        {
            int id = Volatile.Read(ref _managedThreadId);
            return id == 0 ? null : id;
        }
    }

    /// <summary>Gets the operating system's thread id, or <see langword="null"/> before <see cref="Start"/> (or where the platform has none); kept after the thread ends.</summary>
    /// <remarks>
    /// Python equivalent: <c>Thread.native_id</c>. The new thread records its id as its first action; reading this
    /// property right after <see cref="Start"/> waits for that, which takes no longer than the thread's first
    /// scheduling.
    /// </remarks>
    public long? NativeThreadId
    {
        get
        {
            if (Volatile.Read(ref _state) != StateStarted)
            {
                return null;
            }

            if (!Volatile.Read(ref _nativeIdRecorded))
            {
                lock (_lock)
                {
                    // Bounded: the thread is running and records its id before anything else.
                    while (!_nativeIdRecorded && _thread is not null)
                    {
                        Monitor.Wait(_lock);
                    }
                }
            }

            long id = Volatile.Read(ref _nativeThreadId);
            return id == 0 ? null : id;
        }
    }

    internal bool Linked { get; set; }

    internal bool Exempt { get; set; }

    internal DaemonThread? RegistryPrev { get; set; }

    internal DaemonThread? RegistryNext { get; set; }

    internal bool IsDummy => _kind == ThreadKind.Dummy;

    internal bool IsMain => _kind == ThreadKind.Main;

    /// <summary>Returns a snapshot of the live threads: the main thread, started threads that have not finished, and live dummies.</summary>
    /// <returns>A new list that the caller owns.</returns>
    /// <remarks>
    /// Python equivalent: <c>threading.enumerate()</c>. A thread is listed from the moment <see cref="Start"/> registers
    /// it (before <see cref="IsAlive"/> turns true) until its body and exception hook have finished (just before
    /// <see cref="IsAlive"/> turns false), as in CPython. Linear in the number of live threads.
    /// </remarks>
    public static IReadOnlyList<DaemonThread> Enumerate() => ThreadRegistry.Default.Snapshot(s_main);

    /// <summary>Starts the thread.</summary>
    /// <exception cref="ThreadStateException">
    /// The thread was already started ("threads can only be started once"), or it is a non-daemon thread and the
    /// exit sequence has passed its point of no return ("can't create new thread at interpreter shutdown").
    /// </exception>
    /// <exception cref="OutOfMemoryException">The operating system refused to create the thread; nothing is left registered and <see cref="Start"/> may be called again.</exception>
    /// <remarks>
    /// Python equivalent: <c>Thread.start()</c>. On return the thread is listed by <see cref="Enumerate"/>,
    /// <see cref="IsAlive"/> is <see langword="true"/> until it ends, and <see cref="ManagedThreadId"/> is set.
    /// </remarks>
    public void Start()
    {
        if (Interlocked.CompareExchange(ref _state, StateStarting, StateInitial) != StateInitial)
        {
            throw new ThreadStateException("threads can only be started once: create a new DaemonThread to run the code again.");
        }

        // Not named here: the new thread names itself first thing in Bootstrap. Naming an unstarted Thread makes the
        // runtime rename the new OS thread from this one (through /proc on Linux), which doubled the median cost of
        // start+join and added millisecond tails (benchmarks/README.md); a thread naming itself is one prctl call.
        var thread = new Thread(Bootstrap, _maxStackSize)
        {
            IsBackground = _isDaemon || _runInBackground,
        };

        // Published before the thread is registered (issue 9 item 8): from the moment the exit sequence can see it in
        // the registry, its point of no return may call AbandonAtExit, which must find the Thread object to make it
        // background. Code in the new thread also sees its own id and state at once.
        lock (_lock)
        {
            _thread = thread;
            _managedThreadId = thread.ManagedThreadId;
        }

        try
        {
            ThreadRegistry.Default.Add(this);
        }
        catch
        {
            lock (_lock)
            {
                _thread = null;
                _managedThreadId = 0;
                Volatile.Write(ref _state, StateInitial);
            }

            throw;
        }

        // AbandonAtExit may have run at any point of this Start (even before it, on a thread whose previous Start
        // failed): it also sets IsBackground on the published Thread itself, so whichever of the two runs last wins.
        if (Volatile.Read(ref _abandonedAtExit))
        {
            thread.IsBackground = true;
        }

        Volatile.Write(ref _state, StateStarted);

        // Thread.Start captures this thread's ExecutionContext for the new thread: put the owner in it here, so that
        // the new thread allocates nothing of its own before the body runs. A thread that allocates at all takes an
        // 8 KiB allocation context from the GC; setting the owner and t_current in Bootstrap cost 256 B there, which
        // showed as 2 extra collections and more RSS per 1,000 blocked threads (benchmarks/README.md). What is left is
        // the runtime's own: running a thread under a flowed context allocates its 144 B thread-static block, as it
        // does for any raw Thread started where an AsyncLocal is set.
        object? starterOwner = s_logical.Value;
        s_logical.Value = this;
        try
        {
            StartThread(thread);
        }
        catch (Exception startFailure)
        {
            // CPython's test_limbo_cleanup: a refused start leaves nothing registered, and (as in 3.11) the object
            // can be started again.
            ThreadRegistry.Default.Remove(this);
            TaskCompletionSource? orphaned;
            lock (_lock)
            {
                _thread = null;
                _managedThreadId = 0;
                Volatile.Write(ref _state, StateInitial);

                // Race: a JoinAsync that saw the thread started made this completion, and nothing will ever complete it
                // now; the next Start makes a new one.
                orphaned = _completion;
                _completion = null;

                // Wakes NativeThreadId readers and joiners that raced with this Start: they see it never started.
                Monitor.PulseAll(_lock);
            }

            orphaned?.TrySetException(StartFailed(startFailure));
            throw;
        }
        finally
        {
            s_logical.Value = starterOwner;
        }

        // Race: between publishing StateStarted and here, a joiner on another thread may be waiting for the OS thread to
        // exist (Thread.Join on an unstarted Thread throws); wake it. Without such a waiter no lock is taken: the new
        // thread takes this lock in Bootstrap, and a starter blocked behind it lost its turn on the CPU to the threads
        // it had just started (benchmarks/README.md, exit with many daemon threads).
        Volatile.Write(ref _osStarted, true);
        Interlocked.MemoryBarrier(); // pairs with the Increment in WaitUntilOsStarted: one side sees the other
        if (Volatile.Read(ref _osStartWaiters) > 0)
        {
            lock (_lock)
            {
                Monitor.PulseAll(_lock);
            }
        }

        DaemonThreadsMetrics.ThreadStarted(_isDaemon);
    }

    /// <summary>Waits until the thread has ended.</summary>
    /// <exception cref="ThreadStateException">The thread was never started, or it is a running daemon thread and the exit sequence has passed its point of no return (it would never end).</exception>
    /// <exception cref="InvalidOperationException">The thread is the current thread, or a dummy.</exception>
    /// <remarks>
    /// Python equivalent: <c>Thread.join()</c>. Returns after the exception hook has returned. Joining a daemon
    /// thread is allowed; many threads may join at once. Deliberately infinite: use <see cref="Join(TimeSpan)"/>
    /// for a bound.
    /// </remarks>
    public void Join()
    {
        CheckJoinable();
        if (_kind == ThreadKind.Main)
        {
            ExitRegistry.Coordinator.WaitMainStopped(Timeout.InfiniteTimeSpan);
            return;
        }

        ThrowIfAbandonedAtExit();
        WaitUntilOsStarted(Deadline.Infinite);
        OsThread().Join();
    }

    /// <summary>Waits until the thread has ended or <paramref name="timeout"/> has passed.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
    /// <returns><see langword="true"/> when the thread has ended.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is negative and not <see cref="Timeout.InfiniteTimeSpan"/>, or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    /// <exception cref="ThreadStateException">
    /// The thread was never started, or <paramref name="timeout"/> is <see cref="Timeout.InfiniteTimeSpan"/> and it is a
    /// running daemon thread after the exit sequence's point of no return (as for <see cref="Join()"/>).
    /// </exception>
    /// <exception cref="InvalidOperationException">The thread is the current thread, or a dummy.</exception>
    /// <remarks>
    /// Python equivalent: <c>Thread.join(timeout)</c>, which returns <c>None</c>; here the result says whether the
    /// thread ended. Negative timeouts are rejected (.NET convention) rather than clamped to 0 as Python does.
    /// </remarks>
    public bool Join(TimeSpan timeout)
    {
        ValidateTimeout(timeout);
        CheckJoinable();
        if (_kind == ThreadKind.Main)
        {
            return ExitRegistry.Coordinator.WaitMainStopped(timeout);
        }

        if (timeout == Timeout.InfiniteTimeSpan)
        {
            // The same wait as Join(), so the same refusal (issue 9 F): only a finite timeout is the caller's bound.
            ThrowIfAbandonedAtExit();
        }

        Deadline deadline = Deadline.After(timeout);
        return WaitUntilOsStarted(deadline) && OsThread().Join(deadline.RemainingMilliseconds());
    }

    /// <summary>Returns a task that completes when the thread's body and exception hook have finished.</summary>
    /// <param name="cancellationToken">Cancels the wait (not the thread).</param>
    /// <returns>A task that completes when the thread ends, or is cancelled with <paramref name="cancellationToken"/>.</returns>
    /// <exception cref="ThreadStateException">The thread was never started.</exception>
    /// <exception cref="InvalidOperationException">The thread is the current thread, or a dummy, or <see cref="Main"/>.</exception>
    /// <remarks>
    /// No Python equivalent; the .NET idiom for waiting without blocking a thread. Continuations run asynchronously.
    /// If the call races with a <see cref="Start"/> that the operating system refuses, the task faults with
    /// <see cref="ThreadStateException"/> instead of never completing.
    /// </remarks>
    public Task JoinAsync(CancellationToken cancellationToken = default)
    {
        CheckJoinable();
        if (_kind == ThreadKind.Main)
        {
            throw new InvalidOperationException("cannot await the main thread: it ends only when the process exits. Use Join(TimeSpan) or ExitRegistry.ShuttingDown.");
        }

        Task task;
        lock (_lock)
        {
            if (_bodyFinished)
            {
                return Task.CompletedTask;
            }

            if (Volatile.Read(ref _state) != StateStarted)
            {
                // Race: CheckJoinable saw the thread started, and its Start() has failed since (issue 9 D).
                return Task.FromException(StartFailed(null));
            }

            _completion ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            task = _completion.Task;
        }

        return cancellationToken.CanBeCanceled ? task.WaitAsync(cancellationToken) : task;
    }

    /// <summary>Returns the Python <c>repr()</c> of the thread: <c>&lt;DaemonThread(NAME, STATUS[ daemon][ ID])&gt;</c>.</summary>
    /// <returns>For example <c>&lt;DaemonThread(worker, started daemon 12)&gt;</c>; STATUS is <c>initial</c>, <c>started</c> or <c>stopped</c>.</returns>
    /// <remarks>Python equivalent: <c>repr(thread)</c>. A subclass shows its own type name, as in Python.</remarks>
    public override string ToString()
    {
        // "initial" until the OS thread exists (CPython: until _started is set), so that a thread Start() is still
        // starting never shows as "stopped".
        string status = Volatile.Read(ref _state) != StateStarted || !Volatile.Read(ref _osStarted) ? "initial" : IsAlive ? "started" : "stopped";
        if (_isDaemon)
        {
            status += " daemon";
        }

        int? id = ManagedThreadId;
        if (id is not null)
        {
            status += " " + id.Value.ToString(CultureInfo.InvariantCulture);
        }

        return "<" + GetType().Name + "(" + Name + ", " + status + ")>";
    }

    /// <summary>Runs the thread's code; called on the new thread by <see cref="Start"/>.</summary>
    /// <remarks>
    /// Python equivalent: <c>Thread.run()</c>. The default calls the target given to the constructor. Override it in a
    /// subclass instead of passing a target. Anything it throws goes to <see cref="ExceptHook"/>.
    /// </remarks>
    protected virtual void Run() => _target?.Invoke();

    // 0 keeps the runtime's default; anything else is raised to the safe minimum (.NET's documented rule for sizes
    // below its own minimum, which on Linux is far below what a managed body needs).
    private static int EffectiveStackSize(int maxStackSize) => maxStackSize == 0 ? 0 : Math.Max(maxStackSize, MinimumStackSize);

    internal static void ValidateTimeout(TimeSpan timeout, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(timeout))] string? paramName = null)
    {
        if ((timeout < TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan) || timeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(paramName, timeout, "The timeout must be zero or positive, at most int.MaxValue milliseconds, or Timeout.InfiniteTimeSpan.");
        }
    }

    /// <summary>Makes the calling thread answer <see cref="Current"/> with <paramref name="thread"/> until the returned value is passed to <see cref="RestoreCurrent"/>.</summary>
    /// <remarks>The exit sequence runs hooks as the main program, as CPython runs atexit callbacks on the main thread.</remarks>
    internal static DaemonThread? OverrideCurrent(DaemonThread thread)
    {
        DaemonThread? previous = t_current;
        t_current = thread;
        return previous;
    }

    /// <summary>Undoes <see cref="OverrideCurrent"/>.</summary>
    internal static void RestoreCurrent(DaemonThread? previous) => t_current = previous;

    /// <summary>Gets the current thread's <see cref="DaemonThread"/> only if it is one this library started (not main, a dummy or pool code).</summary>
    internal static DaemonThread? CurrentStartedOrNull()
    {
        DaemonThread? t = t_current;
        if (ReferenceEquals(t, s_poolMarker))
        {
            t = LogicalOwner();
        }
        else if (t is null)
        {
            Thread thread = Thread.CurrentThread;
            t = thread.IsThreadPoolThread ? LogicalOwner() : StartedThreadRunningOn(thread);
        }

        return t is not null && t._kind == ThreadKind.Started ? t : null;
    }

    /// <summary>
    /// Gets the started <see cref="DaemonThread"/> whose body runs on the calling OS thread, or <see langword="null"/>:
    /// never the logical owner of pool code or of a LongRunning task, never <see cref="Main"/> or a dummy.
    /// </summary>
    /// <remarks>
    /// The exit sequence exempts from its join only a thread that is really blocked in the call (issue 9): pool code
    /// that W started (<c>Task.Run(() =&gt; ExitRegistry.Exit(0))</c>) runs while W keeps working, so W must still be
    /// joined. Cheap: a thread-static read (set once this OS thread has asked <see cref="Current"/>), else a compare with
    /// the owner that flowed in; the registry is scanned only for a body that runs under another ExecutionContext before
    /// its first <see cref="Current"/>.
    /// </remarks>
    internal static DaemonThread? StartedOnCurrentOsThread()
    {
        DaemonThread? cached = t_current;
        if (cached is not null)
        {
            // t_current holds what Current found for this OS thread (its own started thread, Main, a dummy or a marker),
            // or what OverrideCurrent put there: compare the OS thread rather than trusting the kind alone.
            return cached._kind == ThreadKind.Started && ReferenceEquals(Volatile.Read(ref cached._thread), Thread.CurrentThread) ? cached : null;
        }

        Thread thread = Thread.CurrentThread;
        return thread.IsThreadPoolThread || thread.ManagedThreadId == MainManagedThreadId ? null : StartedThreadRunningOn(thread);
    }

    /// <summary>Seam for tests: replaces how the OS thread is started (CPython's test_limbo_cleanup replaces <c>_start_new_thread</c>).</summary>
    internal static Action<Thread>? StartThreadOverrideForTests { get; set; }

    private static void StartThread(Thread thread)
    {
        Action<Thread>? start = StartThreadOverrideForTests;
        if (start is null)
        {
            thread.Start();
        }
        else
        {
            start(thread);
        }
    }

    private static DaemonThread CurrentSlow()
    {
        ExitRegistry.EnsureInitialized();
        Thread thread = Thread.CurrentThread;
        if (ReferenceEquals(t_current, s_taskThreadMarker))
        {
            // Known to be a foreign thread: no need to look for it among ours again.
            return Task.CurrentId is not null ? LogicalOwner() ?? s_main : AdoptDummy(thread);
        }

        if (thread.IsThreadPoolThread)
        {
            // Pool threads change owners between work items, so only the marker is cached per OS thread: the owner
            // flows with the ExecutionContext. No owner means the main program (SPEC 2.2).
            t_current = s_poolMarker;
            return LogicalOwner() ?? s_main;
        }

        if (thread.ManagedThreadId == MainManagedThreadId)
        {
            t_current = s_main;
            return s_main;
        }

        // A thread this library started, asking for the first time (Bootstrap leaves t_current unset; see Start).
        DaemonThread? started = StartedThreadRunningOn(thread);
        if (started is not null)
        {
            t_current = started;
            return started;
        }

        if (Task.CurrentId is not null)
        {
            // A foreign thread that runs a task: a TaskCreationOptions.LongRunning task gets a dedicated thread that is
            // not a pool thread. Like pool code it runs on behalf of the owner that flowed to it, or of the main program
            // (SPEC 2.2), so threads it creates do not default to daemon and get abandoned. Only the marker is cached,
            // never the owner: a raw thread that merely inlined a task is still adopted as a dummy outside it.
            t_current = s_taskThreadMarker;
            return LogicalOwner() ?? s_main;
        }

        // A raw Thread or a native thread, even one started from a DaemonThread whose owner flowed to it.
        return AdoptDummy(thread);
    }

    // A foreign thread: adopt it as a daemon dummy (CPython's _DummyThread).
    private static DaemonThread AdoptDummy(Thread thread)
    {
        var dummy = new DaemonThread(ThreadKind.Dummy, ThreadNaming.DummyName(ThreadNaming.NextNumber()), thread, thread.ManagedThreadId, NativeThread.CurrentId());
        ThreadRegistry.Default.AddDummy(dummy);
        t_current = dummy;

        // Async work started from this thread belongs to the dummy, not to the main program.
        s_logical.Value = dummy;
        return dummy;
    }

    /// <summary>Finds the <see cref="DaemonThread"/> whose body runs on <paramref name="thread"/>, if this library started it.</summary>
    /// <remarks>
    /// The owner that flowed in with the ExecutionContext names it at once; a body that runs code under another
    /// context (<see cref="ExecutionContext.Run"/>) before its first <see cref="Current"/> is found in the registry.
    /// </remarks>
    private static DaemonThread? StartedThreadRunningOn(Thread thread)
    {
        DaemonThread? owner = LogicalOwner();
        if (owner is not null && ReferenceEquals(Volatile.Read(ref owner._thread), thread))
        {
            return owner;
        }

        return ThreadRegistry.Default.FindRunningOn(thread);
    }

    /// <summary>Gets a value indicating whether this thread's body runs on <paramref name="thread"/>.</summary>
    internal bool RunsOn(Thread thread) => _kind == ThreadKind.Started && ReferenceEquals(Volatile.Read(ref _thread), thread);

    /// <summary>Reads the owner of the pool code running now, if any.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static DaemonThread? LogicalOwner()
    {
        object? owner = s_logical.Value;
        return owner is null ? null : System.Runtime.CompilerServices.Unsafe.As<DaemonThread>(owner);
    }

    // The runtime gives the thread that runs Main the first managed thread id.
    private const int MainManagedThreadId = 1;

    private static DaemonThread CreateMain()
    {
        bool onMain = Environment.CurrentManagedThreadId == MainManagedThreadId;
        return new DaemonThread(
            ThreadKind.Main,
            ThreadNaming.MainThreadName,
            onMain ? Thread.CurrentThread : null,
            MainManagedThreadId,
            onMain ? NativeThread.CurrentId() : NativeThread.MainThreadIdFromOtherThread());
    }

    private static void DefaultExceptHook(ThreadExceptionInfo info)
    {
        if (info.Exception is ThreadExitException)
        {
            return; // CPython ignores SystemExit silently.
        }

        string name = info.Thread?.Name ?? Environment.CurrentManagedThreadId.ToString(CultureInfo.InvariantCulture);
        StandardError.Write("Exception in thread " + name + ":" + Environment.NewLine + info.Exception + Environment.NewLine);
    }

    /// <summary>Waits, within <paramref name="deadline"/>, until the OS thread of a started thread exists.</summary>
    /// <returns><see langword="false"/> when the deadline passed first.</returns>
    /// <exception cref="ThreadStateException">The Start() this raced with failed, so the thread was never started.</exception>
    private bool WaitUntilOsStarted(Deadline deadline)
    {
        if (Volatile.Read(ref _osStarted))
        {
            return true;
        }

        lock (_lock)
        {
            // Bounded: Start() is between publishing StateStarted and starting the OS thread, and pulses either way
            // (it sees this count, or this loop sees _osStarted: the increment and Start's barrier are full fences).
            Interlocked.Increment(ref _osStartWaiters);
            try
            {
                while (!Volatile.Read(ref _osStarted) && Volatile.Read(ref _state) == StateStarted)
                {
                    int wait = deadline.RemainingMilliseconds();
                    if (wait == 0)
                    {
                        return false;
                    }

                    Monitor.Wait(_lock, wait);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _osStartWaiters);
            }

            if (!_osStarted)
            {
                throw StartFailed(null);
            }

            return true;
        }
    }

    private static ThreadStateException StartFailed(Exception? startFailure) => new(
        "cannot join thread before it is started: its Start() failed" +
        (startFailure is null ? "" : " (" + startFailure.GetType().Name + ": " + startFailure.Message + ")") +
        ". Call Start() again first.");

    // Join waits only after WaitUntilOsStarted has returned true: from then on Start can no longer reset _thread.
    private Thread OsThread()
    {
        Thread? thread = Volatile.Read(ref _thread);
        Debug.Assert(thread is not null, "the OS thread was started, so a failed Start can no longer reset it");
        return thread;
    }

    /// <exception cref="ThreadStateException">This is a running daemon thread and the exit sequence has passed its point of no return: it may never end.</exception>
    private void ThrowIfAbandonedAtExit()
    {
        if (_isDaemon && ExitRegistry.Coordinator.PastPointOfNoReturn && IsAlive)
        {
            throw new ThreadStateException(
                "cannot join thread at interpreter shutdown: the daemon thread '" + Name +
                "' was abandoned by the exit sequence and may never end. Use Join(TimeSpan) for a bounded wait.");
        }
    }

    private void CheckJoinable()
    {
        if (_kind == ThreadKind.Dummy)
        {
            throw new InvalidOperationException("cannot join a dummy thread: it was not started by DaemonThreads, so there is nothing to wait on.");
        }

        if (Volatile.Read(ref _state) != StateStarted)
        {
            throw new ThreadStateException("cannot join thread before it is started: call Start() first.");
        }

        if (ReferenceEquals(Current, this))
        {
            throw new InvalidOperationException("cannot join current thread: a thread waiting for itself would never return.");
        }
    }

    private void Bootstrap()
    {
        // Nothing here allocates (see Start): Current finds this thread through the owner that flowed in, and caches
        // it in t_current only if the body asks.
        if (!ReferenceEquals(s_logical.Value, this))
        {
            s_logical.Value = this; // the starter had suppressed ExecutionContext flow
        }

        long? nativeId = NativeThread.CurrentId();
        lock (_lock)
        {
            // Under the lock, so that a concurrent Name setter (which renames _thread) and this write agree on the last name.
            Thread.CurrentThread.Name = _name;
            _nativeThreadId = nativeId ?? 0;
            _nativeIdRecorded = true;
            _osStarted = true;
            Monitor.PulseAll(_lock);
        }

        try
        {
            Run();
        }
        catch (Exception ex)
        {
            ReportException(ex);
        }
        finally
        {
            // Break reference cycles through the target (CPython's test_no_refcycle_through_target).
            _target = null;
            TaskCompletionSource? completion;
            lock (_lock)
            {
                _bodyFinished = true;
                completion = _completion;
            }

            ThreadRegistry.Default.Remove(this);
            completion?.TrySetResult();
        }
    }

    /// <summary>Lets the runtime exit without waiting for this thread: after the point of no return a timed-out non-daemon thread is abandoned.</summary>
    /// <remarks>
    /// Effective whatever point <see cref="Start"/> is at (issue 9 item 8): before the Thread object exists the flag
    /// makes Start create it background; once it is published (before the thread is registered, so before the exit can
    /// see it) it is made background here, started or not.
    /// </remarks>
    internal void AbandonAtExit()
    {
        lock (_lock)
        {
            Volatile.Write(ref _abandonedAtExit, true);
            Thread? thread = _thread;
            if (thread is null || _bodyFinished)
            {
                return;
            }

            try
            {
                // The only place IsBackground and IsDaemon part: the user's JoinTimeout has run out, and the runtime's
                // own unbounded wait for foreground threads must not hang the exit they bounded.
                thread.IsBackground = true;
            }
            catch (ThreadStateException)
            {
                // The thread ended between the check and the write: there is nothing left to abandon.
                return;
            }
        }
    }

    private void ReportException(Exception exception)
    {
        DaemonThreadsMetrics.ExceptionRouted();
        try
        {
            ExceptHook(new ThreadExceptionInfo(exception, this));
        }
        catch (Exception hookFailure)
        {
            StandardError.Write("Exception in DaemonThread.ExceptHook:" + Environment.NewLine + hookFailure + Environment.NewLine);
        }
    }
}
