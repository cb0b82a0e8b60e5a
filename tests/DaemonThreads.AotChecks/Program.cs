using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using DaemonThreads;

// Facts the library gets from the runtime without a P/Invoke or reflection under NativeAOT (benchmarks/README.md, "Wave
// 5"): each thread's native id and OS-visible name, the generated name of a method-group target, a hook's name in the
// exit's messages and the meter's version. Prints "ok: FACT" or "FAIL: FACT (detail)" per fact; exits with 1 if any
// failed. .ci/aot-check runs it native and under the JIT, and checks the failing hook's message on standard error.
// Linux only: the OS's view of a thread is read from /proc/thread-self.

if (args is ["no-start"])
{
    return NoStart.Run(); // a process that never starts a DaemonThread: its own facts
}

if (args is ["no-start-exit"])
{
    // The same, with a listener that calls Exit while the exit creates the meter.
    return NoStart.RunWithCallback("Exit(5)", () => ExitRegistry.Exit(5));
}

if (args is ["no-start-block"])
{
    // The same, with a callback that never returns (deliberately infinite): JoinTimeout bounds it.
    return NoStart.RunWithCallback("stuck", () => new ManualResetEventSlim().Wait(), TimeSpan.FromMilliseconds(300));
}

// A listener made before the library is touched: the meter must still reach it. Under NativeAOT it is created by the
// end of the first Start, on the starting thread; under the JIT on a background thread once DiagnosticSource is loaded.
// Its callback starts and joins a DaemonThread, as a listener may: that Start comes back into the meter's creation.
using var published = new ManualResetEventSlim();
string? meterVersion = null;
var meters = new HashSet<Meter>();
int instruments = 0;
string? callbackStart = null;
using var listener = new MeterListener
{
    InstrumentPublished = (instrument, _) =>
    {
        if (instrument.Meter.Name == "DaemonThreads")
        {
            if (Interlocked.Increment(ref instruments) == 1)
            {
                try
                {
                    var inCallback = new DaemonThread(() => { }, name: "started-by-the-listener");
                    inCallback.Start();
                    inCallback.Join();
                    callbackStart = "joined";
                }
                catch (Exception e)
                {
                    callbackStart = e.GetType().Name + ": " + e.Message;
                }
            }

            lock (meters)
            {
                meters.Add(instrument.Meter);
            }

            meterVersion = instrument.Meter.Version;
            if (instruments == 6)
            {
                published.Set();
            }
        }
    },
};
listener.Start();

// The exit sequence's spans: printed after RunMain as "spans: NAME, ..." (empty when none), which .ci/aot-check compares
// with what the build asked for (none in a NativeAOT build unless DaemonThreadsTracingSupport is true).
var spans = new List<string>();
using var activityListener = new ActivityListener
{
    ShouldListenTo = source => source.Name == "DaemonThreads",
    Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    ActivityStopped = activity =>
    {
        lock (spans)
        {
            spans.Add(activity.OperationName);
        }
    },
};
ActivitySource.AddActivityListener(activityListener);

int exitCode = ExitRegistry.RunMain(() =>
{
    int failures = 0;
    void Check(bool ok, string fact, string detail)
    {
        Console.Out.Write((ok ? "ok: " : "FAIL: ") + fact + (ok ? "" : " (" + detail + ")") + "\n");
        failures += ok ? 0 : 1;
    }

    ExitRegistry.RegisterAtExit(Hooks.Fail); // its name in the exit's message is checked by .ci/aot-check

    DaemonThread main = DaemonThread.Current;
    Check(main.NativeThreadId == Environment.ProcessId, "the main thread's native id is the process id", $"{main.NativeThreadId} vs {Environment.ProcessId}");
    Check(main.NativeThreadId == OsView.ThreadId(), "the main thread's native id is its OS thread id", $"{main.NativeThreadId} vs {OsView.ThreadId()}");

    // The first starts of a process take the cold path, later ones the warm path (DaemonThread.Start): 12 covers both.
    for (int i = 0; i < 12; i++)
    {
        var thread = new DaemonThread(Worker.Run);
        thread.Start();
        if (i == 0 && !RuntimeFeature.IsDynamicCodeSupported)
        {
            Check(published.IsSet, "NativeAOT: the first Start has published the meter to a listener made first", $"{instruments} instrument(s) when Start returned");
        }

        thread.Join();
        (long osId, string comm) = Worker.Seen[thread];
        Check(thread.NativeThreadId == osId, $"start {i + 1}: the native id is the OS thread id", $"{thread.NativeThreadId} vs {osId}");
        Check(comm == OsView.Truncated(thread.Name), $"start {i + 1}: the OS-visible name is the name", $"'{comm}' for '{thread.Name}'");
        Check(thread.Name.StartsWith("Thread-", StringComparison.Ordinal) && thread.Name.EndsWith(" (Run)", StringComparison.Ordinal), $"start {i + 1}: a method group's generated name", thread.Name);
    }

    var named = new DaemonThread(Worker.Run, name: "a-name-longer-than-fifteen-bytes");
    named.Start();
    named.Join();
    Check(Worker.Seen[named].Comm == "a-name-longer-t", "a long name is cut to 15 bytes for the OS", Worker.Seen[named].Comm);

    // The delegate shapes NativeAOT stores differently: a generic method (a fat pointer to its descriptor), an instance
    // method of a class, of a struct (an unboxing stub), and a multicast delegate (the last target, as Delegate.Method).
    var generic = new DaemonThread(Targets.Generic<int>);
    Check(generic.Name.EndsWith(" (Generic)", StringComparison.Ordinal), "a generic method's generated name", generic.Name);
    var instance = new DaemonThread(new Targets().Instance);
    Check(instance.Name.EndsWith(" (Instance)", StringComparison.Ordinal), "an instance method's generated name", instance.Name);
    var onStruct = new DaemonThread(new StructTarget(1).OnStruct);
    Check(onStruct.Name.EndsWith(" (OnStruct)", StringComparison.Ordinal), "a struct method's generated name", onStruct.Name);
    Action multicast = Targets.Generic<int>;
    multicast += Worker.Run;
    var both = new DaemonThread(multicast);
    Check(both.Name.EndsWith(" (Run)", StringComparison.Ordinal), "a multicast delegate's generated name, from its last target", both.Name);

    var local = new DaemonThread(LocalWork);
    Check(local.Name.EndsWith(" (LocalWork)", StringComparison.Ordinal), "a local function's generated name", local.Name);
    Action stored = () => { };
    var lambda = new DaemonThread(stored);
    Check(lambda.Name.EndsWith(" (<lambda>)", StringComparison.Ordinal), "a lambda's generated name, from the delegate", lambda.Name);

    bool meter = published.Wait(TimeSpan.FromSeconds(20));
    string expected = typeof(ExitRegistry).Assembly.GetName().Version?.ToString() ?? "(none)";
    Check(meter && meterVersion == expected, "the meter reaches a listener made first, with the assembly's version", $"published {meter}, version {meterVersion} vs {expected}");
    Check(callbackStart == "joined", "a listener's callback can start and join a DaemonThread", callbackStart ?? "(not run)");
    int meterCount;
    lock (meters)
    {
        meterCount = meters.Count;
    }

    Check(meterCount == 1 && Volatile.Read(ref instruments) == 6, "one meter with its 6 instruments, also when the callback starts a thread", $"{meterCount} meter(s), {instruments} instrument(s)");

    return failures == 0 ? 0 : 1;

    static void LocalWork()
    {
    }
});

lock (spans)
{
    Console.Out.Write("spans: " + string.Join(", ", spans) + "\n");
}

return exitCode;

/// <summary>A process that never starts a DaemonThread (argument <c>no-start</c>): under NativeAOT the exit's report creates the meter.</summary>
internal static partial class NoStart
{
    internal static int Run()
    {
        string? created = null;
        double? duration = null;
        bool mainReturned = false;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "DaemonThreads")
                {
                    created ??= "instruments published " + (Volatile.Read(ref mainReturned) ? "at exit" : "while main ran");
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) =>
        {
            if (instrument.Name == "daemonthreads.shutdown.duration")
            {
                duration = value;
            }
        });
        listener.Start();
        int failures = 0;
        void Check(bool ok, string fact, string detail)
        {
            Console.Out.Write((ok ? "ok: " : "FAIL: ") + fact + (ok ? "" : " (" + detail + ")") + "\n");
            failures += ok ? 0 : 1;
        }

        ExitRegistry.ReportHandler = report =>
        {
            // The report is published after the meter recorded it.
            Check(created == "instruments published at exit", "no Start: the exit created the meter (not before)", created ?? "(never)");
            Check(duration is double d && d >= 0 && d <= report.Elapsed.TotalSeconds + 1, "no Start: the listener received the shutdown duration", $"{duration} for {report.Elapsed}");
        };
        int code = ExitRegistry.RunMain(() =>
        {
            Volatile.Write(ref mainReturned, true);
            return 0;
        });
        return failures == 0 && code == 0 ? 0 : 1;
    }
}

/// <summary>The exit's report creates the meter (NativeAOT) and the listener's callback misbehaves there.</summary>
internal static partial class NoStart
{
    /// <summary>
    /// Runs a program whose listener prints <c>callback: </c><paramref name="says"/> and calls <paramref name="misbehave"/>
    /// (<see cref="ExitRegistry.Exit(int)"/>, or a wait that never returns) when the exit creates the meter;
    /// <paramref name="joinTimeout"/>, when given, bounds the exit.
    /// </summary>
    internal static int RunWithCallback(string says, Action misbehave, TimeSpan? joinTimeout = null)
    {
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == "DaemonThreads")
                {
                    Console.Out.Write("callback: " + says + "\n");
                    misbehave();
                }
            },
        };
        listener.Start();
        if (joinTimeout is TimeSpan timeout)
        {
            ExitRegistry.JoinTimeout = timeout;
        }

        return ExitRegistry.RunMain(() => 7);
    }
}

/// <summary>A thread body that records what the OS says of the thread it runs on.</summary>
internal static class Worker
{
    internal static ConcurrentDictionary<DaemonThread, (long OsId, string Comm)> Seen { get; } = new();

    internal static void Run() => Seen[DaemonThread.Current] = (OsView.ThreadId(), OsView.Comm());
}

/// <summary>Thread targets of the delegate shapes NativeAOT stores differently (see the checks of generated names).</summary>
internal sealed class Targets
{
    internal static void Generic<T>()
    {
    }

    internal void Instance() => GC.KeepAlive(this);
}

/// <summary>A struct whose instance method is a thread target (its delegate calls an unboxing stub).</summary>
internal readonly struct StructTarget(int value)
{
    internal void OnStruct() => GC.KeepAlive(value);
}

/// <summary>An at-exit hook that fails, so that the exit names it on standard error.</summary>
internal static class Hooks
{
    internal static void Fail() => throw new InvalidOperationException("the check's hook fails on purpose");
}

/// <summary>The calling thread as Linux shows it, read from <c>/proc/thread-self</c> (no P/Invoke).</summary>
internal static class OsView
{
    internal static long ThreadId()
    {
        // A link to "PID/task/TID".
        string target = new FileInfo("/proc/thread-self").LinkTarget ?? throw new InvalidOperationException("/proc/thread-self is not a link");
        return long.Parse(target[(target.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static string Comm() => File.ReadAllText("/proc/thread-self/comm").TrimEnd('\n');

    // ASCII names here: 15 bytes are 15 characters.
    internal static string Truncated(string name) => name.Length > 15 ? name[..15] : name;
}
