// DaemonThreads quickstart: a non-daemon worker that must finish, a daemon heartbeat that is dropped.
// Run: dotnet run --project samples/Quickstart
//      dotnet run --project samples/Quickstart -- env-exit   (Environment.Exit(3) from main while a non-daemon worker runs)
using DaemonThreads;

if (args is ["env-exit"])
{
    EnvironmentExitWithWorkerRunning();
}

int exitCode = ExitRegistry.RunMain(() =>
{
    string path = Path.Combine(Path.GetTempPath(), "daemonthreads-quickstart.txt");
    File.Delete(path);
    using var firstBeat = new ManualResetEventSlim();

    // Non-daemon: the process will not exit before it has written every record.
    var writer = new DaemonThread(() =>
    {
        using StreamWriter file = File.CreateText(path);
        for (int i = 1; i <= 5; i++)
        {
            file.WriteLine($"record {i}");
            file.Flush();
            Console.WriteLine($"writer: record {i} written");
            Thread.Sleep(100); // stands for real work; the exit does not wait on a clock, it joins the thread
        }
    }, name: "writer", isDaemon: false);

    // Daemon: it would beat for ever; the process drops it at exit and says so.
    var heartbeat = new DaemonThread(() =>
    {
        for (int beat = 1; ; beat++)
        {
            Console.WriteLine($"heartbeat: beat {beat}");
            firstBeat.Set();
            Thread.Sleep(150);
        }
    }, name: "heartbeat", isDaemon: true);

    ExitRegistry.RegisterAtExit(() =>
    {
        int records = File.ReadAllLines(path).Length;
        Console.WriteLine($"at exit: {records} of 5 records on disk; heartbeat alive = {heartbeat.IsAlive}");
    });

    writer.Start();
    heartbeat.Start();
    firstBeat.Wait();
    foreach (DaemonThread t in DaemonThread.Enumerate())
    {
        Console.WriteLine($"live: {t}");
    }

    Console.WriteLine("main: end of Main; the writer is still working");
    return 0;
});

// RunMain has joined the writer, run the at-exit hook and abandoned the heartbeat; calling Shutdown() again
// returns the report of that one sequence.
ShutdownReport report = ExitRegistry.Shutdown();
Console.WriteLine($"shutdown report: trigger {report.Trigger}, joined [{Names(report.Joined)}], abandoned [{Names(report.Abandoned)}], " +
    $"timed out [{Names(report.TimedOut)}], hook errors {report.HookErrors.Count}, took {report.Elapsed.TotalMilliseconds:F0} ms");
return exitCode;

static string Names(IReadOnlyList<DaemonThread> threads) => string.Join(", ", threads.Select(t => t.Name));

// Environment.Exit from main while a non-daemon worker still runs: the exit sequence (from the ProcessExit handler)
// joins the worker before the at-exit hook runs, and the process exits with the code given. Does not return.
static void EnvironmentExitWithWorkerRunning()
{
    var worker = new DaemonThread(() =>
    {
        // Deliberately infinite: the exit sequence cancels ShuttingDown first, then joins this thread.
        ExitRegistry.ShuttingDown.WaitHandle.WaitOne();
        Console.WriteLine("worker: finished after Environment.Exit began");
    }, name: "worker", isDaemon: false);
    ExitRegistry.RegisterAtExit(() => Console.WriteLine($"at exit: worker alive = {worker.IsAlive}"));
    worker.Start();

    Console.WriteLine("main: Environment.Exit(3) with the worker still running");
    Environment.Exit(3);
}
