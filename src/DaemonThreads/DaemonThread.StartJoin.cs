using DaemonThreads.Internal;

namespace DaemonThreads;

// Start and join, and the races between them: a Start the OS refuses, joiners that arrive before the OS thread exists,
// and the exit's point of no return abandoning a thread that is still starting (issue 9).
public partial class DaemonThread
{
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
        // One delegate for every thread, with this object as the start's argument: a delegate over Bootstrap would be a
        // 64 B allocation per start (issue 11: the starts' allocation decides when collections land among them).
        var thread = new Thread(s_bootstrap, _maxStackSize);
        if (_isDaemon || _runInBackground)
        {
            // Only when true: a new Thread is foreground already, and the setter is a call into the runtime.
            thread.IsBackground = true;
        }

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

        // The owner must be in the new thread's ExecutionContext before the body runs, so that pool code the body starts
        // belongs to it (SPEC 2.2), and the new thread must not allocate to get it there: a thread that allocates at
        // all takes an 8 KiB allocation context from the GC, which was the whole of the RSS per thread over a bare raw
        // thread and 43 MB of page faults with 5,000 blocked threads (benchmarks/README.md, issue 11 wave 2).
        // The first ColdStarts starts leave this thread's context alone: Thread.Start flows it as for a raw Thread, and
        // Bootstrap adds the owner on the new thread (an allocation there, for a handful of threads), which spares the
        // short program two AsyncLocal writes here and the capture of a context made only to carry the owner
        // (benchmarks/README.md, issue 11 "Wave 4").
        bool warm = WarmStart();
        _warmStart = warm;
        bool placed = warm && TryPlaceOwnerContext(thread);
        bool ownerFlows = warm && !placed;
        object? starterOwner = null;
        if (ownerFlows)
        {
            // Something flows from this thread anyway (or flow is suppressed): Thread.Start captures this thread's
            // context with the owner added, and the new thread runs under it, as a raw Thread started here would.
            starterOwner = s_logical.Value;
            s_logical.Value = this;
        }

        _ownerPlaced = placed;
        try
        {
            StartThread(thread, this, placed);
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
            if (ownerFlows)
            {
                s_logical.Value = starterOwner;
            }
        }

        // Race: between publishing StateStarted and here, a joiner on another thread may be waiting for the OS thread to
        // exist (Thread.Join on an unstarted Thread throws); wake it. Without such a waiter no lock is taken: the new
        // thread takes this lock in Bootstrap, and a starter blocked behind it lost its turn on the CPU to the threads
        // it had just started (benchmarks/README.md, exit with many daemon threads).
        Volatile.Write(ref _osStarted, true);
        Interlocked.MemoryBarrier(); // pairs with the Increment in WaitUntilOsStarted: one side sees the other
        if (Volatile.Read(ref _waiters) > 0)
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
    /// Python equivalent: <c>Thread.join()</c>. Returns once the body and the exception hook have returned and the thread
    /// has left <see cref="Enumerate"/>; from then on <see cref="IsAlive"/> is <see langword="false"/>. As in CPython, it
    /// does not wait for the OS thread's own exit, which follows within microseconds and runs no code of the program's
    /// (a raw <see cref="System.Threading.Thread.Join()"/> does wait for it). Joining a daemon thread is allowed; many
    /// threads may join at once. An interrupted joiner (<see cref="System.Threading.Thread.Interrupt"/>) gets
    /// <see cref="ThreadInterruptedException"/>, as from <see cref="System.Threading.Thread.Join()"/>. Deliberately
    /// infinite: use <see cref="Join(TimeSpan)"/> for a bound.
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
        ExitRegistry.Coordinator.NoteJoinedByStep(this); // a hook joining this thread: its own Shutdown() must not wait
        WaitUntilFinished(Deadline.Infinite);
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
    /// thread ended, in the sense of <see cref="Join()"/>. Negative timeouts are rejected (.NET convention) rather than
    /// clamped to 0 as Python does.
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

        ExitRegistry.Coordinator.NoteJoinedByStep(this);
        return WaitUntilFinished(Deadline.After(timeout));
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

    /// <summary>Seam for tests: replaces how the OS thread is started; its argument starts it (CPython's test_limbo_cleanup replaces <c>_start_new_thread</c>).</summary>
    internal static Action<Action>? StartThreadOverrideForTests { get; set; }

    /// <summary>
    /// Counts a start, and tells whether the runtime-private fast paths (<see cref="RuntimeThreadContext"/>,
    /// <see cref="RuntimeThreadName"/>) are worth taking: they save each thread a few microseconds and 8 KiB of RSS, but
    /// their first use costs the process about 2 ms of CPU (the runtime generates and JIT-compiles the field accessors,
    /// which ReadyToRun cannot hold, and binds the naming P/Invoke), which a short program with one thread would pay for
    /// nothing (benchmarks/README.md, "Start-up"). The first <see cref="ColdStarts"/> starts take the public paths;
    /// every later start takes the fast ones.
    /// </summary>
    internal static bool WarmStart()
    {
        if (s_warm)
        {
            return true;
        }

        if (Interlocked.Increment(ref s_coldStarts) > ColdStarts)
        {
            s_warm = true;
        }

        return false;
    }

    /// <summary>How many starts take the public paths before the fast ones (see <see cref="WarmStart"/>).</summary>
    internal const int ColdStarts = 8;

    private static int s_coldStarts;
    private static volatile bool s_warm;

    private static void StartThread(Thread thread, DaemonThread owner, bool contextPlaced)
    {
        Action<Action>? start = StartThreadOverrideForTests;
        if (start is null)
        {
            if (contextPlaced)
            {
                // This thread's context is the default one, so there is nothing to capture: the new thread runs under
                // the context placed on it, without installing one (which allocates).
                thread.UnsafeStart(owner);
            }
            else
            {
                thread.Start(owner);
            }
        }
        else
        {
            StartThroughOverride(start, thread, owner);
        }
    }

    // Its own method: a lambda that captures parameters makes the compiler allocate its closure where the method begins,
    // on every start, whether or not the lambda is ever made.
    private static void StartThroughOverride(Action<Action> start, Thread thread, DaemonThread owner) => start(() => thread.Start(owner));

    /// <summary>Waits, within <paramref name="deadline"/>, until the body, the hook and the registry's cleanup of a started thread have finished (what Join waits for).</summary>
    /// <returns><see langword="false"/> when the deadline passed first.</returns>
    /// <exception cref="ThreadStateException">The Start() this raced with failed, so the thread was never started.</exception>
    /// <remarks>
    /// Not the OS thread's exit, which a raw Thread.Join waits for: the thread's exit path in the runtime lay on every
    /// start+join's critical path, and not waiting for it made a start+join 4-10 % faster on the reference VM. The price:
    /// the exiting thread overlaps the next start, which costs 2 starters on 2 cores 1 % unpinned and 10 % under
    /// SCHED_FIFO (benchmarks/README.md, issue 11 "Wave 11"). No spin before the wait: one as short as
    /// <see cref="ManualResetEventSlim"/>'s made a lone start+join 5-7 % faster still, but took the CPU that 8 concurrent
    /// starters on 2 cores needed (throughput 0.92-0.96x raw).
    /// </remarks>
    private bool WaitUntilFinished(Deadline deadline)
    {
        if (Volatile.Read(ref _bodyFinished))
        {
            return true;
        }

        lock (_lock)
        {
            // Bootstrap pulses under this lock when it sees a waiter; a Start that fails resets the state and pulses.
            _joinWaiters++;
            try
            {
                while (!_bodyFinished && Volatile.Read(ref _state) == StateStarted)
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
                _joinWaiters--;
            }

            if (!_bodyFinished)
            {
                throw StartFailed(null);
            }

            return true;
        }
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
            Interlocked.Increment(ref _waiters);
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
                Interlocked.Decrement(ref _waiters);
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

    private static readonly ParameterizedThreadStart s_bootstrap = static owner => ((DaemonThread)owner!).Bootstrap();

    private void Bootstrap()
    {
        // Nothing here allocates, and nothing touches Thread.CurrentThread or a thread-static (the runtime allocates a
        // thread's static block on first use): a bare raw Thread allocates nothing either (see Start). Current finds
        // this thread through the owner in its context, and caches it in t_current only if the body asks.
        if (!_ownerPlaced && !ReferenceEquals(s_logical.Value, this))
        {
            s_logical.Value = this; // a cold start (see Start), or the starter had suppressed ExecutionContext flow
        }

        long? nativeId = NativeThread.CurrentId();

        // No lock before the body: this is the part of a start that the exit of 5,000 blocked threads amplifies about
        // tenfold (benchmarks/README.md, issue 11 "Wave 9"); without the lock, ExitHarness idle 3000 measured 18.2 ->
        // 17.9 KB per live thread, the user-style twin no change ("Wave 10"). Not through Thread.Name's setter where that
        // can be helped: it locks the Thread object, which the starter still holds inside Thread.Start
        // (RuntimeThreadName). Through the Thread object, not Thread.CurrentThread, which would allocate the
        // thread-static block too.
        Thread self = _thread!;
        string name = Volatile.Read(ref _name);
        if (!_warmStart || !RuntimeThreadName.TrySetOnCurrentThread(self, name))
        {
            self.Name = name;
        }

        Volatile.Write(ref _nativeThreadId, nativeId ?? 0);
        Volatile.Write(ref _nativeIdRecorded, true);
        Volatile.Write(ref _osStarted, true);

        // Pairs with the full fences of the Name setter (it renames _thread while holding its lock and the Thread's) and
        // of the waiters' Interlocked.Increment: either they see what was just written, or this sees their change.
        Interlocked.MemoryBarrier();
        if (!ReferenceEquals(Volatile.Read(ref _name), name) || Volatile.Read(ref _waiters) > 0)
        {
            PublishStartedSlow(self, name);
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

            // Out of the registry first: a joiner that returns, and whoever it tells, must no longer see the thread listed.
            ThreadRegistry.Default.Remove(this);
            TaskCompletionSource? completion;
            lock (_lock)
            {
                Volatile.Write(ref _bodyFinished, true);
                completion = _completion;
                if (_joinWaiters > 0)
                {
                    Monitor.PulseAll(_lock); // only then: it gives the lock object a sync block (PublishStartedSlow)
                }
            }

            completion?.TrySetResult();
        }
    }

    // Rare: the Name setter ran while this thread named itself (its rename may have landed before this thread's own,
    // which would then have put back the old name), or somebody waits for the OS thread or its id. Under the lock the
    // setter takes, so the last name set is the one that stays.
    private void PublishStartedSlow(Thread self, string nameSet)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(_name, nameSet))
            {
                self.Name = _name;
            }

            // Only for a waiter: Monitor.PulseAll gives the lock object a sync block, a native allocation per thread that
            // stays until the next GC (benchmarks/README.md, issue 11 wave 2).
            if (_waiters > 0)
            {
                Monitor.PulseAll(_lock);
            }
        }
    }

    /// <summary>Lets the runtime exit without waiting for this thread: after the point of no return a timed-out non-daemon thread is abandoned.</summary>
    /// <remarks>
    /// Effective whatever point <see cref="Start"/> is at (issue 9 item 8): once Start has published the Thread object
    /// (before it registers the thread, so before the exit can see it) the Thread is made background here, started or
    /// not; before that, the flag makes Start make it background before Thread.Start.
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
                // One of the two places IsBackground and IsDaemon part (the other: pool workers): the user's JoinTimeout
                // has run out, and the runtime's own unbounded wait for foreground threads must not hang the exit they bounded.
                thread.IsBackground = true;
            }
            catch (ThreadStateException)
            {
                // The thread ended between the check and the write: there is nothing left to abandon.
                return;
            }
        }
    }
}
