using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace DaemonThreads.Benchmarks;

/// <summary>
/// <see cref="DaemonThreadPool.Submit(Action)"/> + completion against <see cref="Task.Run(Action)"/> (the baseline): a
/// batch of 64 empty work items shared by 1 or 8 submitter threads, each waiting for its own items (throughput), and one
/// item submitted and waited for (latency).
/// </summary>
/// <remarks>
/// Goal: within 1.5× of <c>Task.Run</c> from 1 and 8 submitters. The submitters are threads of their own, started once,
/// so that neither the baseline nor the pool shares its workers with them. The pool has CPython's default size
/// (min(32, cores + 4)).
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class PoolBenchmarks
{
    private const int Batch = 64;
    private static readonly Action s_empty = static () => { };

    private DaemonThreadPool _pool = null!;
    private Thread[] _submitters = [];
    private Barrier _start = null!;
    private Barrier _done = null!;
    private volatile Func<Action, Task>? _submit;
    private volatile bool _stop;

    /// <summary>Gets or sets how many threads share the batch (throughput) — latency always uses one.</summary>
    [Params(1, 8)]
    public int Submitters { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _pool = new DaemonThreadPool(isDaemon: true);
        _start = new Barrier(Submitters + 1);
        _done = new Barrier(Submitters + 1);
        _submitters = new Thread[Submitters];
        for (int i = 0; i < Submitters; i++)
        {
            _submitters[i] = new Thread(SubmitterLoop) { IsBackground = true, Name = "submitter " + i };
            _submitters[i].Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop = true;
        _start.SignalAndWait();
        foreach (Thread submitter in _submitters)
        {
            submitter.Join();
        }

        _pool.Shutdown(wait: true);
        _start.Dispose();
        _done.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch, Description = "Task.Run + wait, batch")]
    [BenchmarkCategory("Throughput")]
    public void TaskRunBatch() => RunBatch(static work => Task.Run(work));

    [Benchmark(OperationsPerInvoke = Batch, Description = "DaemonThreadPool.Submit + wait, batch")]
    [BenchmarkCategory("Throughput")]
    public void PoolSubmitBatch() => RunBatch(_pool.Submit);

    [Benchmark(Baseline = true, Description = "Task.Run + wait, one")]
    [BenchmarkCategory("Latency")]
    public void TaskRunOne() => Task.Run(s_empty).Wait();

    [Benchmark(Description = "DaemonThreadPool.Submit + wait, one")]
    [BenchmarkCategory("Latency")]
    public void PoolSubmitOne() => _pool.Submit(s_empty).Wait();

    private void RunBatch(Func<Action, Task> submit)
    {
        _submit = submit;
        _start.SignalAndWait(); // every submitter begins its share
        _done.SignalAndWait();  // every submitter has seen its items complete
    }

    private void SubmitterLoop()
    {
        int share = Batch / Submitters;
        var tasks = new Task[share];
        while (true)
        {
            _start.SignalAndWait();
            if (_stop)
            {
                return;
            }

            Func<Action, Task> submit = _submit!;
            for (int i = 0; i < share; i++)
            {
                tasks[i] = submit(s_empty);
            }

            Task.WaitAll(tasks);
            _done.SignalAndWait();
        }
    }
}
