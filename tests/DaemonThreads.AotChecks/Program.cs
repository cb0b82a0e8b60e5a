using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using DaemonThreads;

// Facts the library gets from the runtime without a P/Invoke or reflection under NativeAOT (benchmarks/README.md, "Wave
// 5"): each thread's native id and OS-visible name, the generated name of a method-group target, a hook's name in the
// exit's messages and the meter's version. Prints "ok: FACT" or "FAIL: FACT (detail)" per fact; exits with 1 if any
// failed. .ci/aot-check runs it native and under the JIT, and checks the failing hook's message on standard error.
// Linux only: the OS's view of a thread is read from /proc/thread-self.

// A listener made before the library is touched: the meter must still reach it.
using var published = new ManualResetEventSlim();
string? meterVersion = null;
using var listener = new MeterListener
{
    InstrumentPublished = (instrument, _) =>
    {
        if (instrument.Meter.Name == "DaemonThreads")
        {
            meterVersion = instrument.Meter.Version;
            published.Set();
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
