using System.Runtime.CompilerServices;
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
/// <see cref="System.Threading.Thread"/>, whose <see cref="System.Threading.Thread.IsBackground"/> equals
/// <see cref="IsDaemon"/> (two exceptions, both at exit's service: a non-daemon thread abandoned after
/// <see cref="ExitRegistry.JoinTimeout"/>, and the workers of a non-daemon <see cref="DaemonThreadPool"/>, whose OS
/// threads are background so that an idle worker never holds the process). Non-daemon threads are joined by
/// <see cref="ExitRegistry"/> before the process exits; daemon threads are abandoned and reported.
/// </para>
/// <para>
/// Rules that differ from a raw <see cref="System.Threading.Thread"/>: the daemon flag is inherited from the thread
/// that constructs the object and frozen at <see cref="Start"/>; an exception escaping the body goes to
/// <see cref="ExceptHook"/> instead of crashing the process; joining the current thread throws instead of
/// deadlocking.
/// </para>
/// <para>Thread safety: every member may be called from any thread.</para>
/// </remarks>
public partial class DaemonThread
{
    private const int StateInitial = 0;
    private const int StateStarting = 1;
    private const int StateStarted = 2;

    private static readonly Action<ThreadExceptionInfo> s_defaultExceptHook = DefaultExceptHook;
    private static Action<ThreadExceptionInfo> s_exceptHook = s_defaultExceptHook;

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
    private int _waiters; // threads waiting on _lock for the OS thread (WaitUntilOsStarted, NativeThreadId): the starter and Bootstrap pulse only for them
    private bool _warmStart; // Start took the runtime-private fast paths (WarmStart)
    private bool _ownerPlaced; // Start placed the owner's ExecutionContext on the Thread object: Bootstrap need not install it
    private bool _bodyFinished; // written under _lock, read without it: Join, JoinAsync and IsAlive see the end through it
    private int _joinWaiters; // threads in WaitUntilFinished's Monitor.Wait, counted under _lock: Bootstrap pulses only for them
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
    /// <param name="targetExpression">
    /// Filled in by the compiler with the source text of <paramref name="target"/>; leave it out. When that text is a
    /// lambda or an anonymous method, the generated name is <c>Thread-N (&lt;lambda&gt;)</c> without reflecting over
    /// the delegate (the process's first reflection over a method costs a short program about 5 ms); any other target
    /// (a method group, a delegate in a variable) is named from its method, the same result either way. The compiler
    /// stores the text as a string literal in the calling assembly, so a very long inline lambda makes that literal long.
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxStackSize"/> is negative.</exception>
    /// <remarks>
    /// Python equivalent: <c>threading.Thread(target=..., name=..., daemon=...)</c>; the stack size is
    /// <c>threading.stack_size()</c>, which refuses sizes below 32 KiB where this raises them, as
    /// <see cref="System.Threading.Thread"/> documents for sizes below its minimum.
    /// </remarks>
    public DaemonThread(Action target, string? name = null, bool? isDaemon = null, int maxStackSize = 0, [CallerArgumentExpression(nameof(target))] string? targetExpression = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfNegative(maxStackSize);
        ExitRegistry.EnsureInitialized();
        _target = target;
        _kind = ThreadKind.Started;
        _maxStackSize = EffectiveStackSize(maxStackSize);
        _isDaemon = isDaemon ?? Current.IsDaemon;
        _name = string.IsNullOrEmpty(name) ? ThreadNaming.ThreadName(ThreadNaming.NextNumber(), target, targetExpression) : name;
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

    /// <summary>Gets whether the thread is running: from <see cref="Start"/> until its body and exception hook have finished.</summary>
    /// <remarks>
    /// Python equivalent: <c>Thread.is_alive()</c>. It turns <see langword="false"/> when the thread leaves
    /// <see cref="Enumerate"/>, just before <see cref="Join()"/> returns; the OS thread's own exit follows within
    /// microseconds, as in CPython. <see cref="Main"/> stops being alive when the main program ends; a dummy is alive
    /// while its foreign OS thread is.
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
                    // From the OS thread's start until the body, the hook and the registry's cleanup have finished, what Join
                    // waits for: not the OS thread's own exit, which follows (CPython's is_alive). A refused Start() resets
                    // the state after publishing StateStarted, before its OS thread was ever started (issue 9 D).
                    return Volatile.Read(ref _state) == StateStarted && Volatile.Read(ref _osStarted) && !Volatile.Read(ref _bodyFinished);
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
                    // Bounded: the thread is running and records its id before anything else. Counted, so that Bootstrap
                    // pulses only when somebody waits (the count changes under this lock, which Bootstrap takes too).
                    Interlocked.Increment(ref _waiters);
                    try
                    {
                        while (!_nativeIdRecorded && _thread is not null)
                        {
                            Monitor.Wait(_lock);
                        }
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _waiters);
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

    private static void DefaultExceptHook(ThreadExceptionInfo info)
    {
        if (info.Exception is ThreadExitException)
        {
            return; // CPython ignores SystemExit silently.
        }

        string name = info.Thread?.Name ?? Environment.CurrentManagedThreadId.ToString(CultureInfo.InvariantCulture);
        StandardError.Write("Exception in thread " + name + ":" + Environment.NewLine + info.Exception + Environment.NewLine);
    }

    /// <summary>Tells whether the thread sits in a managed wait now (the Environment.Exit path's quiet-period test).</summary>
    internal bool IsBlockedInWait()
    {
        Thread? thread = Volatile.Read(ref _thread);
        try
        {
            return thread is not null && (thread.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0;
        }
        catch (ThreadStateException)
        {
            return false;
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
