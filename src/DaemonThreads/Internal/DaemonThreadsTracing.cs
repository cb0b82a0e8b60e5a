using System.Diagnostics;

namespace DaemonThreads.Internal;

/// <summary>
/// The <c>DaemonThreads</c> <see cref="ActivitySource"/>: one span for the exit sequence and one child span per step, so
/// that an OpenTelemetry trace shows where exit time went.
/// </summary>
/// <remarks>
/// The source is created when the first exit sequence begins, not at start-up, and only when a listener can exist
/// (<see cref="DaemonThreadsMetrics.ListenerCanExist"/>); a listener registered earlier with <see cref="ActivitySource.AddActivityListener"/> is asked about it on creation, so
/// nothing is missed. With no listener, <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns
/// <see langword="null"/> and a step costs one check.
/// </remarks>
internal static class DaemonThreadsTracing
{
    internal const string SourceName = "DaemonThreads";
    internal const string SequenceName = "DaemonThreads exit";
    internal const string TriggerTag = "daemonthreads.shutdown.trigger";

    private static ActivitySource? s_source;

    /// <summary>Starts the span of the whole sequence, or returns <see langword="null"/> when nobody listens.</summary>
    internal static Activity? StartSequence(ShutdownTrigger trigger, int? signalNumber)
    {
        if (!DaemonThreadsMetrics.ListenerCanExist)
        {
            // No ActivityListener can exist (none is created without loading System.Diagnostics.DiagnosticSource, and it
            // was not loaded before the sequence began): creating the source would cost the exit about 10 ms of
            // assembly loading and event-source set-up (benchmarks/README.md, "Start-up") for a span nobody receives.
            return null;
        }

        ActivitySource source = LazyInitializer.EnsureInitialized(ref s_source, static () => new ActivitySource(SourceName, "1.0"));
        if (!source.HasListeners())
        {
            return null;
        }

        Activity? activity = source.StartActivity(SequenceName, ActivityKind.Internal);
        activity?.SetTag(TriggerTag, trigger.ToString());
        if (signalNumber is int n)
        {
            activity?.SetTag("daemonthreads.shutdown.signal", n);
        }

        return activity;
    }

    /// <summary>Starts a child span of the sequence for one step (a child of <see cref="Activity.Current"/>).</summary>
    internal static Activity? StartStep(Activity? sequence, string name)
    {
        if (sequence is null || s_source is null)
        {
            return null;
        }

        return s_source.StartActivity(name, ActivityKind.Internal);
    }

    /// <summary>Ends the sequence's span with the report's counts.</summary>
    internal static void EndSequence(Activity? sequence, ShutdownReport report)
    {
        if (sequence is null)
        {
            return;
        }

        sequence.SetTag("daemonthreads.shutdown.joined", report.Joined.Count);
        sequence.SetTag("daemonthreads.shutdown.timed_out", report.TimedOut.Count);
        sequence.SetTag("daemonthreads.shutdown.abandoned", report.Abandoned.Count);
        sequence.SetTag("daemonthreads.shutdown.unfinished", report.Unfinished.Count);
        sequence.SetTag("daemonthreads.shutdown.hook_errors", report.HookErrors.Count);
        if (report.TimedOut.Count > 0 || report.Unfinished.Count > report.Abandoned.Count)
        {
            sequence.SetStatus(ActivityStatusCode.Error, "work did not finish");
        }

        sequence.Dispose();
    }
}
