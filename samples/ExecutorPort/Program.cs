// DaemonThreads ExecutorPort: executor_port.py (beside this file), a concurrent.futures.ThreadPoolExecutor program,
// ported line for line to DaemonThreadPool.
// Run: dotnet run --project samples/ExecutorPort
using DaemonThreads;

ExitRegistry.RegisterAtExit(() => Console.WriteLine("at exit: every queued fetch has run"));   // atexit.register(...)
var pool = new DaemonThreadPool(maxWorkers: 2, threadNamePrefix: "fetch");                     // ThreadPoolExecutor(max_workers=2, thread_name_prefix="fetch")
IEnumerable<int> sizes = pool.Map(Fetch, Enumerable.Range(0, 3));                               // pool.map(fetch, range(3))
Console.WriteLine("sizes: " + string.Join(", ", sizes));
foreach (int n in Enumerable.Range(3, 3))
{
    _ = pool.Submit(() => Fetch(n));                                                            // pool.submit(fetch, n): not waited for here
}

Console.WriteLine("main: done, three fetches still queued");

// Main returns without RunMain and without Shutdown: the pool's workers are non-daemon (the main program made the
// pool), so the exit runs the three queued fetches and then the at-exit hook, as the Python interpreter does. An idle
// worker does not keep the process alive.
return 0;

static int Fetch(int n)
{
    Thread.Sleep(200); // stands for the network
    Console.WriteLine($"fetched page {n} on {DaemonThread.Current.Name}");
    return n * 100;
}
