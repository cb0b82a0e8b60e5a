using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DaemonThreads.Internal;

/// <summary>
/// The live threads: started <see cref="DaemonThread"/>s that have not finished, and adopted dummies. The exit
/// sequence counts and waits on it.
/// </summary>
/// <remarks>
/// <para>
/// Started threads sit in an intrusive doubly linked list (the links are fields of <see cref="DaemonThread"/>),
/// so adding and removing allocate nothing and cost O(1) under one short lock. That lock is held for a few
/// pointer writes per start and per finish, which is negligible next to creating an OS thread, so starters on
/// many threads are not serialised in any way that shows. <see cref="Snapshot"/> copies the list under the same
/// lock: a starter waits at most for one copy.
/// </para>
/// <para>
/// A finished thread unlinks itself at the end of its body, whether or not anybody joins it, so the registry
/// never keeps a finished thread alive (CPython's <c>test_leak_without_join</c>). Dummies (foreign threads) are
/// kept in a separate small list and dropped when a reader finds their OS thread dead, or by
/// <see cref="AddDummy"/> once the list has doubled since its last prune, so that it stays O(live dummies) even when
/// nothing ever enumerates.
/// </para>
/// <para>
/// While a shutdown waits, every change that can end its wait (a non-daemon thread finishing or being exempted,
/// a daemon thread finishing, a stop request) pulses the lock's monitor: the waiter wakes on the change, it
/// never polls.
/// </para>
/// </remarks>
internal sealed class ThreadRegistry
{
    /// <summary>The registry of the process, which every <see cref="DaemonThread"/> registers with.</summary>
    internal static readonly ThreadRegistry Default = new();

    private readonly object _lock = new();
    // Below this many dummies a prune is not worth its scan.
    private const int MinDummiesBeforePrune = 16;

    private List<DaemonThread>? _dummies; // created by the first adopted dummy: a List<T> is a type load, and its facade an assembly load, at start-up
    private readonly TrackedTaskTable _tracked;
    private int _dummiesAfterPrune; // the length of _dummies after the last prune: AddDummy prunes when it has doubled
    private DaemonThread? _head;
    private DaemonThread? _tail;
    private int _count;
    private int _nonDaemonToJoin;
    private long _progress;
    private int _progressNoted; // set by NoteProgress, folded into _progress by the Progress getter
    private int _daemonLive;
    private int _nonDaemonLive;
    private bool _pulseOnChange;
    private bool _pastPointOfNoReturn;
    private List<DaemonThread>? _finishedNonDaemon;
    private Action<Task>? _leave; // LeaveContinuation, made once by BeginShutdown

    /// <summary>Creates an empty registry.</summary>
    internal ThreadRegistry() => _tracked = new TrackedTaskTable(_lock);

    /// <summary>Gets the lock whose monitor shutdown waits on.</summary>
    internal object SyncRoot => _lock;

    /// <summary>Gets a value indicating whether the point of no return has passed (non-daemon starts are refused).</summary>
    internal bool PastPointOfNoReturn => Volatile.Read(ref _pastPointOfNoReturn);

    /// <summary>Adds a thread that is about to start.</summary>
    /// <exception cref="ThreadStateException">A non-daemon thread is started after the point of no return.</exception>
    internal void Add(DaemonThread thread)
    {
        lock (_lock)
        {
            if (_pastPointOfNoReturn && !thread.IsDaemon)
            {
                throw new ThreadStateException(
                    "can't create new thread at interpreter shutdown: the exit sequence has passed its point of no return, " +
                    "so nothing would wait for this non-daemon thread. Start it before shutdown, or make it a daemon thread.");
            }

            Debug.Assert(!thread.Linked, "a thread is added once");
            // Appended at the tail, so that Enumerate lists threads in start order, as CPython does.
            thread.RegistryPrev = _tail;
            if (_tail is not null)
            {
                _tail.RegistryNext = thread;
            }
            else
            {
                _head = thread;
            }

            _tail = thread;
            thread.Linked = true;
            _count++;
            if (thread.IsDaemon)
            {
                _daemonLive++;
            }
            else
            {
                _nonDaemonLive++;
                _nonDaemonToJoin++;
            }
        }
    }

    /// <summary>Removes a thread whose body has finished (or whose start failed).</summary>
    internal void Remove(DaemonThread thread)
    {
        lock (_lock)
        {
            if (!thread.Linked)
            {
                return;
            }

            if (thread.RegistryPrev is not null)
            {
                thread.RegistryPrev.RegistryNext = thread.RegistryNext;
            }
            else
            {
                _head = thread.RegistryNext;
            }

            if (thread.RegistryNext is not null)
            {
                thread.RegistryNext.RegistryPrev = thread.RegistryPrev;
            }
            else
            {
                _tail = thread.RegistryPrev;
            }

            thread.RegistryPrev = null;
            thread.RegistryNext = null;
            thread.Linked = false;
            _count--;
            if (thread.IsDaemon)
            {
                _daemonLive--;
            }
            else
            {
                _nonDaemonLive--;
                if (!thread.Exempt)
                {
                    _nonDaemonToJoin--;
                }

                _finishedNonDaemon?.Add(thread);
                Interlocked.Increment(ref _progress);
            }

            if (_pulseOnChange)
            {
                Monitor.PulseAll(_lock);
            }
        }
    }

    /// <summary>Reads the live thread counts for the <c>daemonthreads.thread.count</c> instrument.</summary>
    internal Measurement<int>[] LiveMeasurements()
    {
        int daemon, nonDaemon;
        lock (_lock)
        {
            daemon = _daemonLive;
            nonDaemon = _nonDaemonLive;
        }

        return
        [
            new Measurement<int>(daemon, new KeyValuePair<string, object?>(DaemonThreadsMetrics.DaemonTag, DaemonThreadsMetrics.Boxed(true))),
            new Measurement<int>(nonDaemon, new KeyValuePair<string, object?>(DaemonThreadsMetrics.DaemonTag, DaemonThreadsMetrics.Boxed(false))),
        ];
    }

    /// <summary>Finds the started thread whose body runs on <paramref name="thread"/>; linear, for the rare lookups that cannot use the flowed owner.</summary>
    internal DaemonThread? FindRunningOn(Thread thread)
    {
        lock (_lock)
        {
            for (DaemonThread? t = _head; t is not null; t = t.RegistryNext)
            {
                if (t.RunsOn(thread))
                {
                    return t;
                }
            }

            return null;
        }
    }

    /// <summary>Adds a dummy for a foreign thread, pruning dead ones once the list has doubled since the last prune.</summary>
    /// <remarks>
    /// Readers prune too, but a process that never enumerates (100,000 short-lived raw threads that read
    /// <see cref="DaemonThread.Current"/>, say) must not keep every dummy and its <see cref="Thread"/>: issue 9 measured
    /// +33 MB managed and 702 MiB RSS. A prune is linear and runs only after at least as many adds as the list held
    /// after the previous one, so adding stays O(1) amortised and the list O(live dummies): at most about twice them.
    /// </remarks>
    internal void AddDummy(DaemonThread dummy)
    {
        lock (_lock)
        {
            (_dummies ??= []).Add(dummy);
            if (_dummies.Count >= Math.Max(2 * _dummiesAfterPrune, MinDummiesBeforePrune))
            {
                PruneDummies();
            }
        }
    }

    /// <summary>Gets the number of dummies held, dead ones not yet pruned included; for tests.</summary>
    internal int DummyCount
    {
        get
        {
            lock (_lock)
            {
                return _dummies?.Count ?? 0;
            }
        }
    }

    /// <summary>Takes a running non-daemon thread out of the join: it called the exit itself and must not be waited for.</summary>
    internal void Exempt(DaemonThread thread)
    {
        lock (_lock)
        {
            if (thread.Exempt)
            {
                return;
            }

            thread.Exempt = true;
            if (thread.Linked && !thread.IsDaemon)
            {
                _nonDaemonToJoin--;
                if (_pulseOnChange)
                {
                    Monitor.PulseAll(_lock);
                }
            }
        }
    }

    /// <summary>Gets the number of live threads, the main thread included (Python's <c>active_count()</c>).</summary>
    internal int ActiveCount
    {
        get
        {
            lock (_lock)
            {
                return 1 + _count + PruneDummies();
            }
        }
    }

    /// <summary>Copies the live threads: the main thread first, then started threads, then live dummies.</summary>
    internal List<DaemonThread> Snapshot(DaemonThread main)
    {
        lock (_lock)
        {
            int dummies = PruneDummies();
            var list = new List<DaemonThread>(1 + _count + dummies) { main };
            for (DaemonThread? t = _head; t is not null; t = t.RegistryNext)
            {
                list.Add(t);
            }

            if (_dummies is not null)
            {
                list.AddRange(_dummies);
            }
            return list;
        }
    }

    /// <summary>Starts recording finished non-daemon threads and pulsing waiters; the first step of shutdown.</summary>
    /// <remarks>Idempotent.</remarks>
    internal void BeginShutdown()
    {
        lock (_lock)
        {
            _finishedNonDaemon ??= [];
            if (_pulseOnChange)
            {
                return; // the tasks have their continuations already
            }

            _pulseOnChange = true;

            // A task in its home slot has no continuation (see TrackedTaskTable): from now on each needs one, to wake the
            // wait when it completes. Race: a Track that adds a task concurrently publishes it with a full fence and then
            // reads the flag (Track), and the flag is written before this fence and the scan, so at least one of the two
            // gives the task its continuation (both may: the task then pulses twice, which only wakes the wait twice).
            Interlocked.MemoryBarrier();
            _tracked.ForEachUnfinished(_leave ??= LeaveContinuation);
        }
    }

    /// <summary>Gets what still blocks the exit: non-daemon threads to join plus tracked tasks. Read under <see cref="SyncRoot"/>.</summary>
    internal int BlockingCount => _nonDaemonToJoin + _tracked.Count();

    /// <summary>Gets a count that grows whenever exit work makes progress (a thread or task finishes, a pool item ends).</summary>
    /// <remarks>
    /// Progress noted by <see cref="NoteProgress"/> since the last read is folded in here, as one step: the quiet period
    /// only asks whether the count moved between two reads.
    /// </remarks>
    internal long Progress
    {
        get
        {
            // Race: a NoteProgress that read the flag as set just before this exchange skips its write; its progress
            // happened before this read and is counted by it.
            if (Volatile.Read(ref _progressNoted) != 0 && Interlocked.Exchange(ref _progressNoted, 0) != 0)
            {
                Interlocked.Increment(ref _progress);
            }

            return Volatile.Read(ref _progress);
        }
    }

    /// <summary>Records progress of exit work that is not a whole thread or task (a pool item, once per item).</summary>
    /// <remarks>
    /// A read and, only when the flag is clear, a write: pool workers finishing items back to back find it set and share
    /// its cache line read-only, instead of each taking it for an interlocked increment (issue 11). The flag is cleared
    /// only by a read of <see cref="Progress"/>, which only the exit's wait does (when it wakes: a thread or task ended,
    /// or the quiet period would run out).
    /// </remarks>
    internal void NoteProgress()
    {
        if (Volatile.Read(ref _progressNoted) == 0)
        {
            Volatile.Write(ref _progressNoted, 1);
        }
    }

    /// <summary>Gets the number of running daemon threads. Read under <see cref="SyncRoot"/>.</summary>
    internal int DaemonCount => _daemonLive;

    /// <summary>Gets a value indicating whether <paramref name="thread"/> is registered as running.</summary>
    internal bool IsLinked(DaemonThread thread)
    {
        lock (_lock)
        {
            return thread.Linked;
        }
    }

    /// <summary>
    /// Tells whether every piece of work still blocking the exit is a thread sitting in a wait (the Environment.Exit
    /// path's test for "only blocked callers are left"); a tracked task or a running thread means no.
    /// </summary>
    internal bool AllBlockingWorkIsWaiting()
    {
        lock (_lock)
        {
            if (_tracked.Count() > 0)
            {
                return false;
            }

            for (DaemonThread? t = _head; t is not null; t = t.RegistryNext)
            {
                if (!t.IsDaemon && !t.Exempt && !t.IsBlockedInWait())
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>Makes <paramref name="task"/> block the exit until it completes (ExitRegistry.Track).</summary>
    /// <returns><see langword="false"/> when the point of no return has passed: nothing would wait for it.</returns>
    /// <remarks>
    /// No lock and, on the common path, no allocation (issue 11): the table adds with two interlocked operations on the
    /// task's home slot and needs nothing to run when the task completes (<see cref="TrackedTaskTable"/>). A continuation
    /// (a delegate closed over the task, stored without an ExecutionContext or a scheduler: UnsafeOnCompleted on a
    /// ConfigureAwait(false) awaiter) is added only when the task goes to the overflow, which must drop it, or when the
    /// exit has begun, whose wait must wake.
    /// </remarks>
    internal bool Track(Task task, string? name)
    {
        if (PastPointOfNoReturn)
        {
            return false;
        }

        TrackedIn added = _tracked.TryAdd(task, name);
        if (added == TrackedIn.Already)
        {
            return true; // tracked already: one entry
        }

        // Race: the point of no return may pass between the check above and the add. The add and PassPointOfNoReturn's
        // write of the flag are each followed by a full fence, so either this read sees the flag, or PassPointOfNoReturn's
        // list has the task (the lock used to make the two one step). When this read sees the flag, the list may have the
        // task as well: it is reported as unfinished, and the caller is told that nothing will wait for it, both true.
        if (PastPointOfNoReturn)
        {
            _tracked.Remove(task);
            return false;
        }

        // The same fence protocol against BeginShutdown's scan of the slots.
        if (added == TrackedIn.Overflow || Volatile.Read(ref _pulseOnChange))
        {
            LeaveContinuation(task);
        }

        return true;
    }

    /// <summary>Removes a tracked task that completed, and wakes the exit if it waits.</summary>
    internal void Untrack(Task task)
    {
        // It pulses even when the task is no longer in the table: a slot's finished task may have been swept or taken over
        // before this continuation ran, and the wait must still wake. Race: the wait counts under the lock after it set
        // _pulseOnChange under the lock, and this continuation was added after the flag was set (BeginShutdown, or a
        // Track that read it) and runs after the task completed, so either the count sees the task finished or the wait
        // is in Monitor.Wait when this pulse comes.
        _tracked.Remove(task);
        if (Volatile.Read(ref _pulseOnChange))
        {
            lock (_lock)
            {
                Interlocked.Increment(ref _progress);
                Monitor.PulseAll(_lock);
            }
        }
    }

    // Gives a tracked task the continuation that removes it and wakes the exit. Its own method: a lambda over the task in
    // Track would allocate its closure on every call, whichever branch runs.
    private void LeaveContinuation(Task task) =>
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(ReferenceEquals(this, Default) ? task.LeaveRegistry : UntrackContinuation(task));

    private Action UntrackContinuation(Task task) => () => Untrack(task);

    /// <summary>Gets the number of tracked tasks not yet completed.</summary>
    internal int TrackedCount
    {
        get
        {
            lock (_lock)
            {
                return _tracked.Count();
            }
        }
    }

    /// <summary>
    /// Marks the point of no return and returns, in one atomic step, what is still running: non-daemon threads
    /// (not exempted), tracked tasks and daemon threads; and which non-daemon threads finished since shutdown began.
    /// </summary>
    internal (List<DaemonThread> Joined, List<DaemonThread> NonDaemon, List<UnfinishedWork> Tasks, List<DaemonThread> Daemon) PassPointOfNoReturn()
    {
        lock (_lock)
        {
            Volatile.Write(ref _pastPointOfNoReturn, true);
            Interlocked.MemoryBarrier(); // before the tracked tasks are read: see the race in Track
            var nonDaemon = new List<DaemonThread>();
            var daemon = new List<DaemonThread>();
            for (DaemonThread? t = _head; t is not null; t = t.RegistryNext)
            {
                if (t.IsDaemon)
                {
                    daemon.Add(t);
                }
                else if (!t.Exempt)
                {
                    nonDaemon.Add(t);
                }
            }

            var tasks = new List<UnfinishedWork>();
            _tracked.AddUnfinished(tasks);

            var joined = _finishedNonDaemon is null ? [] : new List<DaemonThread>(_finishedNonDaemon);
            _finishedNonDaemon = null;
            return (joined, nonDaemon, tasks, daemon);
        }
    }

    /// <summary>
    /// Passes the point of no return if no started thread is live and no task is tracked; call under <see cref="SyncRoot"/>.
    /// </summary>
    /// <returns>
    /// <see langword="false"/> when something is live or tracked. Threads are added under the lock, so that answer holds;
    /// a task tracked concurrently may be seen only after the flag is set (the same fence protocol as <see cref="Track"/>),
    /// and then the flag stays set and the caller runs the full sequence, which joins the task.
    /// </returns>
    internal bool TryPassPointOfNoReturnIfIdle()
    {
        if (_count != 0 || _tracked.Count() != 0)
        {
            return false;
        }

        Volatile.Write(ref _pastPointOfNoReturn, true);
        Interlocked.MemoryBarrier(); // before the tracked tasks are read again: see the race in Track
        return _tracked.Count() == 0;
    }

    // Drops dummies whose OS thread has ended (CPython 3.13+ removes them when the foreign thread exits).
    private int PruneDummies()
    {
        if (_dummies is null)
        {
            return 0;
        }

        _dummies.RemoveAll(static d => !d.IsAlive);
        _dummiesAfterPrune = _dummies.Count;

        // A burst of foreign threads must not keep its peak capacity either; halving keeps the resize amortised.
        if (_dummies.Capacity > 4 * MinDummiesBeforePrune && _dummies.Count < _dummies.Capacity / 4)
        {
            _dummies.Capacity = _dummies.Capacity / 2;
        }

        return _dummies.Count;
    }
}
