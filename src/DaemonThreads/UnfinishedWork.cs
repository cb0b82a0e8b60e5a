namespace DaemonThreads;

/// <summary>Names one piece of work that the exit sequence did not see finish: a thread, a tracked task, a pool's queued items, a hook.</summary>
/// <remarks>
/// Python has no equivalent. <see cref="ShutdownReport.Unfinished"/> lists every such entry in one place, whatever its
/// kind, so that a log line or a test reads one list. Immutable and safe to share between threads.
/// </remarks>
public sealed class UnfinishedWork
{
    internal UnfinishedWork(ExitWorkKind kind, string name, int count = 1, DaemonThread? thread = null, Task? task = null)
    {
        Kind = kind;
        Name = name;
        Count = count;
        Thread = thread;
        Task = task;
    }

    /// <summary>Gets what kind of work this is.</summary>
    public ExitWorkKind Kind { get; }

    /// <summary>Gets the work's name: the thread's name, the name given to <c>ExitRegistry.Track</c>, the pool's thread-name prefix, or the hook's.</summary>
    public string Name { get; }

    /// <summary>Gets how many items the entry stands for: 1, or the number of a pool's queued items.</summary>
    public int Count { get; }

    /// <summary>Gets the thread, for <see cref="ExitWorkKind.Thread"/> and <see cref="ExitWorkKind.DaemonThread"/> entries.</summary>
    public DaemonThread? Thread { get; }

    /// <summary>Gets the task, for <see cref="ExitWorkKind.Task"/> entries.</summary>
    public Task? Task { get; }

    /// <summary>Returns <c>KIND NAME</c>, with the count when it is not 1.</summary>
    /// <returns>For example <c>Task upload</c> or <c>PoolItems ThreadPoolExecutor-0 (3)</c>.</returns>
    public override string ToString() => KindName(Kind) + " " + Name + (Count == 1 ? string.Empty : " (" + Internal.PlainText.Decimal(Count) + ")");

    // The enum's own names, without Enum.ToString: that boxes the value and compiles the enum-name reflection (24 KB of
    // code and its type data) into every NativeAOT image that references the library (benchmarks/README.md, "Wave 6").
    private static string KindName(ExitWorkKind kind) => kind switch
    {
        ExitWorkKind.Thread => nameof(ExitWorkKind.Thread),
        ExitWorkKind.DaemonThread => nameof(ExitWorkKind.DaemonThread),
        ExitWorkKind.Task => nameof(ExitWorkKind.Task),
        ExitWorkKind.PoolItems => nameof(ExitWorkKind.PoolItems),
        ExitWorkKind.Hook => nameof(ExitWorkKind.Hook),
        ExitWorkKind.MainProgram => nameof(ExitWorkKind.MainProgram),
        _ => Internal.PlainText.Decimal((int)kind),
    };
}
