using System.Globalization;

namespace DaemonThreads.ExitScenarios.Scenarios;

internal static class HookScenarios
{
    // JoinTimeout is one deadline for the whole join step: three stuck threads cost one timeout, not three.
    [Scenario("join-timeout")]
    public static int JoinTimeout()
    {
        ExitRegistry.JoinTimeout = TimeSpan.FromSeconds(2);
        for (int i = 1; i <= 3; i++)
        {
            new DaemonThread(() => Thread.Sleep(Timeout.Infinite), name: "stuck" + i.ToString(CultureInfo.InvariantCulture)).Start();
        }

        var quick = new DaemonThread(() => Out.Line("quick done"), name: "quick");
        quick.Start();
        ShutdownReport report = ExitRegistry.Shutdown();
        Out.Line("timed out: " + string.Join(",", report.TimedOut.Select(t => t.Name).Order(StringComparer.Ordinal)));
        Out.Line("elapsed ms: " + ((int)report.Elapsed.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));

        // Main returns: the runtime must not wait for the timed-out threads either (they were made background).
        return 0;
    }

    // Failing hooks are reported, the others still run, and a failing before-join hook does not abandon threads (B9 #1).
    [Scenario("hooks-throw")]
    public static int HooksThrow()
    {
        using var go = new ManualResetEventSlim();
        var worker = new DaemonThread(() =>
        {
            go.Wait();
            Thread.Sleep(200);
            Out.Line("worker done");
        }, name: "worker");
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit x"));
        ExitRegistry.RegisterAtExit(() =>
        {
            Out.Line("atexit y");
            throw new InvalidOperationException("at-exit hook failed on purpose");
        });
        ExitRegistry.RegisterAtExit(() =>
        {
            Out.Line("atexit z");

            // sys.exit in an atexit callback: reported, and the exit code stays the one the path chose (B8 #88).
            ExitRegistry.Exit(42);
        });
        ExitRegistry.RegisterBeforeJoin(() =>
        {
            Out.Line("before-join a");
            go.Set();
        });
        ExitRegistry.RegisterBeforeJoin(() =>
        {
            Out.Line("before-join b");
            throw new InvalidOperationException("before-join hook failed on purpose");
        });
        worker.Start();
        ShutdownReport report = ExitRegistry.Shutdown();
        Out.Line("hook errors: " + string.Join(",", report.HookErrors.Select(e => e.GetType().Name)));
        return 0;
    }

    // Shutdown() from a non-daemon thread: the caller is not waited for; the other worker is.
    [Scenario("shutdown-from-nondaemon")]
    public static int ShutdownFromNonDaemon()
    {
        using var go = new ManualResetEventSlim();
        var worker = new DaemonThread(() =>
        {
            go.Wait();
            Thread.Sleep(200);
            Out.Line("worker done");
        }, name: "worker");
        ExitRegistry.RegisterBeforeJoin(go.Set);
        worker.Start();
        var caller = new DaemonThread(() =>
        {
            ShutdownReport report = ExitRegistry.Shutdown();
            Out.Line("shutdown returned, joined: " + string.Join(",", report.Joined.Select(t => t.Name)));
        }, name: "caller");
        caller.Start();
        caller.Join();
        return 0;
    }

    // Shutdown() from a hook returns a provisional report instead of waiting for itself.
    [Scenario("shutdown-from-hook")]
    public static int ShutdownFromHook()
    {
        ExitRegistry.RegisterAtExit(() => Out.Line("at-exit sees complete=" + ExitRegistry.Shutdown().IsComplete));
        ExitRegistry.RegisterBeforeJoin(() => Out.Line("before-join sees complete=" + ExitRegistry.Shutdown().IsComplete));
        ShutdownReport report = ExitRegistry.Shutdown();
        Out.Line("main sees complete=" + report.IsComplete);
        return 0;
    }

    // Shutdown() from several non-daemon threads at once: every call returns the same report, each hook runs once.
    [Scenario("shutdown-concurrent")]
    public static int ShutdownConcurrent()
    {
        int beforeJoin = 0;
        int atExit = 0;
        ExitRegistry.RegisterBeforeJoin(() => Interlocked.Increment(ref beforeJoin));
        ExitRegistry.RegisterAtExit(() => Interlocked.Increment(ref atExit));
        const int Callers = 4;
        var reports = new ShutdownReport[Callers];
        using var barrier = new Barrier(Callers);
        var callers = Enumerable.Range(0, Callers).Select(i => new DaemonThread(() =>
        {
            barrier.SignalAndWait();
            reports[i] = ExitRegistry.Shutdown();
        }, name: "caller" + i.ToString(CultureInfo.InvariantCulture))).ToList();
        callers.ForEach(c => c.Start());
        callers.ForEach(c => c.Join());
        Out.Line("before-join ran " + beforeJoin.ToString(CultureInfo.InvariantCulture));
        Out.Line("at-exit ran " + atExit.ToString(CultureInfo.InvariantCulture));
        Out.Line("same report " + reports.All(r => ReferenceEquals(r, reports[0])));
        return 0;
    }

    // SPEC §4: threads started before the point of no return are joined (by a before-join hook, by a non-daemon
    // thread during the join (B2 #48), by an at-exit hook (B8 #90)); after it, a non-daemon start throws (B1 #36), and
    // Join() on a running abandoned daemon throws (B1 #37) while Join() on a finished one succeeds (B1 #38).
    [Scenario("start-during-shutdown")]
    public static int StartDuringShutdown()
    {
        var busyDaemon = new DaemonThread(() => Thread.Sleep(Timeout.Infinite), name: "busy", isDaemon: true);
        var finishedDaemon = new DaemonThread(() => { }, name: "finished", isDaemon: true);
        busyDaemon.Start();
        finishedDaemon.Start();
        finishedDaemon.Join();
        var thread1 = new DaemonThread(() =>
        {
            // Simulated work: thread2 starts while the exit wait is already running.
            Thread.Sleep(300);
            new DaemonThread(() =>
            {
                Thread.Sleep(300);
                Out.Line("thread2 OK");
            }, name: "thread2").Start();
        }, name: "thread1");
        thread1.Start();
        ExitRegistry.RegisterAtExit(() => new DaemonThread(() =>
        {
            Out.Line("24");
            Thread.Sleep(500);
            Out.Line("42");
        }, name: "from-atexit").Start());
        ExitRegistry.RegisterBeforeJoin(() => new DaemonThread(() =>
        {
            Thread.Sleep(300);
            Out.Line("from-before-join OK");
        }, name: "from-before-join").Start());

        ShutdownReport report = ExitRegistry.Shutdown();
        Out.Line("timed out: " + report.TimedOut.Count.ToString(CultureInfo.InvariantCulture));
        try
        {
            new DaemonThread(() => Out.Line("must not run"), name: "too-late").Start();
            Out.Line("started too late");
        }
        catch (ThreadStateException e)
        {
            Out.Line("start refused: " + e.Message);
        }

        try
        {
            busyDaemon.Join();
            Out.Line("join returned");
        }
        catch (ThreadStateException e)
        {
            Out.Line("join refused: " + e.Message + " alive=" + busyDaemon.IsAlive);
        }

        finishedDaemon.Join();
        Out.Line("all clear!");
        return 0;
    }

    // B6 #77 and B9 #7: registering from inside the run is refused, and the late hook never runs.
    [Scenario("register-after-shutdown")]
    public static int RegisterAfterShutdown()
    {
        ExitRegistry.RegisterAtExit(() =>
        {
            Out.Line("atexit");
            ExitRegistry.RegisterAtExit(() => Out.Line("late at-exit hook ran"));
        });
        ExitRegistry.RegisterBeforeJoin(() =>
        {
            Out.Line("before-join");
            ExitRegistry.RegisterBeforeJoin(() => Out.Line("late before-join hook ran"));
        });
        return 0;
    }

    // B6 #75: a before-join hook's output.
    [Scenario("before-join-output")]
    public static int BeforeJoinOutput()
    {
        ExitRegistry.RegisterBeforeJoin(() => Out.Line("parrot"));
        return 0;
    }

    // B6 #76: a hand-made Shutdown() and then the process's own exit run the hook once.
    [Scenario("before-join-called-once")]
    public static int BeforeJoinCalledOnce()
    {
        ExitRegistry.RegisterBeforeJoin(() => Out.Line("hook"));
        _ = ExitRegistry.Shutdown();
        return 0;
    }

    // B8 #85: newest first.
    [Scenario("atexit-order")]
    public static int AtExitOrder()
    {
        ExitRegistry.RegisterAtExit(() => Out.Line("one"));
        ExitRegistry.RegisterAtExit(() => Out.Line("two"));
        return 0;
    }

    // B9 #4: an at-exit hook can signal a daemon thread and join it, so that its finally block runs.
    [Scenario("atexit-joins-daemon")]
    public static int AtExitJoinsDaemon() => ExitRegistry.RunMain(() =>
    {
        var stop = new ManualResetEventSlim();
        var daemon = new DaemonThread(() =>
        {
            try
            {
                stop.Wait();
            }
            finally
            {
                Out.Line("daemon finally");
            }
        }, name: "daemon", isDaemon: true);
        daemon.Start();
        ExitRegistry.RegisterAtExit(() =>
        {
            stop.Set();
            daemon.Join();
            Out.Line("atexit joined daemon");
        });
        return 0;
    });

    // B9 #6: a non-daemon timer delays exit until it fires; cancelling it from a before-join hook avoids the wait.
    [Scenario("timer")]
    public static int Timer(string[] args) => ExitRegistry.RunMain(() =>
    {
        bool cancel = args[0] == "cancel";
        var timer = new DaemonTimer(TimeSpan.FromSeconds(cancel ? 60 : 1), () => Out.Line("timer fired"), name: "timer");
        timer.Start();
        if (cancel)
        {
            ExitRegistry.RegisterBeforeJoin(timer.Cancel);
        }

        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        return 0;
    });
}
