using BenchmarkDotNet.Attributes;

namespace DaemonThreads.Benchmarks;

/// <summary>
/// Start and join empty threads from 1, 2, 4 or 8 starter threads at once; each invocation starts
/// <see cref="Total"/> threads in all, so the per-operation time is the inverse of throughput.
/// </summary>
/// <remarks>
/// The starters are created once per process and released by a barrier, so their own creation is not measured.
/// Goal: DaemonThread throughput with 8 starters ≥ 0.95× raw (time per operation ≤ 1.053× raw).
/// </remarks>
[MemoryDiagnoser]
public class ConcurrentStartJoinBenchmarks
{
    private const int Total = 64;

    private static readonly ThreadStart s_emptyStart = static () => { };
    private static readonly Action s_empty = static () => { };

    private Barrier? _barrier;
    private Thread[] _starters = [];
    private volatile bool _useDaemonThread;
    private volatile bool _stop;

    /// <summary>Gets or sets how many threads start threads at the same time.</summary>
    [Params(1, 2, 4, 8)]
    public int Starters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _barrier = new Barrier(Starters + 1);
        _starters = new Thread[Starters];
        int perStarter = Total / Starters;
        for (int i = 0; i < Starters; i++)
        {
            _starters[i] = new Thread(() => StarterLoop(perStarter)) { IsBackground = true, Name = "starter" };
            _starters[i].Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _barrier!.SignalAndWait();
        foreach (Thread starter in _starters)
        {
            starter.Join();
        }

        _barrier.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Total, Description = "Thread Start+Join, concurrent")]
    public void RawThread() => RunRound(useDaemonThread: false);

    [Benchmark(OperationsPerInvoke = Total, Description = "DaemonThread Start+Join, concurrent")]
    public void DaemonThreadStartJoin() => RunRound(useDaemonThread: true);

    private void RunRound(bool useDaemonThread)
    {
        _useDaemonThread = useDaemonThread;
        _barrier!.SignalAndWait(); // release the starters
        _barrier.SignalAndWait(); // wait until every starter has joined its threads
    }

    private void StarterLoop(int perStarter)
    {
        while (true)
        {
            _barrier!.SignalAndWait();
            if (_stop)
            {
                return;
            }

            if (_useDaemonThread)
            {
                for (int i = 0; i < perStarter; i++)
                {
                    var thread = new DaemonThread(s_empty, isDaemon: false);
                    thread.Start();
                    thread.Join();
                }
            }
            else
            {
                for (int i = 0; i < perStarter; i++)
                {
                    var thread = new Thread(s_emptyStart);
                    thread.Start();
                    thread.Join();
                }
            }

            _barrier.SignalAndWait();
        }
    }
}
