using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace DaemonThreads.Benchmarks;

/// <summary>Where the lookups run.</summary>
public enum LookupContext
{
    /// <summary>The benchmark's own thread (the process's main thread).</summary>
    MainThread,

    /// <summary>A started <see cref="DaemonThreads.DaemonThread"/>.</summary>
    DaemonThread,

    /// <summary>A thread-pool thread with no owning <see cref="DaemonThreads.DaemonThread"/>.</summary>
    PoolThread,
}

/// <summary><see cref="DaemonThread.Current"/> against <see cref="Thread.CurrentThread"/>, per call.</summary>
/// <remarks>
/// Each invocation runs <see cref="Calls"/> lookups on the chosen thread. Every lookup goes through a non-inlined
/// call, so the JIT cannot hoist the thread-static read out of the loop (it does for an inlined loop: see
/// peer-benchmarks.md, measure 3); the call costs the same in both rows. The hand-off to a DaemonThread or a pool
/// thread costs a few microseconds per invocation, under 1% of the 2^20 calls.
/// Goals: no allocation; within 2 ns of <see cref="Thread.CurrentThread"/>.
/// </remarks>
[MemoryDiagnoser]
public class CurrentBenchmarks
{
    private const int Calls = 1 << 20;

    private readonly AutoResetEvent _go = new(false);
    private readonly AutoResetEvent _done = new(false);
    private DaemonThread? _worker;
    private volatile bool _stop;
    private volatile bool _daemonLookup;
    private object? _sink;

    /// <summary>Gets or sets the thread the lookups run on.</summary>
    [Params(LookupContext.MainThread, LookupContext.DaemonThread, LookupContext.PoolThread)]
    public LookupContext Context { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Context == LookupContext.DaemonThread)
        {
            _worker = new DaemonThread(WorkerLoop, "current-bench", isDaemon: true);
            _worker.Start();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_worker is not null)
        {
            _stop = true;
            _go.Set();
            _worker.Join();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls, Description = "Thread.CurrentThread")]
    public object? RawCurrentThread() => Run(daemonLookup: false);

    [Benchmark(OperationsPerInvoke = Calls, Description = "DaemonThread.Current")]
    public object? DaemonThreadCurrent() => Run(daemonLookup: true);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Thread RawLookup() => Thread.CurrentThread;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static DaemonThread DaemonLookup() => DaemonThread.Current;

    private static object Loop(bool daemonLookup)
    {
        object last = null!;
        if (daemonLookup)
        {
            for (int i = 0; i < Calls; i++)
            {
                last = DaemonLookup();
            }
        }
        else
        {
            for (int i = 0; i < Calls; i++)
            {
                last = RawLookup();
            }
        }

        return last;
    }

    private object? Run(bool daemonLookup)
    {
        switch (Context)
        {
            case LookupContext.MainThread:
                return Loop(daemonLookup);
            case LookupContext.DaemonThread:
                _daemonLookup = daemonLookup;
                _go.Set();
                _done.WaitOne(); // deliberately infinite: the worker answers every round
                return _sink;
            default:
                ThreadPool.QueueUserWorkItem(
                    static state =>
                    {
                        var (self, daemon) = state;
                        self._sink = Loop(daemon);
                        self._done.Set();
                    },
                    (this, daemonLookup),
                    preferLocal: false);
                _done.WaitOne(); // deliberately infinite: the work item always signals
                return _sink;
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _go.WaitOne(); // deliberately infinite: Cleanup sets _stop and signals
            if (_stop)
            {
                return;
            }

            _sink = Loop(_daemonLookup);
            _done.Set();
        }
    }
}
