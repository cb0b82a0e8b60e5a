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

    public MetricsTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "DaemonThreads")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        // The counters measure in long, the live-thread gauge (an observable up-down counter) in int.
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public void Start_DaemonAndNonDaemon_CountsEachStartByDaemonTag()
    {
        var worker = new DaemonThread(() => { }, name: "metrics-worker", isDaemon: false);
        var daemon = new DaemonThread(() => { }, name: "metrics-daemon", isDaemon: true);

        worker.Start();
        daemon.Start();
        worker.Join(TestTimeouts.Unexpected).Should().BeTrue("the body returns at once");
        daemon.Join(TestTimeouts.Unexpected).Should().BeTrue("the body returns at once");

        Sum("daemonthreads.thread.started", daemon: false).Should().Be(1, "one non-daemon thread was started");
        Sum("daemonthreads.thread.started", daemon: true).Should().Be(1, "one daemon thread was started");
    }

    [Fact]
    public void ThreadCount_WhileThreadsRun_ReportsLiveThreadsByDaemonTag()
    {
        using var release = new ManualResetEventSlim();
        using var bothRunning = new CountdownEvent(2);
        var worker = new DaemonThread(() => { bothRunning.Signal(); release.Wait(); }, name: "metrics-live-worker", isDaemon: false);
        var daemon = new DaemonThread(() => { bothRunning.Signal(); release.Wait(); }, name: "metrics-live-daemon", isDaemon: true);
        (long nonDaemonBefore, long daemonBefore) = ObserveLive();

        worker.Start();
        daemon.Start();
        bothRunning.Wait(TestTimeouts.Unexpected).Should().BeTrue("both bodies signal as they start");
        (long nonDaemonDuring, long daemonDuring) = ObserveLive();
        release.Set();
        worker.Join(TestTimeouts.Unexpected).Should().BeTrue("released");
        daemon.Join(TestTimeouts.Unexpected).Should().BeTrue("released");
        (long nonDaemonAfter, long daemonAfter) = ObserveLive();

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

            faulty.Start();
            faulty.Join(TestTimeouts.Unexpected).Should().BeTrue("the body throws at once");

            seen.Should().ContainSingle("the hook got the exception");
            Sum("daemonthreads.thread.exceptions", daemon: null).Should().Be(1, "one exception escaped a thread body");
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

    private (long NonDaemon, long Daemon) ObserveLive()
    {
        lock (_lock)
        {
            _measurements.RemoveAll(m => m.Instrument == "daemonthreads.thread.count");
        }

        _listener.RecordObservableInstruments();
        return (Sum("daemonthreads.thread.count", daemon: false), Sum("daemonthreads.thread.count", daemon: true));
    }
}

/// <summary>Runs the in-process metrics tests alone: the meter and the exception hook are process-wide.</summary>
[CollectionDefinition(nameof(ProcessWideMeter), DisableParallelization = true)]
public sealed class ProcessWideMeter;
