using BenchmarkDotNet.Attributes;

namespace DaemonThreads.Benchmarks;

/// <summary>
/// <see cref="DaemonThread.Enumerate"/> and <see cref="DaemonThread.ActiveCount"/> with 10, 1,000 or 10,000 live
/// (blocked) daemon threads, against copying a <see cref="List{T}"/> of as many <see cref="Thread"/>s, the least a
/// snapshot of raw threads could cost.
/// </summary>
/// <remarks>Goals: time linear in the thread count; no allocation beyond the returned list.</remarks>
[MemoryDiagnoser]
public class EnumerateBenchmarks
{
    private readonly ManualResetEventSlim _release = new(false);
    private readonly List<Thread> _rawThreads = [];
    private readonly List<DaemonThread> _live = [];

    /// <summary>Gets or sets how many blocked threads are alive while the snapshot is taken.</summary>
    [Params(10, 1000, 10000)]
    public int LiveThreads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        using var running = new CountdownEvent(LiveThreads);
        for (int i = 0; i < LiveThreads; i++)
        {
            // Small stacks: 10,000 threads with the default 1.5 MiB reservation would exhaust address space on some hosts.
            var thread = new DaemonThread(
                () =>
                {
                    running.Signal();
                    _release.Wait(); // deliberately infinite: Cleanup releases every thread
                },
                isDaemon: true,
                maxStackSize: 256 * 1024);
            thread.Start();
            _live.Add(thread);
            _rawThreads.Add(new Thread(static () => { }));
        }

        running.Wait(); // deliberately infinite: every thread signals first thing
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _release.Set();
        foreach (DaemonThread thread in _live)
        {
            thread.Join();
        }
    }

    [Benchmark(Baseline = true, Description = "new List<Thread>(list)")]
    public List<Thread> CopyRawList() => new(_rawThreads);

    [Benchmark(Description = "DaemonThread.Enumerate()")]
    public IReadOnlyList<DaemonThread> Enumerate() => DaemonThread.Enumerate();

    [Benchmark(Description = "DaemonThread.ActiveCount")]
    public int ActiveCount() => DaemonThread.ActiveCount;
}
