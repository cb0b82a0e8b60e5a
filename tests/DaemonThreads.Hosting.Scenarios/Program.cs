using System.Diagnostics.Metrics;
using DaemonThreads;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DaemonThreads.Hosting.Scenarios;

/// <summary>
/// Runs one hosting scenario, chosen by the first argument, in a real Generic Host with <c>AddDaemonThreads</c>. Marker
/// lines go to stdout (flushed at once); the host's console logger writes to stderr, one line per event.
/// </summary>
/// <remarks>
/// Scenarios: <c>graceful signal|stop</c> (a non-daemon writer finishes after the stop begins, a daemon heartbeat is
/// dropped; the stop comes from SIGTERM sent by the test after READY, or from StopApplication), <c>timeout</c> (a
/// non-daemon thread ignores the stop; 1 s host timeout, 3 s join timeout), <c>exception</c> (a thread body throws),
/// <c>metrics</c> (the graceful stop, with a MeterListener on the DaemonThreads meter), <c>join-timeout default|longer</c>
/// (a 2 s host shutdown timeout; the join timeout left unset, or set to 5 s).
/// </remarks>
internal static class Program
{
    private static readonly object s_outLock = new();

    private static int Main(string[] args)
    {
        string scenario = args.Length > 0 ? args[0] : "";
        string mode = args.Length > 1 ? args[1] : "signal";
        return scenario switch
        {
            "graceful" => Graceful(mode, listener: null),
            "metrics" => Metrics(),
            "timeout" => TimedOut(),
            "exception" => ThreadException(),
            "join-timeout" => JoinTimeout(mode),
            _ => Usage(scenario),
        };
    }

    private static int Usage(string scenario)
    {
        Console.Error.WriteLine("unknown scenario: '" + scenario + "'; use graceful [signal|stop], timeout, exception, metrics or join-timeout [default|longer]");
        return 64;
    }

    private static void Line(string text)
    {
        lock (s_outLock)
        {
            Console.Out.WriteLine(text);
            Console.Out.Flush();
        }
    }

    // JoinTimeout is set to joinTimeout (default: the shutdown timeout), or left unset when setJoinTimeout is false (it
    // then follows the host's ShutdownTimeout).
    private static IHost BuildHost(TimeSpan shutdownTimeout, TimeSpan? joinTimeout = null, bool setJoinTimeout = true)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.ColorBehavior = Microsoft.Extensions.Logging.Console.LoggerColorBehavior.Disabled;
        });
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout);
        if (setJoinTimeout)
        {
            builder.Services.AddDaemonThreads(o => o.JoinTimeout = joinTimeout ?? shutdownTimeout);
        }
        else
        {
            builder.Services.AddDaemonThreads();
        }

        IHost host = builder.Build();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.ApplicationStopping.Register(() => Line("stopping"));
        lifetime.ApplicationStopped.Register(() => Line("stopped"));
        return host;
    }

    // A non-daemon writer that must flush after the stop begins, and a daemon heartbeat that never ends.
    private static int Graceful(string mode, MeterListener? listener)
    {
        using IHost host = BuildHost(TimeSpan.FromSeconds(30));
        using var release = new ManualResetEventSlim();
        var writer = new DaemonThread(() =>
        {
            // Deliberately infinite: the stop cancels ShuttingDown, which is what this scenario tests.
            ExitRegistry.ShuttingDown.WaitHandle.WaitOne();
            Line("writer: flushed after stop");
        }, name: "writer", isDaemon: false);
        var heartbeat = new DaemonThread(() => release.Wait(), name: "heartbeat", isDaemon: true);
        ExitRegistry.RegisterBeforeJoin(() => Line("before-join hook"));
        ExitRegistry.RegisterAtExit(() => Line("at-exit hook"));

        host.Start();
        writer.Start();
        heartbeat.Start();
        Line("signal handlers installed by DaemonThreads: " + ExitRegistry.HandleSignals);
        if (mode == "stop")
        {
            host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        }
        else
        {
            Line("READY");
        }

        host.WaitForShutdown();
        listener?.RecordObservableInstruments();
        Line("host stopped; heartbeat alive = " + heartbeat.IsAlive);
        return 0;
    }

    private static int Metrics()
    {
        double? duration = null;
        long abandoned = 0;
        using var published = new CountdownEvent(6);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "DaemonThreads")
                {
                    l.EnableMeasurementEvents(instrument);
                    published.Signal();
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
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "daemonthreads.shutdown.abandoned")
            {
                Interlocked.Add(ref abandoned, value);
            }
        });
        listener.Start();

        // The library creates its meter on a background thread once it initialises; a listener can only receive the
        // shutdown instruments once they exist (README "Metrics"), so wait for them before stopping at once.
        _ = ExitRegistry.JoinTimeout;
        if (!published.Wait(TimeSpan.FromSeconds(20)))
        {
            Line("instruments not published");
            return 3;
        }

        int code = Graceful("stop", listener);
        Line($"metric shutdown.duration recorded: {duration is >= 0}");
        Line($"metric shutdown.abandoned: {Interlocked.Read(ref abandoned)}");
        return code;
    }

    // A non-daemon thread that ignores the stop: the host gives up after 1 s, the sequence after 3 s (later on purpose,
    // so that the host's timeout is certain to pass first; the sequence's report then goes to stderr, the host is gone).
    private static int TimedOut()
    {
        using IHost host = BuildHost(TimeSpan.FromSeconds(1), joinTimeout: TimeSpan.FromSeconds(3));
        using var never = new ManualResetEventSlim();
        var stuck = new DaemonThread(() => never.Wait(), name: "stuck", isDaemon: false);
        host.Start();
        stuck.Start();
        host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        host.WaitForShutdown();
        Line("host stopped; stuck alive = " + stuck.IsAlive);
        return 0;
    }

    // The host's 2 s ShutdownTimeout, and JoinTimeout either unset (it follows the host) or 5 s (a warning at start).
    private static int JoinTimeout(string mode)
    {
        bool longer = mode == "longer";
        using IHost host = BuildHost(TimeSpan.FromSeconds(2), joinTimeout: TimeSpan.FromSeconds(5), setJoinTimeout: longer);
        host.Start();
        Line("join timeout: " + ExitRegistry.JoinTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture));
        host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        host.WaitForShutdown();
        Line("host stopped");
        return 0;
    }

    private static int ThreadException()
    {
        using IHost host = BuildHost(TimeSpan.FromSeconds(30));
        host.Start();
        var faulty = new DaemonThread(() => throw new InvalidOperationException("boom from the thread body"), name: "faulty");
        faulty.Start();
        faulty.Join();
        Line("faulty joined");
        host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        host.WaitForShutdown();
        Line("host stopped");
        return 0;
    }
}
