// DaemonThreads in a worker service: a non-daemon writer that finishes its records when the host stops, and a daemon
// heartbeat that is dropped (and logged as such).
// Run: dotnet run --project samples/WorkerService, then press Ctrl+C (or send SIGTERM).
using DaemonThreads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);

// First, so that it stops last. The exit sequence's join timeout is the host's ShutdownTimeout (10 s here).
builder.Services.AddDaemonThreads();
builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(10));
builder.Services.AddHostedService<RecordWriter>();
builder.Build().Run();

/// <summary>Starts the two threads when the host starts; the exit sequence, not this service, decides when they end.</summary>
internal sealed class RecordWriter : IHostedService
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "daemonthreads-worker.txt");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Non-daemon: the process does not end before the batch in progress is on disk.
        var writer = new DaemonThread(() =>
        {
            using StreamWriter file = File.CreateText(_path);
            int record = 0;
            while (!ExitRegistry.ShuttingDown.IsCancellationRequested)
            {
                file.WriteLine($"record {++record}");
                // The wait paces the work and ends early when the host begins to stop.
                ExitRegistry.ShuttingDown.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(500));
            }

            file.WriteLine($"end of batch after {record} records");
            file.Flush();
            Console.WriteLine($"writer: {record} records flushed to {_path}");
        }, name: "writer", isDaemon: false);

        // Daemon: it would beat for ever; the host's stop drops it (log event 7 names it).
        var heartbeat = new DaemonThread(() =>
        {
            for (int beat = 1; ; beat++)
            {
                Console.WriteLine($"heartbeat: beat {beat}");
                Thread.Sleep(1000); // stands for real work; a daemon thread is never waited for
            }
        }, name: "heartbeat", isDaemon: true);

        writer.Start();
        heartbeat.Start();
        Console.WriteLine("worker started; press Ctrl+C to stop");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
