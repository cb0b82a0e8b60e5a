using System.Diagnostics;
using DaemonThreads;

// usage: ExecutorTwin N taskrun|pool — prints us per item as ../executor.py does (same batches, same latency sample).
int n = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 20000;
bool usePool = args.Length > 1 && args[1] == "pool";
using var pool = usePool ? new DaemonThreadPool(isDaemon: true) : null; // CPython's default size, min(32, cores + 4)
Action empty = static () => { };
Func<Task> submit = pool is null ? () => Task.Run(empty) : () => pool.Submit(empty);

double Batch(int total, int submitters)
{
    int share = total / submitters;
    using var go = new Barrier(submitters + 1);
    var threads = new Thread[submitters];
    for (int s = 0; s < submitters; s++)
    {
        threads[s] = new Thread(() =>
        {
            var tasks = new Task[share];
            go.SignalAndWait();
            for (int i = 0; i < share; i++)
            {
                tasks[i] = submit();
            }

            Task.WaitAll(tasks);
        });
        threads[s].Start();
    }

    go.SignalAndWait();
    long start = Stopwatch.GetTimestamp();
    foreach (Thread t in threads)
    {
        t.Join();
    }

    return Stopwatch.GetElapsedTime(start).TotalMicroseconds / (share * submitters);
}

double Latency(int count)
{
    var samples = new double[count];
    for (int i = 0; i < count; i++)
    {
        long start = Stopwatch.GetTimestamp();
        submit().Wait();
        samples[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    Array.Sort(samples);
    return samples[count / 2];
}

Batch(n / 10, 1);
Batch(n / 10, 8);
Latency(n / 100);
Thread.Sleep(200); // background tiering lands (reference/peer-benchmarks.md)
double t1 = Batch(n, 1), t8 = Batch(n, 8), lat = Latency(n / 10);
Console.WriteLine(FormattableString.Invariant($"executor dotnet-{(usePool ? "pool" : "taskrun")} tput1_us={t1:F2} tput8_us={t8:F2} latency_us={lat:F2}"));
