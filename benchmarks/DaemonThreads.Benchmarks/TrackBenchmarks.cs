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
