using BenchmarkDotNet.Attributes;

namespace DaemonThreads.Benchmarks;

/// <summary>Start and join one thread with an empty body, from one starter: raw <see cref="Thread"/> against <see cref="DaemonThread"/>.</summary>
/// <remarks>Goals: time ≤ 1.05× raw; managed allocation ≤ 1 KiB beyond raw.</remarks>
[MemoryDiagnoser]
public class StartJoinBenchmarks
{
    private static readonly ThreadStart s_emptyStart = static () => { };
    private static readonly Action s_empty = static () => { };

    /// <summary>Gets or sets the daemon flag (raw: <see cref="Thread.IsBackground"/>).</summary>
    [Params(false, true)]
    public bool Daemon { get; set; }

    [Benchmark(Baseline = true, Description = "Thread Start+Join")]
    public void RawThread()
    {
        var thread = new Thread(s_emptyStart) { IsBackground = Daemon };
        thread.Start();
        thread.Join();
    }

    [Benchmark(Description = "DaemonThread Start+Join")]
    public void DaemonThreadStartJoin()
    {
        var thread = new DaemonThread(s_empty, isDaemon: Daemon);
        thread.Start();
        thread.Join();
    }
}
