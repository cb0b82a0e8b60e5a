using System.Diagnostics;
using System.Globalization;
using DaemonThreads;

// Whole-process benchmarks: each mode is one process run, timed from outside (hyperfine, GNU time) or, for
// nondaemon-measure, by this program spawning itself. "raw" uses System.Threading.Thread, "dt" DaemonThread.
// Timestamps are Stopwatch ticks, which on Linux are CLOCK_MONOTONIC nanoseconds, comparable across processes.

string mode = args.Length > 0 ? args[0] : "help";
string kind = args.Length > 1 ? args[^1] : "raw";
switch (mode)
{
    case "startjoin":
        return StartJoin(Int(args, 1, 20_000), kind);
    case "daemon-exit":
        if (kind == "dt")
        {
            // Initialise the library even for K=0, so that K=0 measures what using it at all costs a process.
            _ = ExitRegistry.JoinTimeout;
        }

        StartBlocked(Int(args, 1, 10_000), kind);
        if (Environment.GetEnvironmentVariable("EXITHARNESS_GC") == "1")
        {
            // Where the time goes with thousands of live threads: every collection stops and scans all of them.
            Console.Error.WriteLine($"gc0 {GC.CollectionCount(0)} gc1 {GC.CollectionCount(1)} gc2 {GC.CollectionCount(2)} allocated {GC.GetTotalAllocatedBytes()} pause {GC.GetTotalPauseDuration().TotalMilliseconds:F1} ms");
        }

        return 0; // main returns with every thread blocked: the runtime abandons them
    case "nondaemon-exit":
        NonDaemonExit(Int(args, 1, 100), Int(args, 2, 200), kind);
        return 0; // main returns at once: the process ends with its slowest non-daemon thread
    case "startjoin-interleaved":
        return args.Length > 3 && args[3] == "floor"
            ? StartJoinWithFloor(Int(args, 1, 300), Int(args, 2, 50))
            : StartJoinInterleaved(Int(args, 1, 300), Int(args, 2, 50));
    case "concurrent":
        return Concurrent(Int(args, 1, 8), Int(args, 2, 200));
    case "nondaemon-measure":
        return NonDaemonMeasure(Int(args, 1, 15), Int(args, 2, 100), Int(args, 3, 200), kind);
    case "idle":
        if (kind == "dt")
        {
            // Load and initialise the library even for K=0, so that K=1000 - K=0 is the per-thread cost alone.
            _ = new DaemonThread(static () => { }, isDaemon: true);
        }

        StartBlocked(Int(args, 1, 1000), kind);
        Console.WriteLine(ProcStatus("VmHWM"));
        return 0;
    default:
        Console.Error.WriteLine(
            """
            usage: ExitHarness MODE ARGS raw|dt
              startjoin N raw|dt               median microseconds of N sequential start+join (empty body)
              daemon-exit K raw|dt             start K blocked daemon/background threads, return from main
                                               (EXITHARNESS_GC=1: print collections, allocation and GC pause to stderr)
              nondaemon-exit K MS raw|dt       start K non-daemon threads that sleep MS, return from main at once
              nondaemon-measure RUNS K MS raw|dt  run nondaemon-exit RUNS times; print process end - slowest thread end
              idle K raw|dt                    start K blocked daemon threads, print VmHWM, return
              startjoin-interleaved ROUNDS N    raw and DaemonThread start+join in alternating blocks of N, one process
              startjoin-interleaved ROUNDS N floor  the same with a third block, the floor (see below), order rotated
              concurrent S ROUNDS              64 start+joins per round shared by S starters, raw and dt rounds interleaved
            daemon-exit and idle also take "named": raw threads that name themselves and run under a flowed context
            daemon-exit and idle also take "floor": raw threads that make, before their body, the two system calls SPEC 2.3
            and 2.4 make every DaemonThread make there (Linux: gettid for NativeThreadId, prctl for the OS-visible name)
            """);
        return 2;
}

static int Int(string[] args, int index, int fallback)
    => args.Length > index && int.TryParse(args[index], CultureInfo.InvariantCulture, out int value) ? value : fallback;

static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

// One start+join of an empty thread: the operation every start+join mode times.
static void StartJoinOnce(bool dt) => StartJoinOfKind(dt ? Kind.DaemonThread : Kind.Raw);

static void StartJoinOfKind(Kind kind)
{
    if (kind == Kind.Floor)
    {
        var floor = new Thread(s_floorStart);
        floor.Start();
        floor.Join();
        return;
    }

    bool dt = kind == Kind.DaemonThread;
    if (dt)
    {
        var t = new DaemonThread(s_empty, isDaemon: false);
        t.Start();
        t.Join();
    }
    else
    {
        var t = new Thread(s_emptyStart);
        t.Start();
        t.Join();
    }
}

static int StartJoin(int n, string kind)
{
    bool dt = kind == "dt";
    void Once() => StartJoinOnce(dt);

    // Warm up with a tenth of the work, then let background tier-1 compiles land (peer-benchmarks.md, measure 3).
    for (int i = 0; i < Math.Max(1, n / 10); i++)
    {
        Once();
    }

    Thread.Sleep(200);
    var samples = new double[n];
    long total = Stopwatch.GetTimestamp();
    for (int i = 0; i < n; i++)
    {
        long start = Stopwatch.GetTimestamp();
        Once();
        samples[i] = Ms(Stopwatch.GetTimestamp() - start) * 1000.0;
    }

    total = Stopwatch.GetTimestamp() - total;
    Array.Sort(samples);
    Console.WriteLine(FormattableString.Invariant(
        $"startjoin {kind} n={n} median_us={samples[n / 2]:F1} p10_us={samples[n / 10]:F1} p90_us={samples[n * 9 / 10]:F1} mean_us={Ms(total) * 1000.0 / n:F1}"));
    return 0;
}

// One block of the interleaved modes: N start+joins of one kind in a row, in microseconds per start+join.
static double BlockMicroseconds(Kind kind, int n)
{
    long start = Stopwatch.GetTimestamp();
    for (int i = 0; i < n; i++)
    {
        StartJoinOfKind(kind);
    }

    return Ms(Stopwatch.GetTimestamp() - start) * 1000.0 / n;
}

// Sequential start+join on the main thread, raw and DaemonThread in alternating blocks of N in one process (the way a
// harness outside the repo compares them side by side); prints the median and the mean with a 95% interval of the
// per-pair ratios, and the ratio of the totals.
static int StartJoinInterleaved(int rounds, int n)
{
    double Block(bool dt) => BlockMicroseconds(dt ? Kind.DaemonThread : Kind.Raw, n);

    for (int i = 0; i < 10; i++)
    {
        Block(false);
        Block(true);
    }

    var ratios = new double[rounds];
    double rawTotal = 0, dtTotal = 0;
    for (int r = 0; r < rounds; r++)
    {
        double raw, dt;
        if (r % 2 == 0)
        {
            raw = Block(false);
            dt = Block(true);
        }
        else
        {
            dt = Block(true);
            raw = Block(false);
        }

        ratios[r] = dt / raw;
        rawTotal += raw;
        dtTotal += dt;
    }

    double mean = ratios.Average();
    double halfWidth = 1.96 * Math.Sqrt(ratios.Sum(x => (x - mean) * (x - mean)) / (rounds - 1) / rounds);
    Array.Sort(ratios);
    Console.WriteLine(FormattableString.Invariant(
        $"startjoin-interleaved rounds={rounds}x{n} raw_us={rawTotal / rounds:F1} dt_us={dtTotal / rounds:F1} ratio median={ratios[rounds / 2]:F3} mean={mean:F3}+-{halfWidth:F3} of-totals={dtTotal / rawTotal:F3}"));
    return 0;
}

// The same as StartJoinInterleaved with a third block per round, the floor: raw threads that make the two system calls
// every DaemonThread makes before its body (Floor). The order of the three blocks rotates every round. Prints the median
// of the per-round ratios dt/raw, floor/raw and dt/floor: what SPEC 2.3 and 2.4 cost a raw thread, and what the library
// adds on top of that.
static int StartJoinWithFloor(int rounds, int n)
{
    double Block(Kind kind) => BlockMicroseconds(kind, n);

    Kind[] kinds = [Kind.Raw, Kind.Floor, Kind.DaemonThread];
    for (int i = 0; i < 10; i++)
    {
        foreach (Kind kind in kinds)
        {
            Block(kind);
        }
    }

    var dtRaw = new double[rounds];
    var floorRaw = new double[rounds];
    var dtFloor = new double[rounds];
    var sums = new double[3];
    var times = new double[3];
    for (int r = 0; r < rounds; r++)
    {
        for (int k = 0; k < 3; k++)
        {
            int which = (r + k) % 3;
            times[which] = Block(kinds[which]);
            sums[which] += times[which];
        }

        dtRaw[r] = times[2] / times[0];
        floorRaw[r] = times[1] / times[0];
        dtFloor[r] = times[2] / times[1];
    }

    static double Median(double[] values)
    {
        Array.Sort(values);
        return values[values.Length / 2];
    }

    Console.WriteLine(FormattableString.Invariant(
        $"startjoin-interleaved rounds={rounds}x{n} raw_us={sums[0] / rounds:F1} floor_us={sums[1] / rounds:F1} dt_us={sums[2] / rounds:F1} median dt/raw={Median(dtRaw):F3} floor/raw={Median(floorRaw):F3} dt/floor={Median(dtFloor):F3}"));
    return 0;
}

// 64 start+joins of empty threads shared by S persistent starter threads per round (as ConcurrentStartJoinBenchmarks),
// raw and DaemonThread rounds interleaved in one process so that drift hits both alike; prints the median per-op time
// of each and the median of the per-pair ratios. BenchmarkDotNet runs the two cases one after the other instead.
static int Concurrent(int starters, int rounds)
{
    const int Total = 64;
    int perStarter = Total / starters;
    using var barrier = new Barrier(starters + 1);
    bool useDaemonThread = false;
    for (int s = 0; s < starters; s++)
    {
        new Thread(() =>
        {
            while (true)
            {
                barrier.SignalAndWait(); // deliberately infinite: the process ends with these background starters parked
                bool dt = Volatile.Read(ref useDaemonThread);
                for (int i = 0; i < perStarter; i++)
                {
                    StartJoinOnce(dt);
                }

                barrier.SignalAndWait();
            }
        })
        { IsBackground = true }.Start();
    }

    double Round(bool dt)
    {
        Volatile.Write(ref useDaemonThread, dt);
        long start = Stopwatch.GetTimestamp();
        barrier.SignalAndWait();
        barrier.SignalAndWait();
        return Ms(Stopwatch.GetTimestamp() - start) * 1000.0 / Total;
    }

    for (int i = 0; i < Math.Max(5, rounds / 10); i++)
    {
        Round(false);
        Round(true);
    }

    var raw = new double[rounds];
    var dt = new double[rounds];
    var ratios = new double[rounds];
    for (int r = 0; r < rounds; r++)
    {
        // Alternate which goes first, so that neither always runs right after the other's garbage or wake-ups.
        if (r % 2 == 0)
        {
            raw[r] = Round(false);
            dt[r] = Round(true);
        }
        else
        {
            dt[r] = Round(true);
            raw[r] = Round(false);
        }

        ratios[r] = dt[r] / raw[r];
    }

    Array.Sort(raw);
    Array.Sort(dt);
    Array.Sort(ratios);
    Console.WriteLine(FormattableString.Invariant(
        $"concurrent starters={starters} rounds={rounds} raw_us_per_op median={raw[rounds / 2]:F1} dt_us_per_op median={dt[rounds / 2]:F1} time_ratio median={ratios[rounds / 2]:F3} p25={ratios[rounds / 4]:F3} p75={ratios[rounds * 3 / 4]:F3} throughput_ratio={1 / ratios[rounds / 2]:F3}"));
    return 0;
}

static void StartBlocked(int k, string kind)
{
    var release = new ManualResetEventSlim(false);
    using var running = new CountdownEvent(Math.Max(k, 1));
    if (k == 0)
    {
        running.Signal();
    }

    // Compared once: a string comparison in the loop is hot code of its own, which tier-up compiled only for the kinds
    // whose name matched ("dt", "floor"; String.Equals into SpanHelpers.SequenceEqual, IL 591, twice).
    int which = kind switch { "dt" => 1, "floor" => 2, "named" => 3, _ => 0 };
    for (int i = 0; i < k; i++)
    {
        if (which == 1)
        {
            new DaemonThread(
                () =>
                {
                    running.Signal();
                    release.Wait(); // deliberately infinite: abandoned at exit
                },
                isDaemon: true).Start();
        }
        else if (which == 2)
        {
            new Thread(
                () =>
                {
                    Floor.Prologue();
                    running.Signal();
                    release.Wait(); // deliberately infinite: abandoned at exit
                })
            { IsBackground = true }.Start();
        }
        else if (which == 3)
        {
            // A raw Thread that pays for what DaemonThread gives each thread: it names itself (Thread.Name, which the
            // runtime passes to the OS) and runs under a flowed ExecutionContext (DaemonThread's owner, here any
            // AsyncLocal). Separates the cost of those features from the library's own.
            string name = "Thread-" + (i + 1).ToString(CultureInfo.InvariantCulture) + " (<lambda>)";
            s_flowed.Value = name;
            new Thread(
                () =>
                {
                    Thread.CurrentThread.Name = name;
                    running.Signal();
                    release.Wait(); // deliberately infinite: abandoned at exit
                })
            { IsBackground = true }.Start();
            s_flowed.Value = null;
        }
        else
        {
            new Thread(
                () =>
                {
                    running.Signal();
                    release.Wait(); // deliberately infinite: abandoned at exit
                })
            { IsBackground = true }.Start();
        }
    }

    running.Wait(); // deliberately infinite: each thread signals first thing
}

static void NonDaemonExit(int k, int sleepMs, string kind)
{
    long slowestEnd = 0;
    void Body()
    {
        Thread.Sleep(sleepMs);
        long now = Stopwatch.GetTimestamp();
        long seen = Volatile.Read(ref slowestEnd);
        while (now > seen)
        {
            long prior = Interlocked.CompareExchange(ref slowestEnd, now, seen);
            if (prior == seen)
            {
                break;
            }

            seen = prior;
        }
    }

    bool dt = kind == "dt"; // compared once, as in StartBlocked
    for (int i = 0; i < k; i++)
    {
        if (dt)
        {
            new DaemonThread(Body, isDaemon: false).Start();
        }
        else
        {
            new Thread(Body) { IsBackground = false }.Start();
        }
    }

    if (dt && Environment.GetEnvironmentVariable("HARNESS_SEQUENCE_TIME") == "1")
    {
        // Diagnosis only: how long the library's exit sequence itself took (it prints nothing here either way).
        long exitStart = 0;
        ExitRegistry.RegisterBeforeJoin(() => exitStart = Stopwatch.GetTimestamp());
        ExitRegistry.ReportHandler = report => Console.Out.Write(FormattableString.Invariant(
            $"sequence elapsed_ms={report.Elapsed.TotalMilliseconds:F2} before-join-hook-after-slowest_ms={Ms(exitStart - Volatile.Read(ref slowestEnd)):F2} report-after-slowest_ms={Ms(Stopwatch.GetTimestamp() - Volatile.Read(ref slowestEnd)):F2}\n"));
    }

    // Subscribed after the library's own handler, so it runs after the DaemonThreads exit sequence.
    AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        long handler = Stopwatch.GetTimestamp();
        Console.Out.Write(FormattableString.Invariant($"slowest-end {Volatile.Read(ref slowestEnd)} handler {handler}\n"));
    };
}

static int NonDaemonMeasure(int runs, int k, int sleepMs, string kind)
{
    string host = Environment.ProcessPath!;
    string dll = typeof(DaemonThread).Assembly.Location.Replace("DaemonThreads.dll", "DaemonThreads.ExitHarness.dll", StringComparison.Ordinal);
    bool viaDotnet = Path.GetFileNameWithoutExtension(host) == "dotnet";
    var overheads = new List<double>();
    var inProcess = new List<double>();
    var walls = new List<double>();
    for (int run = 0; run < runs + 2; run++)
    {
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, UseShellExecute = false };
        if (viaDotnet)
        {
            psi.ArgumentList.Add(dll);
        }

        foreach (string a in new[] { "nondaemon-exit", k.ToString(CultureInfo.InvariantCulture), sleepMs.ToString(CultureInfo.InvariantCulture), kind })
        {
            psi.ArgumentList.Add(a);
        }

        long spawned = Stopwatch.GetTimestamp();
        using Process child = Process.Start(psi)!;
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        long reaped = Stopwatch.GetTimestamp();
        string? line = output.Split('\n').FirstOrDefault(l => l.StartsWith("slowest-end ", StringComparison.Ordinal));
        if (line is null || child.ExitCode != 0)
        {
            Console.Error.WriteLine($"child failed: exit {child.ExitCode}, output: {output}");
            return 1;
        }

        if (run < 2)
        {
            continue; // warm-up runs: page cache, tiered code of this parent
        }

        string[] fields = line.Split(' ');
        long slowest = long.Parse(fields[1], CultureInfo.InvariantCulture);
        long handler = long.Parse(fields[3], CultureInfo.InvariantCulture);
        overheads.Add(Ms(reaped - slowest));
        inProcess.Add(Ms(handler - slowest));
        walls.Add(Ms(reaped - spawned));
    }

    overheads.Sort();
    inProcess.Sort();
    walls.Sort();
    Console.WriteLine(FormattableString.Invariant(
        $"nondaemon-exit {kind} k={k} sleep={sleepMs}ms runs={runs} end-after-slowest_ms median={overheads[runs / 2]:F2} min={overheads[0]:F2} max={overheads[^1]:F2} exit-handler-after-slowest_ms median={inProcess[runs / 2]:F2} min={inProcess[0]:F2} max={inProcess[^1]:F2} wall_ms median={walls[runs / 2]:F1}"));
    return 0;
}

static string ProcStatus(string key)
{
    string? line = File.Exists("/proc/self/status")
        ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal))
        : null;
    return line is null ? key + ": n/a" : string.Join(' ', line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}

/// <summary>State of the harness shared by its local functions.</summary>
internal static partial class Program
{
    private static readonly AsyncLocal<string?> s_flowed = new();
    private static readonly Action s_empty = static () => { };
    private static readonly ThreadStart s_emptyStart = static () => { };
    private static readonly ThreadStart s_floorStart = static () => Floor.Prologue();

    private enum Kind
    {
        Raw,
        Floor,
        DaemonThread,
    }
}

/// <summary>
/// What SPEC 2.3 and 2.4 make every DaemonThread do on its new thread before its body, done on a raw Thread: read its OS
/// thread id (NativeThreadId) and give the OS its name (the first 15 bytes, as UTF-8). The same two system calls, through
/// the same kind of import, that the library makes (src/DaemonThreads/Internal/NativeThread.cs). Anything the library does
/// beyond this is its own cost; this is the floor of the two requirements (benchmarks/README.md, "Wave 11").
/// </summary>
internal static unsafe partial class Floor
{
    private const string Name = "Thread-1 (<lambda>)";

    internal static void Prologue()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        _ = gettid();
        byte* buffer = stackalloc byte[16];
        fixed (char* chars = Name)
        {
            System.Text.Unicode.Utf8.FromUtf16(new ReadOnlySpan<char>(chars, Name.Length), new Span<byte>(buffer, 15), out _, out int written, replaceInvalidSequences: true, isFinalBlock: true);
            buffer[written] = 0;
        }

        _ = prctl(PrSetName, (nint)buffer, 0, 0, 0);
    }

    private const int PrSetName = 15;

    [System.Runtime.InteropServices.LibraryImport("libc.so.6", EntryPoint = "gettid")]
    [System.Runtime.InteropServices.SuppressGCTransition]
    private static partial int gettid();

    [System.Runtime.InteropServices.LibraryImport("libc.so.6", EntryPoint = "prctl")]
    [System.Runtime.InteropServices.SuppressGCTransition]
    private static partial int prctl(int option, nint arg2, nint arg3, nint arg4, nint arg5);
}
