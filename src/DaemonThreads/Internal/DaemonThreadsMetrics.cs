using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace DaemonThreads.Internal;

/// <summary>The <c>DaemonThreads</c> meter: live and started threads, hook exceptions, shutdown duration and losses.</summary>
/// <remarks>
/// <para>
/// Names and units follow the OpenTelemetry conventions used by the runtime's own meters (dotted lower-case names,
/// UCUM units such as <c>s</c> and <c>{thread}</c>).
/// </para>
/// <para>
/// Creating the first <see cref="Meter"/> of a process initialises the runtime's metrics machinery, which measured
/// 18 ms on the benchmark machine (benchmarks/README.md) — more than a hundred thread starts, and the largest part of
/// the library's start-up cost in a short program. So the meter is created only once something could listen to it:
/// every listener (an in-process <see cref="MeterListener"/>, or the runtime's metrics event source that
/// dotnet-counters, dotnet-monitor and OpenTelemetry's out-of-process collectors enable) lives in
/// <c>System.Diagnostics.DiagnosticSource</c>, so <see cref="CreateWhenListenable"/> creates the meter (on a
/// short-lived background thread, never on an application thread) when that assembly is already loaded, or as soon
/// as it loads. A listener started before the meter exists receives its instruments when it is created. Nothing is
/// lost meanwhile: the per-thread figures are totals the library keeps itself and the meter only reads (observable
/// instruments, as the runtime's own thread-pool counters are), and no listener can subscribe to the shutdown
/// instruments before the meter exists, so skipping them until then drops nothing anyone could receive.
/// </para>
/// <para>
/// Under NativeAOT there is no assembly loading to observe (DiagnosticSource is compiled in) and creating the meter
/// costs no JIT, but a thread of its own to create it cost a short program 0.6 % of its instructions more than creating it
/// inline, which costs 1.6 % (benchmarks/README.md, "Wave 12"). So the meter is created on the calling thread, once, at the end of the first <see cref="DaemonThread.Start"/>
/// (the new thread already runs meanwhile) or, in a process that never starts one, when the exit sequence reports.
/// A listener started earlier receives the instruments then; the per-thread totals are complete whenever it does.
/// A listener's <see cref="MeterListener.InstrumentPublished"/> runs on that thread: it may start threads itself (the
/// creation is claimed once, so a call back in returns at once), and an exception it throws is swallowed there.
/// </para>
/// </remarks>
internal static class DaemonThreadsMetrics
{
    internal const string MeterName = "DaemonThreads";
    private const string DiagnosticSourceModule = "System.Diagnostics.DiagnosticSource.dll";
    internal const string DaemonTag = "daemonthreads.thread.daemon";

    private static readonly object s_true = true;
    private static readonly object s_false = false;
    private static long s_startedDaemon;
    private static long s_startedNonDaemon;
    private static long s_exceptions;
    private static Instruments? s_instruments;
    private static Func<bool>? s_stillWanted;
    private static int s_creationStarted;
    private static int s_creationClaimed;
    private static volatile bool s_listenerCanExist;
    private static volatile bool s_watchingLoads; // the load of DiagnosticSource sets s_listenerCanExist: no scan needed

    internal static object Boxed(bool value) => value ? s_true : s_false;

    /// <summary>Creates the meter on a background thread now if a listener can exist, else when one first can.</summary>
    /// <param name="stillWanted">Checked on the background thread before creating: false once the process is exiting (the
    /// 18 ms would only delay the exit, and no listener can subscribe any more).</param>
    [SuppressMessage("Design", "CA1031", Justification = "The meter only serves listeners; failing to set up its creation must not make the library unusable.")]
    internal static void CreateWhenListenable(Func<bool> stillWanted)
    {
        try
        {
            s_stillWanted = stillWanted;
            if (!RuntimeFeature.IsDynamicCodeSupported)
            {
                return; // NativeAOT: created by the first Start, or by the exit's report (CreateUnderNativeAot)
            }

            // Subscribe before looking, so that a load racing the look is seen by one of the two (EnsureCreated is idempotent).
            AppDomain.CurrentDomain.AssemblyLoad += OnAssemblyLoad;
            s_watchingLoads = true;
            foreach (Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
            {
                if (IsDiagnosticSource(assembly))
                {
                    AppDomain.CurrentDomain.AssemblyLoad -= OnAssemblyLoad;
                    StartCreating();
                    return;
                }
            }
        }
        catch (Exception)
        {
            // No meter: the library works without one.
        }
    }

    /// <summary>
    /// Gets a value indicating whether a metrics or tracing listener can exist: System.Diagnostics.DiagnosticSource was
    /// loaded before the exit sequence began (always under NativeAOT). DaemonThreadsTracing creates its ActivitySource
    /// only then, because an ActivityListener lives in the same assembly.
    /// </summary>
    internal static bool ListenerCanExist => s_listenerCanExist || !RuntimeFeature.IsDynamicCodeSupported || (!s_watchingLoads && DiagnosticSourceIsLoaded());

    // A scan of the loaded assemblies (a few dozen), which loads nothing: for a process whose registry never watched the
    // loads (an isolated coordinator in tests) and for the exit sequence's own one check.
    private static bool DiagnosticSourceIsLoaded()
    {
        foreach (Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (IsDiagnosticSource(assembly))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Creates the meter and its instruments, once; a caller that finds the creation claimed returns at once.</summary>
    /// <remarks>
    /// Claimed, not locked: a listener's InstrumentPublished runs inside the creation, on this thread, and may start a
    /// DaemonThread (which comes back here under NativeAOT) or wait for another thread that does; either returns at once
    /// instead of recursing into a second meter or waiting for the first. The totals the instruments read are kept
    /// anyway, so a caller that returns before the meter exists loses nothing a listener could have read.
    /// Never inlined, like <see cref="Record"/>: its caller at exit must not make the runtime load DiagnosticSource.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    [SuppressMessage("Design", "CA1031", Justification = "The meter only serves listeners: a listener's callback that throws, or a failure to create the meter, must not fail a Start or the exit.")]
    internal static void EnsureCreated()
    {
        if (Volatile.Read(ref s_instruments) is not null || Interlocked.Exchange(ref s_creationClaimed, 1) != 0)
        {
            return;
        }

        try
        {
            Volatile.Write(ref s_instruments, new Instruments());
        }
        catch (Exception)
        {
            // No meter (or a part of one, if a listener's callback threw): the library works without one.
        }
    }

    /// <summary>Under NativeAOT, creates the meter on the calling thread the first time (DaemonThreadsMetrics' remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CreateUnderNativeAot()
    {
        if (!RuntimeFeature.IsDynamicCodeSupported && Volatile.Read(ref s_creationClaimed) == 0)
        {
            EnsureCreated();
        }
    }

    // By the manifest module's name, not Assembly.FullName: a display name includes the public key token, which the
    // runtime computes by hashing the key, and the watch asks every assembly the process loads (FullName cost a short
    // program 0.26 M of its 112 M instructions, the module's name 0.11 M; benchmarks/README.md, issue 11 "Wave 8").
    private static bool IsDiagnosticSource(Assembly assembly)
        => assembly.ManifestModule.ScopeName is { Length: 39 } name && PlainText.StartsWithOrdinal(name, 0, DiagnosticSourceModule);

    private static void OnAssemblyLoad(object? sender, AssemblyLoadEventArgs args)
    {
        if (IsDiagnosticSource(args.LoadedAssembly))
        {
            AppDomain.CurrentDomain.AssemblyLoad -= OnAssemblyLoad;
            StartCreating();
        }
    }

    [SuppressMessage("Design", "CA1031", Justification = "The meter only serves listeners; no threads left must not crash the process.")]
    private static void StartCreating()
    {
        if (s_stillWanted?.Invoke() == false)
        {
            return; // loaded by the exit sequence itself (its tracing): nobody can listen to what is left of it
        }

        s_listenerCanExist = true;
        if (Interlocked.Exchange(ref s_creationStarted, 1) != 0)
        {
            return;
        }

        try
        {
            // A thread of its own, not the thread pool: the pool's first use cost 4-5 ms on the calling thread in a
            // program that had not used it.
            new Thread(CreateInBackground, 256 * 1024) { IsBackground = true, Name = ".NET DaemonThreads meter" }.UnsafeStart();
        }
        catch (Exception)
        {
            // No meter: the library works without one.
        }
    }

    [SuppressMessage("Design", "CA1031", Justification = "A failure to create the meter must not crash the process; the library works without one.")]
    private static void CreateInBackground()
    {
        try
        {
            if (s_stillWanted?.Invoke() != false)
            {
                EnsureCreated();
            }
        }
        catch (Exception)
        {
            // No meter: the library works without one, and nothing can listen to a meter that does not exist.
        }
    }

    /// <summary>Counts a thread that <see cref="DaemonThread.Start"/> started.</summary>
    internal static void ThreadStarted(bool isDaemon)
    {
        if (isDaemon)
        {
            Interlocked.Increment(ref s_startedDaemon);
        }
        else
        {
            Interlocked.Increment(ref s_startedNonDaemon);
        }

        CreateUnderNativeAot();
    }

    /// <summary>Counts an exception handed to <see cref="DaemonThread.ExceptHook"/>.</summary>
    internal static void ExceptionRouted() => Interlocked.Increment(ref s_exceptions);

    /// <summary>
    /// Tells whether <see cref="ShutdownCompleted"/> can call a listener's code: a shutdown instrument has a listener, or
    /// (NativeAOT, no thread started) it creates the meter, whose InstrumentPublished callbacks then run.
    /// </summary>
    internal static bool ShutdownCallbacksCanRun()
    {
        if (!RuntimeFeature.IsDynamicCodeSupported && Volatile.Read(ref s_creationClaimed) == 0)
        {
            return true;
        }

        return Volatile.Read(ref s_instruments) is { } instruments && AnyShutdownInstrumentEnabled(instruments);
    }

    // Apart, never inlined, like Record: naming the instruments' types loads DiagnosticSource when the method is prepared.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool AnyShutdownInstrumentEnabled(Instruments instruments)
        => instruments.ShutdownDuration.Enabled || instruments.Abandoned.Enabled || instruments.TimedOut.Enabled;

    /// <summary>Records the shutdown instruments, if the meter exists and anybody listens.</summary>
    internal static void ShutdownCompleted(ShutdownReport report)
    {
        CreateUnderNativeAot(); // a process that never started a DaemonThread: a listener made earlier gets the shutdown instruments
        Instruments? instruments = Volatile.Read(ref s_instruments);
        if (instruments is null)
        {
            return; // no meter yet, so no listener either
        }

        Record(instruments, report);
    }

    // Apart, never inlined: a method that names Histogram or Counter makes the runtime load
    // System.Diagnostics.DiagnosticSource when it prepares the method, even when the meter does not exist; the exit must
    // not load it (DaemonThreadsTracing reads a loaded DiagnosticSource as "a listener can exist").
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Record(Instruments instruments, ShutdownReport report)
    {
        // Checked first, like every instrument here: recording unconditionally cost 1.3 ms at exit with nobody
        // listening (compiling the generic Record/Add paths; benchmarks/README.md).
        if (instruments.ShutdownDuration.Enabled)
        {
            instruments.ShutdownDuration.Record(report.Elapsed.TotalSeconds);
        }

        if (instruments.Abandoned.Enabled)
        {
            instruments.Abandoned.Add(report.Abandoned.Count);
        }

        if (instruments.TimedOut.Enabled)
        {
            instruments.TimedOut.Add(report.TimedOut.Count);
        }
    }

    private static Measurement<long>[] StartedMeasurements() =>
    [
        new Measurement<long>(Volatile.Read(ref s_startedDaemon), new KeyValuePair<string, object?>(DaemonTag, s_true)),
        new Measurement<long>(Volatile.Read(ref s_startedNonDaemon), new KeyValuePair<string, object?>(DaemonTag, s_false)),
    ];

    /// <summary>The meter and the instruments the library records into; the others read the library's own totals.</summary>
    private sealed class Instruments
    {
        internal Instruments()
        {
            // Lives as long as the process: instruments are read until the very end of the exit sequence.
            var meter = new Meter(MeterName, BuildInfo.AssemblyVersion); // the assembly version, as a constant (DaemonThreads.csproj)
            meter.CreateObservableUpDownCounter(
                "daemonthreads.thread.count",
                static () => ThreadRegistry.Default.LiveMeasurements(),
                "{thread}",
                "Live threads started by DaemonThread, by daemon flag.");
            meter.CreateObservableCounter(
                "daemonthreads.thread.started",
                static () => StartedMeasurements(),
                "{thread}",
                "Threads started by DaemonThread.Start since the process began, by daemon flag.");
            meter.CreateObservableCounter(
                "daemonthreads.thread.exceptions",
                static () => Volatile.Read(ref s_exceptions),
                "{exception}",
                "Exceptions that escaped a thread body and were handed to DaemonThread.ExceptHook.");
            ShutdownDuration = meter.CreateHistogram<double>(
                "daemonthreads.shutdown.duration", "s", "Time the exit sequence took, from its first step to the point of no return.");
            Abandoned = meter.CreateCounter<long>(
                "daemonthreads.shutdown.abandoned", "{thread}", "Daemon threads still running at the point of no return.");
            TimedOut = meter.CreateCounter<long>(
                "daemonthreads.shutdown.timed_out", "{thread}", "Non-daemon threads the exit sequence stopped waiting for.");
        }

        internal Histogram<double> ShutdownDuration { get; }

        internal Counter<long> Abandoned { get; }

        internal Counter<long> TimedOut { get; }
    }
}
