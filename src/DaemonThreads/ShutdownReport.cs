namespace DaemonThreads;

/// <summary>
/// Tells what the shutdown sequence did: which threads it joined, which it gave up on, which hooks failed.
/// </summary>
/// <remarks>
/// Python has no equivalent; CPython abandons daemon threads without a word. A report is immutable and safe to
/// share between threads. The same instance is returned by every call to <see cref="ExitRegistry.Shutdown()"/>
/// once the sequence has finished.
/// </remarks>
public sealed class ShutdownReport
{
    private readonly IReadOnlyList<DaemonThread>? _joined;
    private readonly IReadOnlyList<DaemonThread>? _timedOut;
    private readonly IReadOnlyList<DaemonThread>? _abandoned;
    private readonly IReadOnlyList<Exception>? _hookErrors;
    private readonly IReadOnlyList<UnfinishedWork>? _unfinished;

    internal ShutdownReport(
        ShutdownTrigger trigger,
        IReadOnlyList<DaemonThread> joined,
        IReadOnlyList<DaemonThread> timedOut,
        IReadOnlyList<DaemonThread> abandoned,
        IReadOnlyList<Exception> hookErrors,
        TimeSpan elapsed,
        bool isComplete,
        IReadOnlyList<UnfinishedWork>? unfinished = null)
    {
        _unfinished = unfinished ?? BuildUnfinished(timedOut, abandoned);
        Trigger = trigger;
        _joined = joined;
        _timedOut = timedOut;
        _abandoned = abandoned;
        _hookErrors = hookErrors;
        Elapsed = elapsed;
        IsComplete = isComplete;
    }

    /// <summary>The report of a sequence that had nothing to run: every list empty.</summary>
    /// <remarks>
    /// The lists are the empty arrays of their element types, made only when read: an exit with nothing to report makes no
    /// list at all (each is a type the runtime loads at its first use; benchmarks/README.md, issue 11 "Wave 4").
    /// </remarks>
    internal ShutdownReport(ShutdownTrigger trigger, TimeSpan elapsed)
    {
        Trigger = trigger;
        Elapsed = elapsed;
        IsComplete = true;
    }

    /// <summary>Gets the exit path that started the sequence.</summary>
    public ShutdownTrigger Trigger { get; }

    /// <summary>Gets the non-daemon threads that finished while the sequence waited for them.</summary>
    public IReadOnlyList<DaemonThread> Joined => _joined ?? Array.Empty<DaemonThread>();

    /// <summary>Gets the non-daemon threads still running when the wait ended (its deadline passed, or a second signal stopped it).</summary>
    public IReadOnlyList<DaemonThread> TimedOut => _timedOut ?? Array.Empty<DaemonThread>();

    /// <summary>Gets the daemon threads still running at the point of no return; the process drops them when it exits.</summary>
    public IReadOnlyList<DaemonThread> Abandoned => _abandoned ?? Array.Empty<DaemonThread>();

    /// <summary>Gets the exceptions thrown by hooks (and by <see cref="ExitRegistry.ShuttingDown"/> callbacks), in the order they were thrown.</summary>
    public IReadOnlyList<Exception> HookErrors => _hookErrors ?? Array.Empty<Exception>();

    /// <summary>Gets the time the sequence took, from its first step to the point of no return.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>
    /// Gets a value indicating whether the sequence had finished when this report was made. It is
    /// <see langword="false"/> only for the provisional report that <see cref="ExitRegistry.Shutdown()"/> returns when a hook calls
    /// it while the sequence is still running.
    /// </summary>
    public bool IsComplete { get; }

    /// <summary>
    /// Gets everything the sequence did not see finish, in one list: timed-out non-daemon threads, tracked tasks, pool
    /// items that never started, hooks still running when their bound ended, and abandoned daemon threads.
    /// </summary>
    /// <remarks>
    /// <see cref="TimedOut"/> and <see cref="Abandoned"/> hold the threads of this list; this list adds the other kinds of
    /// work. Entries are ordered by kind (<see cref="ExitWorkKind"/>), then as the sequence found them.
    /// </remarks>
    public IReadOnlyList<UnfinishedWork> Unfinished => _unfinished ?? Array.Empty<UnfinishedWork>();

    /// <summary>Gets a value indicating whether the report names no unfinished work at all (no list is made to tell).</summary>
    internal bool NothingUnfinished => (_unfinished is null || _unfinished.Count == 0) && (_timedOut is null || _timedOut.Count == 0) && (_abandoned is null || _abandoned.Count == 0);

    private static List<UnfinishedWork> BuildUnfinished(IReadOnlyList<DaemonThread> timedOut, IReadOnlyList<DaemonThread> abandoned)
    {
        var list = new List<UnfinishedWork>(timedOut.Count + abandoned.Count);
        foreach (DaemonThread t in timedOut)
        {
            list.Add(new UnfinishedWork(ExitWorkKind.Thread, t.Name, thread: t));
        }

        foreach (DaemonThread t in abandoned)
        {
            list.Add(new UnfinishedWork(ExitWorkKind.DaemonThread, t.Name, thread: t));
        }

        return list;
    }
}
