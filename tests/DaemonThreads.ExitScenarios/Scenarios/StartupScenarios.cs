namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>Issue 11: what the library's own start-up and exit cost a short program, seen from inside the process.</summary>
internal static class StartupScenarios
{
    // The diagnostics assemblies that only a listener needs: the library must not load them itself.
    private static readonly string[] s_watched = ["System.Diagnostics.DiagnosticSource", "System.Diagnostics.Tracing"];

    // The short program of issue 11 (RunMain, one DaemonThread started and joined), then, after the whole exit sequence,
    // which of the watched assemblies are loaded.
    [Scenario("short-program-loads")]
    public static int ShortProgramLoads()
    {
        int code = ExitRegistry.RunMain(() =>
        {
            int ran = 0;
            var thread = new DaemonThread(() => ran = 1);
            thread.Start();
            thread.Join();
            Out.Line(ran == 1 ? "ok" : "not run");
            return 0;
        });

        var loaded = new List<string>();
        foreach (string name in s_watched)
        {
            if (IsLoaded(name))
            {
                loaded.Add(name);
            }
        }

        loaded.Sort(StringComparer.Ordinal);
        Out.Line("loaded: " + string.Join(", ", loaded));
        return code;
    }

    // Issue 11 wave 4: the facades a raw twin of the short program never loads, and that the library loaded only through
    // how its code was written (a string converted to a span goes through System.Memory's MemoryExtensions; a method that
    // creates a List<T> makes the runtime load System.Collections when it prepares the method). Recorded while RunMain
    // runs, so the scenario host's own loads before it do not count.
    private static readonly string[] s_facades = ["System.Collections", "System.Memory", "System.Linq", "System.Collections.Concurrent"];
    private static readonly string?[] s_loadedDuring = new string?[64];
    private static int s_loadedCount;

    [Scenario("short-program-facades")]
    public static int ShortProgramFacades()
    {
        AppDomain.CurrentDomain.AssemblyLoad += RecordLoad;
        int code = ExitRegistry.RunMain(() =>
        {
            int ran = 0;
            var thread = new DaemonThread(() => ran = 1);
            thread.Start();
            thread.Join();
            return ran == 1 ? 0 : 3;
        });
        AppDomain.CurrentDomain.AssemblyLoad -= RecordLoad;

        var loaded = new List<string>();
        for (int i = 0; i < Math.Min(s_loadedCount, s_loadedDuring.Length); i++)
        {
            if (s_loadedDuring[i] is string name && Array.IndexOf(s_facades, name) >= 0)
            {
                loaded.Add(name);
            }
        }

        loaded.Sort(StringComparer.Ordinal);
        Out.Line("ok");
        Out.Line("loaded during RunMain: " + string.Join(", ", loaded));
        return code;
    }

    private static void RecordLoad(object? sender, AssemblyLoadEventArgs args)
    {
        // No collection here: the handler must not load what it watches for.
        int i = Interlocked.Increment(ref s_loadedCount) - 1;
        if (i < s_loadedDuring.Length)
        {
            string? full = args.LoadedAssembly.FullName;
            int comma = full is null ? -1 : full.IndexOf(',', StringComparison.Ordinal);
            s_loadedDuring[i] = comma < 0 ? full : full![..comma];
        }
    }

    // Issue 11 wave 8: the meter is created once System.Diagnostics.DiagnosticSource loads, which the library learns from
    // the AssemblyLoad event (telling the assembly by its manifest module's name). Here it loads only after the library
    // has initialised, when the listener below is made: the listener must still receive the DaemonThreads instruments.
    [Scenario("meter-late-listener")]
    public static int MeterLateListener()
    {
        return ExitRegistry.RunMain(() =>
        {
            bool loadedBefore = IsLoaded("System.Diagnostics.DiagnosticSource");
            Out.Line("DiagnosticSource loaded before the listener: " + (loadedBefore ? "yes" : "no"));
            Out.Line(ListenForTheMeter(TimeSpan.FromSeconds(20)));
            return 0;
        });
    }

    // A listener's callbacks run as a step of the exit when it records the shutdown instruments (and, under NativeAOT,
    // when it creates the meter there): Exit and Shutdown from them must not wait for the sequence that waits for them,
    // what they throw must not end the exit, and one that never returns is bounded like a hook. Argument "idle": nothing to run at exit (the sequence's one
    // lock section); "hook": an at-exit hook, so the full sequence runs. A second argument "block" makes the callback print
    // "stuck" and never return instead; a third sets JoinTimeout in milliseconds.
    [Scenario("meter-callback-exit")]
    public static int MeterCallbackExit(string[] args)
    {
        if (args.Length > 0 && args[0] == "hook")
        {
            ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        }

        if (args.Length > 2)
        {
            ExitRegistry.JoinTimeout = TimeSpan.FromMilliseconds(int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
        }

        return ListenAndExitFromTheCallback(block: args.Length > 1 && args[1] == "block");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static int ListenAndExitFromTheCallback(bool block)
    {
        using var published = new CountdownEvent(6);
        int calls = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener
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
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
        {
            if (instrument.Name != "daemonthreads.shutdown.duration" || Interlocked.Increment(ref calls) != 1)
            {
                return;
            }

            if (block)
            {
                Out.Line("stuck");
                new ManualResetEventSlim().Wait(); // deliberately infinite: the exit must not wait for it without a bound
            }

            try
            {
                ExitRegistry.Exit(5);
                Out.Line("Exit from the listener returned");
            }
            catch (InvalidOperationException)
            {
                Out.Line("Exit from the listener: InvalidOperationException");
            }

            Out.Line("Shutdown from the listener: " + ExitRegistry.Shutdown().Trigger);
            throw new InvalidOperationException("the listener fails on purpose");
        });
        listener.Start();
        _ = ExitRegistry.JoinTimeout; // the library creates its meter on a background thread once it initialises
        if (!published.Wait(TimeSpan.FromSeconds(20)))
        {
            Out.Line("the meter was not published within 20 s");
            return 1;
        }

        int code = ExitRegistry.RunMain(() => 7);
        Out.Line("RunMain returned " + code);
        return code;
    }

    private static bool IsLoaded(string name)
    {
        foreach (System.Reflection.Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (assembly.GetName().Name == name)
            {
                return true;
            }
        }

        return false;
    }

    // Its own method, not inlined: preparing it is what loads DiagnosticSource, so the caller's check runs before the load.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static string ListenForTheMeter(TimeSpan bound)
    {
        using var published = new ManualResetEventSlim();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == "DaemonThreads")
                {
                    published.Set();
                }
            },
        };
        listener.Start();
        return published.Wait(bound) ? "the listener received the DaemonThreads instruments" : "no DaemonThreads instrument within the bound";
    }

    private static readonly AsyncLocal<string?> s_flowed = new();

    // Issue 11 wave 4: the first DaemonThread.ColdStarts starts leave the starter's ExecutionContext alone and add the
    // owner on the new thread. What a body sees must not change: pool code it starts belongs to it, what the starter's
    // context holds flows in as for a raw Thread, and the starter's own context does not get the owner.
    [Scenario("cold-start-owner")]
    public static int ColdStartOwner()
    {
        s_flowed.Value = "from main";
        DaemonThread? fromPool = null;
        string? flowedIn = null;
        var thread = new DaemonThread(() =>
        {
            flowedIn = s_flowed.Value;
            fromPool = Task.Run(() => DaemonThread.Current).GetAwaiter().GetResult();
        }, name: "cold");
        thread.Start();
        thread.Join();
        DaemonThread mainFromPool = Task.Run(() => DaemonThread.Current).GetAwaiter().GetResult();

        Out.Line("pool code in the body belongs to: " + fromPool?.Name);
        Out.Line("flowed from the starter: " + flowedIn);
        Out.Line("pool code in main after the start belongs to: " + mainFromPool.Name);
        return 0;
    }
}
