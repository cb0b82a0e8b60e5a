using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace DaemonThreads.Benchmarks;

/// <summary>
/// Cheap members against their raw counterparts, one category each: <c>IsAlive</c> of a live thread,
/// <c>Join()</c> of a finished thread, and registering plus unregistering an exit hook (raw: subscribing to and
/// unsubscribing from <see cref="AppDomain.ProcessExit"/>).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class MemberBenchmarks
{
    private static readonly Action s_hook = static () => { };
    private static readonly EventHandler s_processExitHandler = static (_, _) => { };

    private readonly ManualResetEventSlim _release = new(false);
    private Thread _rawLive = null!;
    private DaemonThread _daemonLive = null!;
    private Thread _rawFinished = null!;
    private DaemonThread _daemonFinished = null!;

    [GlobalSetup]
    public void Setup()
    {
        _rawLive = new Thread(() => _release.Wait()) { IsBackground = true }; // deliberately infinite until Cleanup
        _rawLive.Start();
        _daemonLive = new DaemonThread(() => _release.Wait(), isDaemon: true); // deliberately infinite until Cleanup
        _daemonLive.Start();

        _rawFinished = new Thread(static () => { });
        _rawFinished.Start();
        _rawFinished.Join();
        _daemonFinished = new DaemonThread(static () => { }, isDaemon: false);
        _daemonFinished.Start();
        _daemonFinished.Join();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _release.Set();
        _rawLive.Join();
        _daemonLive.Join();
    }

    [BenchmarkCategory("IsAlive"), Benchmark(Baseline = true, Description = "Thread.IsAlive")]
    public bool RawIsAlive() => _rawLive.IsAlive;

    [BenchmarkCategory("IsAlive"), Benchmark(Description = "DaemonThread.IsAlive")]
    public bool DaemonIsAlive() => _daemonLive.IsAlive;

    [BenchmarkCategory("JoinFinished"), Benchmark(Baseline = true, Description = "Thread.Join() (finished)")]
    public void RawJoinFinished() => _rawFinished.Join();

    [BenchmarkCategory("JoinFinished"), Benchmark(Description = "DaemonThread.Join() (finished)")]
    public void DaemonJoinFinished() => _daemonFinished.Join();

    [BenchmarkCategory("ExitHook"), Benchmark(Baseline = true, Description = "ProcessExit += / -=")]
    public void RawProcessExitHook()
    {
        AppDomain.CurrentDomain.ProcessExit += s_processExitHandler;
        AppDomain.CurrentDomain.ProcessExit -= s_processExitHandler;
    }

    [BenchmarkCategory("ExitHook"), Benchmark(Description = "RegisterAtExit + UnregisterAtExit")]
    public bool RegisterHook()
    {
        ExitRegistry.RegisterAtExit(s_hook);
        return ExitRegistry.UnregisterAtExit(s_hook);
    }
}
