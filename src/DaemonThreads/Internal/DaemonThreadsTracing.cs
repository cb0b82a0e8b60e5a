using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

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

    /// <summary>The runtime switch that turns the spans off (or, in a trimmed or NativeAOT build, on).</summary>
    internal const string SwitchName = "DaemonThreads.Tracing.IsSupported";

    // Typed object, not ActivitySource: a static field's type is loaded with the class, and this class is loaded at every
    // exit (see StartSequence).
    private static object? s_source;

    /// <summary>Gets a value indicating whether the exit sequence may emit spans at all (the <see cref="SwitchName"/> switch).</summary>
    /// <remarks>
    /// Default <see langword="true"/>. In a trimmed or NativeAOT build the trimmer replaces this property with a constant
    /// (Properties/ILLink.Substitutions.xml): <see langword="false"/> unless the switch is set to <see langword="true"/>
    /// (<c>DaemonThreadsTracingSupport</c>), so that no <see cref="ActivitySource"/> code is compiled into an image that
    /// did not ask for spans; every use of the source below is behind this check.
    /// </remarks>
    internal static bool IsSupported => !AppContext.TryGetSwitch(SwitchName, out bool supported) || supported;

    /// <summary>Starts the span of the whole sequence, or returns <see langword="null"/> when nobody listens.</summary>
    /// <remarks>
    /// Spans are handed out as <see cref="IDisposable"/> and every member that names a
    /// <c>System.Diagnostics.DiagnosticSource</c> type is a separate, never inlined method, called only once a listener
    /// can exist: the runtime loads an assembly when it prepares a method that mentions one of its types, and that load
    /// alone is what <see cref="DaemonThreadsMetrics.ListenerCanExist"/> reads as "a listener can exist".
    /// </remarks>
    internal static IDisposable? StartSequence(ShutdownTrigger trigger, int? signalNumber)
    {
        if (!IsSupported || !DaemonThreadsMetrics.ListenerCanExist)
        {
            // No ActivityListener can exist (none is created without loading System.Diagnostics.DiagnosticSource, and it
            // was not loaded before the sequence began): creating the source would cost the exit about 10 ms of
            // assembly loading and event-source set-up (benchmarks/README.md, "Start-up") for a span nobody receives.
            return null;
        }

        return StartSequenceCore(trigger, signalNumber);
    }

    /// <summary>Gets a value indicating whether an <see cref="ActivityListener"/> listens to the source (created here when a listener can exist).</summary>
    /// <remarks>The exit sequence with nothing to run (<c>ShutdownCoordinator.TryFinishIdle</c>) is taken only when nobody listens, so that a listener still gets its spans.</remarks>
    internal static bool Listening() => IsSupported && DaemonThreadsMetrics.ListenerCanExist && ListeningCore();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool ListeningCore() => Source().HasListeners();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ActivitySource Source()
        => (ActivitySource)LazyInitializer.EnsureInitialized(ref s_source, static () => new ActivitySource(SourceName, "1.0"));

    /// <summary>Starts a child span of the sequence for one step (a child of <see cref="Activity.Current"/>).</summary>
    /// <param name="sequence">The sequence's span, or <see langword="null"/> when nobody listens.</param>
    /// <param name="name">The step's name.</param>
    /// <param name="hooks">The number of hooks the step runs, as the tag <c>daemonthreads.hooks</c>; <see langword="null"/> for none.</param>
    internal static IDisposable? StartStep(IDisposable? sequence, string name, int? hooks = null)
        => !IsSupported || sequence is null || s_source is null ? null : StartStepCore(name, hooks);

    /// <summary>Ends the sequence's span with the report's counts.</summary>
    internal static void EndSequence(IDisposable? sequence, ShutdownReport report)
    {
        if (IsSupported && sequence is not null)
        {
            EndSequenceCore(sequence, report);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    [SuppressMessage("Performance", "CA1859", Justification = "A signature that names Activity loads System.Diagnostics.DiagnosticSource into a caller being compiled (see StartSequence).")]
    private static IDisposable? StartSequenceCore(ShutdownTrigger trigger, int? signalNumber)
    {
        ActivitySource source = Source();
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    [SuppressMessage("Performance", "CA1859", Justification = "A signature that names Activity loads System.Diagnostics.DiagnosticSource into a caller being compiled (see StartSequence).")]
    private static IDisposable? StartStepCore(string name, int? hooks)
    {
        Activity? step = ((ActivitySource)s_source!).StartActivity(name, ActivityKind.Internal);
        if (hooks is int count)
        {
            step?.SetTag("daemonthreads.hooks", count);
        }

        return step;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EndSequenceCore(IDisposable span, ShutdownReport report)
    {
        var sequence = (Activity)span;
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
