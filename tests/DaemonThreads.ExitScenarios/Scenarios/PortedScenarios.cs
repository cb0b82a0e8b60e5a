namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>CPython's own subprocess tests, ported (the test tables are in reference/cpython-semantics.md, Part B).</summary>
internal static class PortedScenarios
{
    // B1 #10 test_join_nondaemon_on_shutdown: SystemExit in main still joins non-daemon threads.
    [Scenario("join-nondaemon-on-shutdown")]
    public static int JoinNonDaemonOnShutdown() => ExitRegistry.RunMain(() =>
    {
        new DaemonThread(() =>
        {
            Thread.Sleep(1000);
            Out.Line("Woke up");
        }, name: "child").Start();
        throw new ThreadExitException();
    });

    // B1 #23 test_main_thread_during_shutdown: late in the exit, Current/Main/Enumerate still answer consistently.
    [Scenario("main-thread-during-shutdown")]
    public static int MainThreadDuringShutdown(string[] args)
    {
        ExitRegistry.RegisterAtExit(() =>
        {
            DaemonThread main = DaemonThread.Main;
            IReadOnlyList<DaemonThread> all = DaemonThread.Enumerate();
            Out.Line($"GC: {DaemonThread.Current == main} {main.Name == "MainThread"} {all.Count == 1 && all[0] == main}");
        });
        if (args[0] == "explicit")
        {
            _ = ExitRegistry.Shutdown();
        }

        return 0;
    }

    // B1 #24 test_finalization_shutdown: the exit waits until the thread has completely finished, cleanup included.
    [Scenario("finalization-shutdown")]
    public static int FinalizationShutdown() => ExitRegistry.RunMain(() =>
        new DaemonThread(() =>
        {
            try
            {
                Out.Line("body");
            }
            finally
            {
                // Simulated slow cleanup.
                Thread.Sleep(300);
                Out.Line("cleanup done");
            }
        }, name: "worker").Start());

    // B1 #34 test_import_from_another_thread: the library is first touched on a foreign thread; exit is still clean.
    [Scenario("first-use-off-main")]
    public static int FirstUseOffMain()
    {
        new Thread(() => _ = DaemonThread.Current).Start();
        return 0;
    }

    // B1 #43 test_stop_the_world_during_finalization: exit while daemon threads are busy is clean.
    [Scenario("busy-daemons")]
    public static int BusyDaemons() => ExitRegistry.RunMain(() =>
    {
        using var running = new CountdownEvent(5);
        for (int i = 0; i < 5; i++)
        {
            new DaemonThread(() =>
            {
                running.Signal();

                // Busy allocating, with a young-generation collection now and then (CPython spins in gc.collect(); five
                // threads doing back-to-back full blocking collections on a 2-core machine starve the main thread for
                // more than 30 s before it even prints, which tests the machine, not the exit).
                object?[] keep = new object?[64];
                for (long n = 0; ; n++)
                {
                    keep[n & 63] = new byte[256];
                    if ((n & 0xFFFFF) == 0)
                    {
                        GC.Collect(0);
                    }
                }
            }, name: "spinner" + i, isDaemon: true).Start();
        }

        running.Wait();
        Out.Line("Exiting...");
    });

    // B2 #44 test_1_join_on_shutdown: joining the main thread returns when main's code ends.
    [Scenario("join-main")]
    public static int JoinMain() => ExitRegistry.RunMain(() =>
    {
        new DaemonThread(() =>
        {
            DaemonThread.Main.Join();
            Out.Line("end of thread");
        }, name: "joiner").Start();
        Thread.Sleep(100);
        Out.Line("end of main");
    });

    // B2 #47 test_4_daemon_threads: 40 daemon threads doing file I/O, then Exit(0): no crash, no noise but the report.
    [Scenario("daemon-io")]
    public static int DaemonIo(string[] args)
    {
        string directory = args[0];
        using var ran = new CountdownEvent(40);
        for (int i = 0; i < 40; i++)
        {
            string path = Path.Combine(directory, "daemon" + i + ".txt");
            new DaemonThread(() =>
            {
                bool first = true;
                while (true)
                {
                    File.WriteAllText(path, new string('x', Random.Shared.Next(1, 4096)));
                    _ = File.ReadAllText(path);
                    if (first)
                    {
                        first = false;
                        ran.Signal();
                    }
                }
            }, name: "io" + i, isDaemon: true).Start();
        }

        ran.Wait();
        ExitRegistry.Exit(0);
        return 0;
    }

    // B2 #48 test_thread_from_thread: a thread started during the exit wait is also waited for.
    [Scenario("thread-from-thread")]
    public static int ThreadFromThread() => ExitRegistry.RunMain(() =>
        new DaemonThread(() =>
        {
            Thread.Sleep(50);
            new DaemonThread(() =>
            {
                Thread.Sleep(300);
                Out.Line("OK");
            }, name: "thread2").Start();
        }, name: "thread1").Start());

    // B3 #51 test_threads_join_with_no_main: a before-join hook signals a worker and joins it.
    [Scenario("hook-signals-and-joins")]
    public static int HookSignalsAndJoins() => ExitRegistry.RunMain(() =>
    {
        using var started = new ManualResetEventSlim();
        var done = new ManualResetEventSlim();
        var worker = new DaemonThread(() =>
        {
            Out.Line("I");
            started.Set();
            done.Wait();
            Out.Line("D");
        }, name: "worker");
        worker.Start();
        started.Wait();
        ExitRegistry.RegisterBeforeJoin(() =>
        {
            Out.Line("F");
            done.Set();
            worker.Join();
        });
    });
}
