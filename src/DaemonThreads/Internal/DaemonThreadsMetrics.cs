using System.Diagnostics.Metrics;

namespace DaemonThreads.Internal;

/// <summary>The <c>DaemonThreads</c> meter: live and started threads, hook exceptions, shutdown duration and losses.</summary>
/// <remarks>
/// Names and units follow the OpenTelemetry conventions used by the runtime's own meters (dotted lower-case names,
/// UCUM units such as <c>s</c> and <c>{thread}</c>). Instruments cost one field read per event while nobody listens.
/// </remarks>
internal static class DaemonThreadsMetrics
{
    internal const string MeterName = "DaemonThreads";
    internal const string DaemonTag = "daemonthreads.thread.daemon";

    private static readonly object s_true = true;
    private static readonly object s_false = false;
    private static readonly Meter s_meter = new(MeterName, typeof(DaemonThreadsMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> s_started = s_meter.CreateCounter<long>(
        "daemonthreads.thread.started", "{thread}", "Threads started by DaemonThread.Start, by daemon flag.");

    private static readonly Counter<long> s_exceptions = s_meter.CreateCounter<long>(
        "daemonthreads.thread.exceptions", "{exception}", "Exceptions that escaped a thread body and were handed to DaemonThread.ExceptHook.");

    private static readonly Histogram<double> s_shutdownDuration = s_meter.CreateHistogram<double>(
        "daemonthreads.shutdown.duration", "s", "Time the exit sequence took, from its first step to the point of no return.");

    private static readonly Counter<long> s_abandoned = s_meter.CreateCounter<long>(
        "daemonthreads.shutdown.abandoned", "{thread}", "Daemon threads still running at the point of no return.");

    private static readonly Counter<long> s_timedOut = s_meter.CreateCounter<long>(
        "daemonthreads.shutdown.timed_out", "{thread}", "Non-daemon threads the exit sequence stopped waiting for.");

    static DaemonThreadsMetrics()
    {
        s_meter.CreateObservableUpDownCounter(
            "daemonthreads.thread.count",
            static () => ThreadRegistry.Default.LiveMeasurements(),
            "{thread}",
            "Live threads started by DaemonThread, by daemon flag.");
    }

    internal static object Boxed(bool value) => value ? s_true : s_false;

    internal static void ThreadStarted(bool isDaemon)
    {
        if (s_started.Enabled)
        {
            s_started.Add(1, new KeyValuePair<string, object?>(DaemonTag, Boxed(isDaemon)));
        }
    }

    internal static void ExceptionRouted()
    {
        if (s_exceptions.Enabled)
        {
            s_exceptions.Add(1);
        }
    }

    internal static void ShutdownCompleted(ShutdownReport report)
    {
        s_shutdownDuration.Record(report.Elapsed.TotalSeconds);
        s_abandoned.Add(report.Abandoned.Count);
        s_timedOut.Add(report.TimedOut.Count);
    }
}
