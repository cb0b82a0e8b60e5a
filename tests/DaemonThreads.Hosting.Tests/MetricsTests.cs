using System.Diagnostics.Metrics;

namespace DaemonThreads.Hosting.Tests;

/// <summary>The core's <c>DaemonThreads</c> meter, observed in-process (nothing here runs the exit sequence).</summary>
/// <remarks>Not parallel with other in-process tests: the meter and <see cref="DaemonThread.ExceptHook"/> are process-wide.</remarks>
[Collection(nameof(ProcessWideMeter))]
public sealed class MetricsTests : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly object _lock = new();
    private readonly List<(string Instrument, long Value, bool? Daemon)> _measurements = [];
    private readonly CountdownEvent _published = new(6);

    public MetricsTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "DaemonThreads")
            {
                listener.EnableMeasurementEvents(instrument);
                _published.Signal();
            }
        };
        // The counters measure in long, the live-thread gauge (an observable up-down counter) in int.
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();

        // The library creates its meter on a background thread once it initialises (so that no application thread pays
        // for the runtime's metrics start-up); touch it, then wait until all six instruments are published.
        _ = ExitRegistry.JoinTimeout;
        _published.Wait(TestTimeouts.Unexpected).Should().BeTrue("the library publishes its six instruments shortly after it initialises");
    }

    public void Dispose()
    {
        _listener.Dispose();
        _published.Dispose();
    }

    [Fact]
    public void Meter_AfterLibraryInitialises_PublishesEveryDocumentedInstrument()
    {
        // The constructor waited for six instruments; this names them (README "Metrics").
        var names = new List<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == "DaemonThreads")
                {
                    names.Add(instrument.Name);
                }
            },
        };

        listener.Start(); // publishes the existing instruments to this listener, synchronously

        names.Should().BeEquivalentTo(
            "daemonthreads.thread.count",
            "daemonthreads.thread.started",
            "daemonthreads.thread.exceptions",
            "daemonthreads.shutdown.duration",
            "daemonthreads.shutdown.abandoned",
            "daemonthreads.shutdown.timed_out");
    }

    [Fact]
    public void Meter_Version_IsTheLibrarysAssemblyVersion()
    {
        // The version is a constant the build writes (no reflection at run time, which NativeAOT paid for on the meter's
        // thread); it must still say what the assembly says.
        string? version = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == "DaemonThreads")
                {
                    version = instrument.Meter.Version;
                }
            },
        };

        listener.Start();

        version.Should().NotBeNullOrEmpty().And.Be(typeof(ExitRegistry).Assembly.GetName().Version!.ToString());
    }

    [Fact]
    public void Start_DaemonAndNonDaemon_CountsEachStartByDaemonTag()
    {
        var worker = new DaemonThread(() => { }, name: "metrics-worker", isDaemon: false);
        var daemon = new DaemonThread(() => { }, name: "metrics-daemon", isDaemon: true);

        (long nonDaemonBefore, long daemonBefore) = Observe("daemonthreads.thread.started");

        worker.Start();
        daemon.Start();
        worker.Join(TestTimeouts.Unexpected).Should().BeTrue("the body returns at once");
        daemon.Join(TestTimeouts.Unexpected).Should().BeTrue("the body returns at once");
        (long nonDaemonAfter, long daemonAfter) = Observe("daemonthreads.thread.started");

        (nonDaemonAfter - nonDaemonBefore).Should().Be(1, "one non-daemon thread was started");
        (daemonAfter - daemonBefore).Should().Be(1, "one daemon thread was started");
    }

    [Fact]
    public void ThreadCount_WhileThreadsRun_ReportsLiveThreadsByDaemonTag()
    {
        using var release = new ManualResetEventSlim();
        using var bothRunning = new CountdownEvent(2);
        var worker = new DaemonThread(() => { bothRunning.Signal(); release.Wait(); }, name: "metrics-live-worker", isDaemon: false);
        var daemon = new DaemonThread(() => { bothRunning.Signal(); release.Wait(); }, name: "metrics-live-daemon", isDaemon: true);
        (long nonDaemonBefore, long daemonBefore) = Observe("daemonthreads.thread.count");

        worker.Start();
        daemon.Start();
        bothRunning.Wait(TestTimeouts.Unexpected).Should().BeTrue("both bodies signal as they start");
        (long nonDaemonDuring, long daemonDuring) = Observe("daemonthreads.thread.count");
        release.Set();
        worker.Join(TestTimeouts.Unexpected).Should().BeTrue("released");
        daemon.Join(TestTimeouts.Unexpected).Should().BeTrue("released");
        (long nonDaemonAfter, long daemonAfter) = Observe("daemonthreads.thread.count");

        (nonDaemonDuring - nonDaemonBefore).Should().Be(1, "one non-daemon thread is alive");
        (daemonDuring - daemonBefore).Should().Be(1, "one daemon thread is alive");
        nonDaemonAfter.Should().Be(nonDaemonBefore, "the joined thread is no longer counted");
        daemonAfter.Should().Be(daemonBefore, "the joined thread is no longer counted");
    }

    [Fact]
    public void ThreadBodyThrows_ExceptionRoutedToHook_CountsException()
    {
        var seen = new List<Exception>();
        DaemonThread.ExceptHook = info =>
        {
            lock (seen)
            {
                seen.Add(info.Exception);
            }
        };
        try
        {
            var faulty = new DaemonThread(() => throw new InvalidOperationException("metrics test"), name: "metrics-faulty");
            long before = ObserveTotal("daemonthreads.thread.exceptions");

            faulty.Start();
            faulty.Join(TestTimeouts.Unexpected).Should().BeTrue("the body throws at once");

            seen.Should().ContainSingle("the hook got the exception");
            (ObserveTotal("daemonthreads.thread.exceptions") - before).Should().Be(1, "one exception escaped a thread body");
        }
        finally
        {
            DaemonThread.ExceptHook = null!;
        }
    }

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        bool? daemon = null;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "daemonthreads.thread.daemon")
            {
                daemon = (bool?)tag.Value;
            }
        }

        lock (_lock)
        {
            _measurements.Add((instrument.Name, value, daemon));
        }
    }

    private long Sum(string instrument, bool? daemon)
    {
        lock (_lock)
        {
            return _measurements.Where(m => m.Instrument == instrument && m.Daemon == daemon).Sum(m => m.Value);
        }
    }

    // The thread instruments are observable: each observation reports the current value (a total since the process
    // began, or the live count), so a test reads one before and one after and compares.
    private (long NonDaemon, long Daemon) Observe(string instrument)
    {
        ObserveTotal(instrument);
        return (Sum(instrument, daemon: false), Sum(instrument, daemon: true));
    }

    private long ObserveTotal(string instrument)
    {
        lock (_lock)
        {
            _measurements.RemoveAll(m => m.Instrument == instrument);
        }

        _listener.RecordObservableInstruments();
        lock (_lock)
        {
            return _measurements.Where(m => m.Instrument == instrument).Sum(m => m.Value);
        }
    }
}

/// <summary>Runs the in-process metrics tests alone: the meter and the exception hook are process-wide.</summary>
[CollectionDefinition(nameof(ProcessWideMeter), DisableParallelization = true)]
public sealed class ProcessWideMeter;
