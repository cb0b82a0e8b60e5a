using DaemonThreads.Internal;

namespace DaemonThreads;

// Owner tracking: which DaemonThread the calling code belongs to (Current), the main thread, and the rules for pool code,
// tasks on threads of their own, and foreign threads adopted as dummies (SPEC 2.2).
public partial class DaemonThread
{
    private static readonly DaemonThread s_main = CreateMain();

    // The logical owner of pool code; holds only DaemonThread values. Typed object so that reading it is not a cast
    // through shared generic code: that cast was most of Current's cost on a pool thread (benchmarks/README.md).
    private static readonly AsyncLocal<object?> s_logical = new();

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

    /// <summary>
    /// Places a context that holds only this thread as owner on the unstarted <paramref name="thread"/>, when the
    /// calling thread runs under the default context: a raw Thread started here would get nothing, so nothing else
    /// needs to flow, and the new thread then runs under the owner without installing a context (which allocates).
    /// </summary>
    /// <returns><see langword="false"/> when something flows from the calling thread (or flow is suppressed), or the runtime offers no way to place it: Start then lets Thread.Start capture the owner.</returns>
    private bool TryPlaceOwnerContext(Thread thread)
    {
        if (!RuntimeThreadContext.CurrentIsDefault())
        {
            return false;
        }

        s_logical.Value = this;
        ExecutionContext? ownerContext = ExecutionContext.Capture();
        s_logical.Value = null; // the map is empty again: the calling thread is back on the default context
        return ownerContext is not null && RuntimeThreadContext.TryPlace(thread, ownerContext);
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
            // On Linux the main thread's id is the process id: no native call (the process's first P/Invoke) at start-up.
            NativeThread.MainThreadIdFromOtherThread() ?? (onMain ? NativeThread.CurrentId() : null));
    }
}
