using BenchmarkDotNet.Attributes;

namespace DaemonThreads.Benchmarks;

/// <summary>
/// <see cref="ExitRegistry.Track(Task, string?)"/> of a task that then completes, against the same task untracked (the
/// baseline): create a <see cref="TaskCompletionSource"/>, (track its task,) complete it.
/// </summary>
/// <remarks>Goal: no more than one small allocation and within 50 ns of the bare task.</remarks>
[MemoryDiagnoser]
public class TrackBenchmarks
{
    [GlobalSetup]
    public void Setup() => _ = ExitRegistry.JoinTimeout; // the registry installs itself outside the measurement

    [Benchmark(Baseline = true, Description = "bare task: create + complete")]
    public Task Bare()
    {
        var source = new TaskCompletionSource();
        source.SetResult();
        return source.Task;
    }

    // What Track cost while it learnt of each completion from a continuation (the cheapest way to be told): 50 ns and
    // 64 B on their own. Track now needs none (a finished task in a slot is skipped, taken over or swept), so this row is
    // the design it left behind, kept to show the difference.
    [Benchmark(Description = "bare task + one continuation (the floor) + complete")]
    public Task ContinuationOnly()
    {
        var source = new TaskCompletionSource();
        Task task = source.Task;
        task.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(task.NoteCompleted);
        source.SetResult();
        return task;
    }

    [Benchmark(Description = "ExitRegistry.Track(task) + complete")]
    public Task Tracked()
    {
        var source = new TaskCompletionSource();
        ExitRegistry.Track(source.Task);
        source.SetResult();
        return source.Task;
    }

    [Benchmark(Description = "ExitRegistry.Track(task, name) + complete")]
    public Task TrackedNamed()
    {
        var source = new TaskCompletionSource();
        ExitRegistry.Track(source.Task, "save");
        source.SetResult();
        return source.Task;
    }
}

internal static class TaskFloor
{
    private static int s_completed;

    // Closed over the task, as Track's continuation is (one delegate allocation).
    internal static void NoteCompleted(this Task task) => Volatile.Write(ref s_completed, task.Id);
}
