using DaemonThreads.Internal;

namespace DaemonThreads;

// The queue, the workers and the pool's part in the exit sequence (CPython's _adjust_thread_count, _worker and
// _python_exit).
public sealed partial class DaemonThreadPool : IExitParticipant
{
    /// <summary>Marks the pool shut down by the exit sequence and wakes its workers; does not block.</summary>
    /// <remarks>
    /// CPython's <c>_python_exit</c>, minus its join: the exit sequence's join step waits for the non-daemon workers,
    /// within <see cref="ExitRegistry.JoinTimeout"/>. Every item already queued still runs (CPython's wake-up
    /// <c>None</c> goes behind them in the queue); a daemon pool's workers keep draining while the process lives.
    /// </remarks>
    void IExitParticipant.BeginShutdown()
    {
        lock (_lock)
        {
            // The interpreter's flag first: a submit that sees _shutdown (volatile) then reads this one answers with the
            // interpreter's message.
            _interpreterShutdown = true;
            _shutdown = true;
            WakeAll();
        }
    }

    /// <summary>Cancels the queued items that never started and reports how many, under the pool's prefix.</summary>
    void IExitParticipant.AtPointOfNoReturn(List<UnfinishedWork> unfinished)
    {
        int cancelled;
        lock (_lock)
        {
            cancelled = CancelQueued();
        }

        if (cancelled > 0)
        {
            unfinished.Add(new UnfinishedWork(ExitWorkKind.PoolItems, _threadNamePrefix, count: cancelled));
        }
    }

    /// <summary>Queues an item without the lock: the lock is taken only to register, to start a worker, or to wake one.</summary>
    /// <remarks>
    /// The order:
    /// <list type="number">
    /// <item>Refuse if the pool or the exit sequence is shut down (volatile reads).</item>
    /// <item>Register with the exit sequence on the first submit (under the lock).</item>
    /// <item>Until the pool has all its workers, claim an idle worker (<see cref="_unclaimed"/>); if none is left, start one under the lock, before anything is queued.</item>
    /// <item>Enqueue, then re-read the shutdown flag: a pool shut down meanwhile gets the item back (cancelled, never run) and the submit throws.</item>
    /// <item>Wake a sleeping worker unless one is spinning or already being woken.</item>
    /// </list>
    /// </remarks>
    private void Enqueue(WorkItem item)
    {
        ThrowIfRefused();
        if (!_registered)
        {
            Register();
        }

        if (!IsFull && Interlocked.Decrement(ref _unclaimed) < 0)
        {
            try
            {
                StartWorkerIfNoneIdle();
            }
            catch
            {
                Interlocked.Increment(ref _unclaimed); // nothing is queued: the claim goes back
                throw;
            }
        }

        _queue.Enqueue(item); // a full fence (the queue's interlocked tail) before the re-read below

        // Race: Shutdown or BeginShutdown may have marked the pool after the first check. A worker ends only when it
        // finds the queue empty after it sees the flag, so an item queued before the flag was written is either taken by
        // a worker or cancelled by cancelPending / the point of no return. An item queued after it is not waited for:
        // the submit takes it back (it stays in the queue, cancelled, and is dropped like an item Map cancelled). If a
        // worker has already started it, it runs before that worker ends, and the submit returns as before the shutdown.
        if (_shutdown && item.TryCancel())
        {
            ThrowIfRefused();
        }

        // A spinning worker takes the item without being woken (it re-reads the queue after it stops counting itself as
        // spinning); a worker being woken takes it, or wakes the next one (TryTake). Read before the lock: with a wake-up
        // outstanding, every submit taking the lock only to find it so kept the woken worker from the lock it needs
        // (issue 11: 41,000 lock entries for 50 pulses in one ExecutorTwin run).
        if (NeedsWake())
        {
            WakeOne();
        }
    }

    /// <summary>Throws when the pool or the exit sequence refuses new work; the same checks and messages as CPython's <c>submit</c>.</summary>
    private void ThrowIfRefused()
    {
        // CPython checks the executor's flag first, then the interpreter's; a pool the exit sequence shut down answers
        // with the interpreter's message. HasStarted is a volatile read, not the coordinator's lock.
        if (_shutdown && !_interpreterShutdown)
        {
            throw AfterShutdown();
        }

        if (_interpreterShutdown || ExitRegistry.Coordinator.HasStarted)
        {
            throw AfterInterpreterShutdown();
        }
    }

    /// <summary>Adds the pool to the exit sequence's participants, once (the first submit).</summary>
    private void Register()
    {
        lock (_lock)
        {
            ThrowIfRefused();
            if (_registered)
            {
                return;
            }

            // Race: the exit sequence may begin between the check above and here. AddParticipant then refuses (it
            // snapshots its participants only after the phase has moved), and nothing is queued. Once registered, a
            // sequence that begins calls BeginShutdown, and Enqueue's re-read of _shutdown after its enqueue decides.
            if (!ExitRegistry.Coordinator.AddParticipant(this))
            {
                _interpreterShutdown = true;
                _shutdown = true;
                throw AfterInterpreterShutdown();
            }

            _registered = true;
        }
    }

    /// <summary>Starts a worker when the item just claimed found no idle worker and fewer than the maximum exist.</summary>
    /// <remarks>
    /// CPython's <c>_adjust_thread_count</c>: it starts a thread unless it can take one count from the idle semaphore,
    /// which each worker releases when it finds the queue empty. Here <see cref="_unclaimed"/> is that count kept exact:
    /// a worker adds one when it starts and when it finishes an item (before the item's task completes, so code that
    /// waits for a result and submits again finds it idle: CPython's test_idle_thread_reuse), each queued item takes
    /// one, and an item dropped unstarted gives its one back, so the count cannot drift as the semaphore can.
    /// </remarks>
    private void StartWorkerIfNoneIdle()
    {
        lock (_lock)
        {
            // Under the lock Shutdown snapshots the workers it joins: none may be added after it.
            ThrowIfRefused();

            // Re-read under the lock: a worker that finished an item, or one another submit started, may have taken the
            // claim meanwhile.
            if (Volatile.Read(ref _unclaimed) >= 0 || _workers.Count >= _maxWorkers)
            {
                return;
            }

            string name = _threadNamePrefix + "_" + PlainText.Decimal(_workers.Count);

            // A non-daemon worker runs on a background OS thread (see the class remarks); the exit sequence joins it.
            var worker = new DaemonThread(WorkerLoop, name, _isDaemon, runInBackground: !_isDaemon);

            // Without the submitter's ExecutionContext: the worker outlives this call, and must not keep the first
            // submitter's AsyncLocal values alive for all the items after it (each item runs in its own submitter's context).
            if (ExecutionContext.IsFlowSuppressed())
            {
                worker.Start();
            }
            else
            {
                using (ExecutionContext.SuppressFlow())
                {
                    worker.Start();
                }
            }

            _workers.Add(worker);
            Volatile.Write(ref _started, _workers.Count);
            _live++;
            Interlocked.Increment(ref _unclaimed); // the new worker is idle, and claimed by the caller's item
        }
    }

    /// <summary>The body of a worker: run items until the pool is shut down and its queue is empty (CPython's <c>_worker</c>).</summary>
    private void WorkerLoop()
    {
        while (TryTake(out WorkItem? item))
        {
            item.Run();

            // Progress for the Environment.Exit path's quiet period: a worker that keeps finishing items is not stuck.
            ThreadRegistry.Default.NoteProgress();

            // Idle before the item's task completes: a caller that waits for the result and submits again finds this
            // worker idle and reuses it (CPython's test_idle_thread_reuse).
            GiveBackClaim();
            item.Publish();
        }
    }

    /// <summary>Gets whether every worker the pool may have has been started; from then on no claim is counted.</summary>
    /// <remarks>
    /// The claim count decides only whether a submit starts a worker, which a full pool never does again (workers end
    /// only after shutdown), so a full pool's submits and workers skip its two interlocked operations per item, on a
    /// cache line every submitter and worker would otherwise take in turn (issue 11). Race: operations on either side
    /// of the moment the pool fills may leave the count inexact; nothing reads it after that moment.
    /// </remarks>
    private bool IsFull => Volatile.Read(ref _started) >= _maxWorkers;

    /// <summary>Counts one more idle worker (an item finished or was dropped), unless the pool is full.</summary>
    private void GiveBackClaim()
    {
        if (!IsFull)
        {
            Interlocked.Increment(ref _unclaimed);
        }
    }

    /// <summary>Takes the next item that has not been cancelled, waiting while the queue is empty; <see langword="false"/> when the worker must end.</summary>
    /// <remarks>
    /// Spin, then block, as the .NET thread pool's workers do: a worker that finds the queue empty first spins for a
    /// bounded while (<see cref="SpinForWork"/>), and only then waits on the monitor. A submit that comes while a worker
    /// spins is taken without a futex wake and a context switch (issue 11: one submit + wait was 8.7x Task.Run when every
    /// submit to an idle pool woke a blocked worker). At most <see cref="s_maxSpinners"/> workers (one per core) spin at a
    /// time, so that a pool larger than the machine does not poll with every worker. Only one worker is being woken at a
    /// time: it wakes the next when it finds more items queued, as the .NET thread pool requests one thread at a time.
    /// </remarks>
    private bool TryTake([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out WorkItem? item)
    {
        bool maySpin = true;
        while (true)
        {
            if (_queue.TryDequeue(out item))
            {
                // CPython's set_running_or_notify_cancel: an item cancelled while queued (by Map, or taken back by its
                // submit) is dropped here, and gives back the idle worker it claimed.
                if (!item.TryStart())
                {
                    GiveBackClaim();
                    continue;
                }

                if (NeedsWake() && !_queue.IsEmpty)
                {
                    WakeOne(); // more work than this worker: hand it on
                }

                return true;
            }

            if (_shutdown)
            {
                lock (_lock)
                {
                    // The flag was read before the queue: an item queued before the flag was written is seen here.
                    if (_queue.IsEmpty)
                    {
                        WorkerEnding();
                        item = null;
                        return false;
                    }
                }

                continue;
            }

            if (maySpin && TryBeginSpin())
            {
                SpinForWork();
                maySpin = false; // once per empty queue: then the worker waits on the monitor
                continue;
            }

            WaitForWork();
        }
    }

    /// <summary>Waits on the monitor unless an item was queued or the pool shut down after the caller looked.</summary>
    private void WaitForWork()
    {
        lock (_lock)
        {
            // Counted before the queue is re-read (a full fence): a submit that enqueues and then reads _waiting as zero
            // has enqueued before this re-read, which sees the item.
            Interlocked.Increment(ref _waiting);
            if (!_queue.IsEmpty || _shutdown)
            {
                Interlocked.Decrement(ref _waiting);
                return;
            }

            // Deliberately unbounded: an idle worker waits for work. WakeOne takes this worker off _waiting before it
            // pulses; Shutdown and BeginShutdown (WakeAll) clear it and pulse all.
            Monitor.Wait(_lock);

            // A full fence before the caller re-reads the queue: a submit that read 1 here and so woke nobody enqueued
            // before that read, and its item is seen (or this worker wakes the next one for it).
            Interlocked.Exchange(ref _wakePending, 0);
        }
    }

    /// <summary>Gets whether a queued item may need a sleeping worker woken: one sleeps, none spins, and no wake-up is outstanding.</summary>
    private bool NeedsWake() =>
        Volatile.Read(ref _waiting) > 0 && Volatile.Read(ref _spinning) == 0 && Volatile.Read(ref _wakePending) == 0;

    /// <summary>Pulses one waiting worker, unless none waits or one is already being woken.</summary>
    private void WakeOne()
    {
        lock (_lock)
        {
            if (_waiting > 0 && _wakePending == 0)
            {
                Interlocked.Decrement(ref _waiting);
                Volatile.Write(ref _wakePending, 1);
                Monitor.Pulse(_lock);
            }
        }
    }

    /// <summary>Pulses every waiting worker (shutdown). Call under the lock.</summary>
    private void WakeAll()
    {
        Volatile.Write(ref _waiting, 0);
        Monitor.PulseAll(_lock);
    }

    /// <summary>Counts the caller as spinning if fewer than <see cref="s_maxSpinners"/> workers spin.</summary>
    private bool TryBeginSpin()
    {
        int spinning = Volatile.Read(ref _spinning);
        while (spinning < s_maxSpinners)
        {
            int seen = Interlocked.CompareExchange(ref _spinning, spinning + 1, spinning);
            if (seen == spinning)
            {
                return true;
            }

            spinning = seen;
        }

        return false;
    }

    /// <summary>Polls, yielding the core each time, until an item is queued, the pool is shut down, or the bounded spin ends.</summary>
    /// <remarks>
    /// Bounded by <see cref="s_spinTicks"/> (1 ms) and never sleeps: about as long as a waiter needs to see a result and
    /// submit again. <see cref="Thread.Yield"/> rather than <see cref="SpinWait"/>'s busy rounds: on a machine with
    /// few cores the submitter needs the core the spinner holds (issue 11: with 100 us of SpinWait, 8 submitters were
    /// slower than without spinning). Race: a submit that read <see cref="_spinning"/> as non-zero did not wake anyone;
    /// its item is in the queue before that read, and the caller re-reads the queue after the decrement here (a full
    /// fence), so the item is taken either way.
    /// </remarks>
    private void SpinForWork()
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (_queue.IsEmpty && !_shutdown
            && System.Diagnostics.Stopwatch.GetTimestamp() - start < s_spinTicks)
        {
            Thread.Yield();
        }

        Interlocked.Decrement(ref _spinning);
    }

    /// <summary>Called under the lock by a worker that ends; the last one takes the pool off the exit sequence's list.</summary>
    private void WorkerEnding()
    {
        _live--;
        if (_live == 0 && _registered)
        {
            // Shut down and nothing left: the exit sequence has nothing to wait for or report here, and must not keep
            // the pool alive. (If the sequence is running, it holds its own copy of the list; removing is harmless.)
            ExitRegistry.Coordinator.RemoveParticipant(this);
            _registered = false;
        }
    }

    /// <summary>Removes every queued item and cancels those that had not started; returns how many it cancelled. Call under the lock.</summary>
    /// <remarks>Race: workers dequeue concurrently; each item is taken once, by a worker (which runs it) or here.</remarks>
    private int CancelQueued()
    {
        int cancelled = 0;
        while (_queue.TryDequeue(out WorkItem? item))
        {
            GiveBackClaim(); // the item gives back the idle worker it claimed
            if (item.TryCancel())
            {
                cancelled++;
            }
        }

        return cancelled;
    }
}
