using System.Globalization;
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
            _shutdown = true;
            _interpreterShutdown = true;
            Monitor.PulseAll(_lock);
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

    private void Enqueue(WorkItem item)
    {
        lock (_lock)
        {
            // CPython checks the executor's flag first, then the interpreter's, both under its locks; a pool the exit
            // sequence shut down answers with the interpreter's message.
            if (_shutdown && !_interpreterShutdown)
            {
                throw AfterShutdown();
            }

            if (_interpreterShutdown || ExitRegistry.Coordinator.HasStarted)
            {
                throw AfterInterpreterShutdown();
            }

            if (!_registered)
            {
                // Race: the exit sequence may begin between the check above and here. AddParticipant then refuses
                // (it snapshots its participants only after the phase has moved), and nothing is queued.
                if (!ExitRegistry.Coordinator.AddParticipant(this))
                {
                    _shutdown = true;
                    _interpreterShutdown = true;
                    throw AfterInterpreterShutdown();
                }

                _registered = true;
            }

            // Race: once registered, a sequence that begins now calls BeginShutdown, which waits for this lock, so the
            // item is queued before the pool is marked and runs like any item queued before the exit.
            AdjustThreadCount(_queue.Count + 1); // first: if no worker can be started, nothing is queued
            _queue.Enqueue(item);
            Volatile.Write(ref _queued, _queue.Count);

            // A spinning worker takes the item without being woken; wake a sleeper only for the items beyond them.
            if (_waiting > 0 && _queue.Count > Volatile.Read(ref _spinning))
            {
                Monitor.Pulse(_lock);
            }
        }
    }

    /// <summary>Starts a worker when the queued items outnumber the idle workers and fewer than the maximum exist.</summary>
    /// <remarks>
    /// CPython's <c>_adjust_thread_count</c>: it starts a thread unless it can take one count from the idle semaphore,
    /// which each worker releases when it finds the queue empty. Here an idle worker is one that is not running an item
    /// (it is marked so before its item's task completes, so code that waits for a result and submits again finds it
    /// idle); an idle worker is claimed by each queued item, so the count cannot drift as the semaphore can.
    /// </remarks>
    private void AdjustThreadCount(int queued)
    {
        int idle = _live - Volatile.Read(ref _busy); // _busy moves outside the lock (WorkerLoop, TryTake)
        if (queued <= idle || _workers.Count >= _maxWorkers)
        {
            return;
        }

        string name = _threadNamePrefix + "_" + _workers.Count.ToString(CultureInfo.InvariantCulture);

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
        _live++;
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
            Interlocked.Decrement(ref _busy);
            item.Publish();
        }
    }

    /// <summary>Takes the next item that has not been cancelled, waiting while the queue is empty; <see langword="false"/> when the worker must end.</summary>
    /// <remarks>
    /// Spin, then block, as the .NET thread pool's workers do: a worker that finds the queue empty first spins for a
    /// bounded while (<see cref="SpinForWork"/>, outside the lock), and only then waits on the monitor. A submit that
    /// comes while a worker spins is taken without a futex wake and a context switch (issue 11: one submit + wait was
    /// 8.7x Task.Run when every submit to an idle pool woke a blocked worker). At most <see cref="s_maxSpinners"/> workers
    /// spin at a time, so that an idle pool does not keep every core busy.
    /// </remarks>
    private bool TryTake([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out WorkItem? item)
    {
        bool maySpin = true;
        while (true)
        {
            Take take;
            lock (_lock)
            {
                take = TakeOrWait(maySpin, out item);
            }

            if (take != Take.Spin)
            {
                return take == Take.Item;
            }

            SpinForWork();
            maySpin = false; // once per empty queue: then the worker waits on the monitor
        }
    }

    /// <summary>Under the lock: takes an item, or tells the worker to end or to spin, or waits on the monitor for an item.</summary>
    private Take TakeOrWait(bool maySpin, out WorkItem? item)
    {
        while (true)
        {
            while (_queue.Count == 0)
            {
                if (_shutdown)
                {
                    WorkerEnding();
                    item = null;
                    return Take.End;
                }

                if (maySpin && Volatile.Read(ref _spinning) < s_maxSpinners)
                {
                    // Counted under the lock, so that Enqueue, which reads it under the lock, does not wake a sleeper for
                    // an item this worker is about to take.
                    Interlocked.Increment(ref _spinning);
                    item = null;
                    return Take.Spin;
                }

                // Deliberately unbounded: an idle worker waits for work; Enqueue pulses one waiter per item that no
                // spinning worker will take, and Shutdown, BeginShutdown pulse all of them.
                _waiting++;
                Monitor.Wait(_lock);
                _waiting--;
            }

            item = _queue.Dequeue();
            Volatile.Write(ref _queued, _queue.Count);

            // CPython's set_running_or_notify_cancel: an item cancelled while queued (by Map) is dropped here.
            if (item.TryStart())
            {
                Interlocked.Increment(ref _busy);
                return Take.Item;
            }
        }
    }

    /// <summary>Spins, without the lock, until an item is queued, the pool is shut down, or the bounded spin ends.</summary>
    /// <remarks>
    /// Bounded by <see cref="s_spinTicks"/> (100 us) of <see cref="SpinWait"/> rounds, which yield the core after the first
    /// few and never sleep here: about as long as a waiter needs to see a result and submit again. Race: an item
    /// queued after the last read is not missed, because the caller re-reads the queue under the lock before it waits,
    /// and <see cref="Enqueue"/> counted this worker as spinning only while <see cref="_spinning"/> said so.
    /// </remarks>
    private void SpinForWork()
    {
        var spinner = default(SpinWait);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (Volatile.Read(ref _queued) == 0 && !Volatile.Read(ref _shutdown)
            && System.Diagnostics.Stopwatch.GetTimestamp() - start < s_spinTicks)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        // Race: Enqueue may still read the old count and skip a wake-up; this worker re-reads the queue under the lock
        // before it waits, so the item is taken either way.
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
    private int CancelQueued()
    {
        int cancelled = 0;
        Volatile.Write(ref _queued, 0);
        while (_queue.TryDequeue(out WorkItem? item))
        {
            if (item.TryCancel())
            {
                cancelled++;
            }
        }

        return cancelled;
    }

    /// <summary>What <see cref="TakeOrWait"/> tells a worker.</summary>
    private enum Take
    {
        /// <summary>Run the item taken.</summary>
        Item,

        /// <summary>The pool is shut down and its queue empty: end.</summary>
        End,

        /// <summary>The queue is empty: spin for an item (<see cref="SpinForWork"/>), then ask again.</summary>
        Spin,
    }
}
