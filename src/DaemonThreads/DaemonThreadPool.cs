using System.Collections.Concurrent;
using DaemonThreads.Internal;

namespace DaemonThreads;

/// <summary>
/// Runs submitted work on a bounded set of reusable <see cref="DaemonThread"/> workers, and keeps the daemon /
/// non-daemon promise for the queued work when the process exits.
/// </summary>
/// <remarks>
/// <para>
/// Python equivalent: <c>concurrent.futures.ThreadPoolExecutor</c> (CPython 3.9+ semantics). Workers are created one at
/// a time, only when no worker is idle, up to <c>maxWorkers</c>, and named <c>PREFIX_I</c>; a submitted item returns a
/// <see cref="Task"/> (Python's <c>Future</c>) that carries the item's result or exception.
/// </para>
/// <para>
/// At exit (on every exit path of <see cref="ExitRegistry"/>, including <c>Main</c> returning without
/// <see cref="ExitRegistry.RunMain(Func{int})"/>), a non-daemon pool runs every item already queued and its workers are
/// joined within <see cref="ExitRegistry.JoinTimeout"/>; items that had not started when the deadline passed are
/// cancelled and counted in <see cref="ShutdownReport.Unfinished"/> (<see cref="ExitWorkKind.PoolItems"/>, named by the
/// prefix). A daemon pool is abandoned: its running workers are reported as abandoned daemon threads and its queued items
/// as <see cref="ExitWorkKind.PoolItems"/>.
/// </para>
/// <para>
/// The one exception to <c>IsBackground == IsDaemon</c>: the OS thread of a non-daemon worker is a background thread.
/// The exit sequence still joins it as non-daemon work, but the runtime's own unbounded wait for foreground threads when
/// <c>Main</c> returns never waits for an idle worker, which would otherwise hold the process for ever.
/// </para>
/// <para>
/// Each item runs in the <see cref="ExecutionContext"/> of the code that submitted it (as <see cref="Task.Run(Action)"/>
/// does; CPython runs it in the worker's context). <see cref="DaemonThread.Current"/> in an item is the worker.
/// </para>
/// <para>Thread safety: every member may be called from any thread, including from the pool's own items.</para>
/// </remarks>
public sealed partial class DaemonThreadPool : IDisposable, IAsyncDisposable
{
    // CPython's ThreadPoolExecutor._counter: one process-wide sequence for default prefixes, the first being 0.
    private static int s_counter = -1;

    // How many workers may spin for work at once (TryTake): one per core, as many as the .NET thread pool keeps polling
    // (its minimum of workers is the core count). A spinner yields the core at every poll, so a runnable submitter is not
    // kept off it. Issue 11, 2 cores: a burst of 64 from one submitter was 2.40x Task.Run with one spinner per two cores
    // and 1.05x with one per core (BenchmarkDotNet PoolBenchmarks, back to back): after a burst one spinner took the next
    // burst's first item and woke the others one by one through the monitor (66,000 futex calls for 18,000 bursts,
    // against Task.Run's 700). Latency and 8 submitters unchanged (0.65x / 0.84x against 0.69x / 0.91x).
    private static readonly int s_maxSpinners = Environment.ProcessorCount;

    // How long a worker polls for work before it blocks: 1 ms of Thread.Yield, about as long as a submitter needs to see a
    // result and submit again on a loaded machine. Each poll yields the core, so a submitter (or anything runnable) is
    // never kept off it by the spinner (issue 11, interleaved trials on 2 cores at load 10-140, pool3 branch: one submit +
    // wait 4.1 us with this, 4.3 us with 300 us, 5.6 us with 100 us of Thread.Yield, 6.6 us with the earlier 100 us of
    // SpinWait, 18 us without spinning; throughput from 1 and 8 submitters no worse than any of them).
    private static readonly long s_spinTicks = System.Diagnostics.Stopwatch.Frequency / 1_000;

    // Submit and take go through the queue without a lock; the lock covers what changes rarely: starting a worker, a
    // worker going to sleep or being woken, registration, shutdown and a worker ending.
    private readonly object _lock = new();
    private readonly ConcurrentQueue<WorkItem> _queue = new();
    private readonly List<DaemonThread> _workers = [];
    private readonly int _maxWorkers;
    private readonly string _threadNamePrefix;
    private readonly bool _isDaemon;
    private int _started;   // _workers.Count, for Submit's read outside the lock
    private int _live;      // workers whose loop has not ended; under the lock
    private int _unclaimed; // idle workers minus queued items (Interlocked): below zero, a queued item has no idle worker
    private int _waiting;   // workers in Monitor.Wait that no wake-up has claimed yet; changed under the lock
    private int _wakePending; // 1 while a pulsed worker has not yet reacquired the lock; written under the lock, read outside it
    private int _spinning;  // workers spinning for an item before they wait (see TryTake)
    private volatile bool _shutdown;
    private volatile bool _interpreterShutdown;
    private volatile bool _registered;

    /// <summary>Creates a pool; no worker is started until work is submitted.</summary>
    /// <param name="maxWorkers">
    /// The most workers the pool starts; <see langword="null"/> for <c>min(32, Environment.ProcessorCount + 4)</c>, as
    /// CPython 3.8+.
    /// </param>
    /// <param name="threadNamePrefix">
    /// The prefix of the workers' names (<c>PREFIX_0</c>, <c>PREFIX_1</c>, ...); <see langword="null"/> or empty for
    /// <c>ThreadPoolExecutor-N</c>, with N a process-wide counter from 0.
    /// </param>
    /// <param name="isDaemon">
    /// <see langword="true"/> for daemon workers (the pool is abandoned at exit), <see langword="false"/> for non-daemon
    /// workers (queued work runs before exit), <see langword="null"/> to copy the flag of the thread constructing the pool
    /// (non-daemon from the main program).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxWorkers"/> is zero or negative.</exception>
    /// <remarks>
    /// Python equivalent: <c>ThreadPoolExecutor(max_workers=None, thread_name_prefix='')</c>. Python's workers inherit the
    /// daemon flag of the thread that happens to submit when they are created; here the flag is fixed for the whole pool
    /// when it is constructed.
    /// </remarks>
    public DaemonThreadPool(int? maxWorkers = null, string? threadNamePrefix = null, bool? isDaemon = null)
    {
        if (maxWorkers <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxWorkers),
                maxWorkers,
                "max_workers must be greater than 0: pass a positive number, or null for the default of min(32, Environment.ProcessorCount + 4).");
        }

        ExitRegistry.EnsureInitialized();
        _maxWorkers = maxWorkers ?? DefaultMaxWorkers;
        _isDaemon = isDaemon ?? DaemonThread.Current.IsDaemon;

        // As CPython, the counter moves only when the default prefix is used.
        _threadNamePrefix = string.IsNullOrEmpty(threadNamePrefix)
            ? "ThreadPoolExecutor-" + PlainText.Decimal(Interlocked.Increment(ref s_counter))
            : threadNamePrefix;
    }

    /// <summary>Gets the default <c>maxWorkers</c>: <c>min(32, processors + 4)</c> (CPython 3.8+, bpo-35141).</summary>
    internal static int DefaultMaxWorkers => Math.Min(32, Environment.ProcessorCount + 4);

    /// <summary>Gets the most workers the pool starts (CPython's <c>_max_workers</c>).</summary>
    internal int MaxWorkers => _maxWorkers;

    /// <summary>Gets the prefix of the workers' names (CPython's <c>_thread_name_prefix</c>).</summary>
    internal string ThreadNamePrefix => _threadNamePrefix;

    /// <summary>Gets whether the workers are daemon threads.</summary>
    internal bool IsDaemon => _isDaemon;

    /// <summary>Gets a snapshot of the workers started so far (CPython's <c>_threads</c>).</summary>
    internal IReadOnlyList<DaemonThread> Workers
    {
        get
        {
            lock (_lock)
            {
                return [.. _workers];
            }
        }
    }

    /// <summary>Gets whether the pool is registered with the exit sequence (it is from the first submit until its workers end after shutdown).</summary>
    internal bool IsRegisteredForExit
    {
        get
        {
            lock (_lock)
            {
                return _registered;
            }
        }
    }

    /// <summary>Queues <paramref name="work"/> to run on a worker and returns a task that completes when it has run.</summary>
    /// <param name="work">The work.</param>
    /// <returns>
    /// A task that completes when <paramref name="work"/> returns, faults with what it throws, or is cancelled when the
    /// item is cancelled before it starts (<see cref="Shutdown"/> with <c>cancelPending</c>, or the exit's deadline).
    /// Its continuations run asynchronously.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down, or the exit sequence has begun.</exception>
    /// <remarks>
    /// Python equivalent: <c>executor.submit(fn)</c>. An exception thrown by <paramref name="work"/> (even
    /// <see cref="ThreadExitException"/>) goes to the task only, never to <see cref="DaemonThread.ExceptHook"/>, and the
    /// worker lives on. A new worker is started only when no worker is idle and fewer than <c>maxWorkers</c> exist.
    /// </remarks>
    public Task Submit(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var item = new ActionWorkItem(work);
        Enqueue(item);
        return item.Task;
    }

    /// <summary>Queues <paramref name="work"/> to run on a worker and returns a task with its result.</summary>
    /// <typeparam name="T">The type of the result.</typeparam>
    /// <param name="work">The work.</param>
    /// <returns>
    /// A task that completes with <paramref name="work"/>'s result, faults with what it throws, or is cancelled when the
    /// item is cancelled before it starts. Its continuations run asynchronously.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="work"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The pool was shut down, or the exit sequence has begun.</exception>
    /// <remarks>
    /// Python equivalent: <c>executor.submit(fn)</c> and <c>future.result()</c>; see <see cref="Submit(Action)"/>. The work
    /// is synchronous: an <see langword="async"/> lambda gives a <c>Task&lt;Task&gt;</c> whose outer task completes at
    /// the lambda's first <see langword="await"/>, and the rest runs on the .NET thread pool, outside this pool's promise.
    /// </remarks>
    public Task<T> Submit<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var item = new FuncWorkItem<T>(work);
        Enqueue(item);
        return item.Task;
    }

    /// <summary>Stops the pool accepting work and, when <paramref name="wait"/> is <see langword="true"/>, waits until every worker has ended.</summary>
    /// <param name="wait">
    /// <see langword="true"/> to return only when the workers have run every queued item and ended (deliberately
    /// unbounded, as Python); <see langword="false"/> to return at once while they finish in the background.
    /// </param>
    /// <param name="cancelPending"><see langword="true"/> to cancel the queued items that have not started: their tasks end cancelled.</param>
    /// <remarks>
    /// <para>Python equivalent: <c>executor.shutdown(wait=True, cancel_futures=False)</c>. The order:</para>
    /// <list type="number">
    /// <item>Mark the pool shut down: from here <see cref="Submit(Action)"/> throws.</item>
    /// <item>If <paramref name="cancelPending"/>, remove every queued item that has not started and cancel its task.</item>
    /// <item>Wake the idle workers: each ends once the queue is empty.</item>
    /// <item>If <paramref name="wait"/>, join every worker except the calling one.</item>
    /// </list>
    /// <para>
    /// Called from one of the pool's own items with <paramref name="wait"/> <see langword="true"/>, it joins the other
    /// workers and skips the calling one, which ends once its item returns. CPython raises <c>RuntimeError("cannot join
    /// current thread")</c> there, after it has already shut the pool down; skipping lets an item (or a
    /// <see langword="using"/> inside one) end the pool without an exception. The workers leave the exit sequence's list
    /// once they have all ended. Calling it again is harmless.
    /// </para>
    /// </remarks>
    public void Shutdown(bool wait = true, bool cancelPending = false)
    {
        DaemonThread[] workers;
        lock (_lock)
        {
            // Race: a submit that has just queued an item re-reads this flag after its enqueue, and either takes the item
            // back and throws, or finds it taken (see Enqueue); a worker ends only when it sees the queue empty after it.
            _shutdown = true;
            if (cancelPending)
            {
                // Cancelling under the lock runs no user code: the tasks continue asynchronously.
                CancelQueued();
            }

            WakeAll();
            workers = [.. _workers];
        }

        if (!wait)
        {
            return;
        }

        DaemonThread current = DaemonThread.Current;
        foreach (DaemonThread worker in workers)
        {
            if (!ReferenceEquals(worker, current))
            {
                // Deliberately unbounded, as Python's shutdown(wait=True): the worker ends once the queue is empty.
                worker.Join();
            }
        }
    }

    /// <summary>Shuts the pool down and waits until every worker has ended: <c>Shutdown(wait: true)</c>.</summary>
    /// <remarks>Python equivalent: leaving a <c>with ThreadPoolExecutor() as executor:</c> block.</remarks>
    public void Dispose() => Shutdown(wait: true);

    /// <summary>Shuts the pool down and completes when every worker has ended, without blocking a thread.</summary>
    /// <returns>A task that completes when the workers have run every queued item and ended (the calling worker excepted).</returns>
    /// <remarks>
    /// No Python equivalent (the nearest is <c>await loop.run_in_executor(None, executor.shutdown)</c>); the .NET idiom
    /// for <c>await using</c>. The wait is deliberately unbounded, as <see cref="Dispose"/>.
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        Shutdown(wait: false);
        DaemonThread current = DaemonThread.Current;
        List<Task> joins = [];
        foreach (DaemonThread worker in Workers)
        {
            if (!ReferenceEquals(worker, current))
            {
                joins.Add(worker.JoinAsync());
            }
        }

        // Deliberately unbounded, as Dispose: each worker ends once the queue is empty.
        await Task.WhenAll(joins).ConfigureAwait(false);
    }

    private static InvalidOperationException AfterShutdown() => new(
        "cannot schedule new futures after shutdown: this DaemonThreadPool was shut down. Submit the work before Shutdown() or Dispose(), or create a new pool for it.");

    private static InvalidOperationException AfterInterpreterShutdown() => new(
        "cannot schedule new futures after interpreter shutdown: the process's exit sequence has begun and the pool only finishes what was queued before. Submit the work before the exit begins (for example before ExitRegistry.Exit), or run it on the calling thread.");
}
