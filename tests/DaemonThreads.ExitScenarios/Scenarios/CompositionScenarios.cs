namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>
/// Issue 9: the exit promise when the pieces are combined (a handler that exits, a hook that joins a thread that exits,
/// a signal during a hook, Environment.Exit while another path runs). Each was a hang or a lost exit code before the
/// exit sequence became one state machine over one wait primitive.
/// </summary>
internal static class CompositionScenarios
{
    // #1: the natural report handler chooses the exit code; it used to wait on itself for ever.
    [Scenario("report-handler-exits")]
    public static int ReportHandlerExits() => ExitRegistry.RunMain(() =>
    {
        ExitRegistry.JoinTimeout = TimeSpan.FromMilliseconds(200);
        ExitRegistry.ReportHandler = r =>
        {
            Out.Line("report timed out " + r.TimedOut.Count);
            ExitRegistry.Exit(r.TimedOut.Count > 0 ? 1 : 0);
        };
        new DaemonThread(() => Thread.Sleep(Timeout.Infinite), name: "stuck").Start();
        return 0;
    });

    // #1: Shutdown() from the report handler returns the report being published.
    [Scenario("report-handler-shutdown")]
    public static int ReportHandlerShutdown() => ExitRegistry.RunMain(() =>
    {
        ShutdownReport? published = null;
        ExitRegistry.ReportHandler = r =>
        {
            published = r;
            Out.Line("same report " + ReferenceEquals(ExitRegistry.Shutdown(), r));
        };
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        return 4;
    });

    // #2: Environment.Exit from a non-daemon thread that RunMain's sequence is joining. The caller cannot be identified,
    // so it is given up on after the quiet period (30 s) once it is the only work left and it sits in a wait.
    [Scenario("envexit-from-joined-thread")]
    public static int EnvironmentExitFromJoinedThread() => ExitRegistry.RunMain(() =>
    {
        var go = new ManualResetEventSlim();
        ExitRegistry.RegisterBeforeJoin(go.Set);
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        new DaemonThread(() =>
        {
            go.Wait();
            Out.Line("caller exiting");
            Environment.Exit(6);
        }, name: "caller").Start();
        return 0;
    });

    // #3: two non-daemon threads call Environment.Exit at once: the "all but one" wait used to never end.
    [Scenario("envexit-two-threads")]
    public static int EnvironmentExitFromTwoThreads()
    {
        using var barrier = new Barrier(2);
        for (int i = 0; i < 2; i++)
        {
            int code = 3 + i;
            new DaemonThread(() =>
            {
                barrier.SignalAndWait();
                Environment.Exit(code);
            }, name: "caller" + code).Start();
        }

        ExitPathScenarios.WaitForEver();
        return 0;
    }

    // #4: a before-join hook joins a worker that, on its way out, calls Shutdown() (it gets an answer at once) or
    // ExitRegistry.Exit (it claims the code and its body ends).
    [Scenario("hook-joins-worker")]
    public static int HookJoinsWorker(string[] args) => ExitRegistry.RunMain(() =>
    {
        var go = new ManualResetEventSlim();
        var worker = new DaemonThread(() =>
        {
            go.Wait();
            if (args[0] == "shutdown")
            {
                ShutdownReport report = ExitRegistry.Shutdown();
                Out.Line("worker got a report, complete " + report.IsComplete);
                return;
            }

            try
            {
                ExitRegistry.Exit(8);
            }
            finally
            {
                Out.Line("worker unwound");
            }
        }, name: "worker");
        ExitRegistry.RegisterBeforeJoin(() =>
        {
            go.Set();
            worker.Join();
            Out.Line("hook joined the worker");
        });
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        worker.Start();
        return 0;
    });

    // #5: ExitRegistry.Exit from an application's ProcessExit handler registered before the library's own.
    [Scenario("app-processexit-exits")]
    public static int AppProcessExitHandlerExits()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            Out.Line("app handler");
            ExitRegistry.Exit(11);
            Out.Line("app handler returned");
        };
        var worker = new DaemonThread(() =>
        {
            Thread.Sleep(200);
            Out.Line("worker done");
        }, name: "worker");
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        worker.Start();
        return 0;
    }

    // #6: after RunMain the process lingers on a raw foreground thread: a signal takes its default action.
    [Scenario("signal-after-runmain")]
    public static int SignalAfterRunMain()
    {
        int code = ExitRegistry.RunMain(() => 0);
        new Thread(() =>
        {
            Out.Ready();
            Thread.Sleep(Timeout.Infinite);
        }).Start();
        return code;
    }

    // #7: a hook, a ShuttingDown callback or the report handler that never returns: the second signal ends the step.
    [Scenario("stuck-user-code")]
    public static int StuckUserCode(string[] args) => ExitRegistry.RunMain(() =>
    {
        var never = new ManualResetEventSlim();
        switch (args[0])
        {
            case "before-join":
                ExitRegistry.RegisterBeforeJoin(() =>
                {
                    Out.Line("stuck");
                    never.Wait();
                });
                break;
            case "at-exit":
                ExitRegistry.RegisterAtExit(() =>
                {
                    Out.Line("stuck");
                    never.Wait();
                });
                break;
            case "token":
                ExitRegistry.ShuttingDown.Register(() =>
                {
                    Out.Line("stuck");
                    never.Wait();
                });
                break;
            default:
                ExitRegistry.ReportHandler = _ =>
                {
                    Out.Line("stuck");
                    never.Wait();
                };
                break;
        }

        if (args.Length > 1)
        {
            ExitRegistry.JoinTimeout = TimeSpan.FromMilliseconds(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
        }

        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        return 0;
    });

    // #14: SIGINT under RunMain: main unwinds (its finally runs) before the at-exit hook, which saves every item.
    [Scenario("signal-runmain-unwinds")]
    public static int SignalRunMainUnwinds()
    {
        var items = new List<int>();
        ExitRegistry.RegisterAtExit(() =>
        {
            lock (items)
            {
                Out.Line("hook saved " + items.Count);
            }
        });
        return ExitRegistry.RunMain(token =>
        {
            try
            {
                for (int i = 0; !token.IsCancellationRequested; i++)
                {
                    lock (items)
                    {
                        items.Add(i);
                    }

                    if (i == 3)
                    {
                        Out.Ready();
                    }

                    token.WaitHandle.WaitOne(5);
                }
            }
            finally
            {
                lock (items)
                {
                    Out.Line("finally " + items.Count);
                }
            }

            return 0;
        });
    }

    // #14, async: the token form of an async main.
    [Scenario("signal-runmain-async")]
    public static int SignalRunMainAsync()
    {
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        return ExitRegistry.RunMain(async token =>
        {
            try
            {
                Out.Ready();
                await Task.Delay(Timeout.Infinite, token);
            }
            finally
            {
                Out.Line("finally");
            }
        });
    }

    // A main that ignores the token is waited for until JoinTimeout, then named.
    [Scenario("signal-runmain-ignores-token")]
    public static int SignalRunMainIgnoresToken() => ExitRegistry.RunMain(() =>
    {
        ExitRegistry.JoinTimeout = TimeSpan.FromMilliseconds(300);
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        Out.Ready();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    });

    // Smaller: an undefined trigger is refused, and the sequence has not begun (a later exit works normally).
    [Scenario("shutdown-bad-trigger")]
    public static int ShutdownBadTrigger()
    {
        try
        {
            ExitRegistry.Shutdown((ShutdownTrigger)999);
        }
        catch (ArgumentOutOfRangeException e)
        {
            Out.Line("refused " + e.GetType().Name);
        }

        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        ExitRegistry.Exit(5);
        return 0;
    }

    // Smaller: Thread.Interrupt on the thread that runs the sequence must not crash the exit or lose the worker.
    [Scenario("interrupt-runner")]
    public static int InterruptRunner()
    {
        Thread mainThread = Thread.CurrentThread;
        return ExitRegistry.RunMain(() =>
        {
            var go = new ManualResetEventSlim();
            new DaemonThread(() =>
            {
                go.Wait();
                Thread.Sleep(300);
                Out.Line("worker done");
            }, name: "worker").Start();
            ExitRegistry.RegisterBeforeJoin(() =>
            {
                go.Set();
                mainThread.Interrupt();
            });
            ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
            return 0;
        });
    }

    // Windows' console rule, simulated (DAEMONTHREADS_SIMULATE_WINDOWS_CONSOLE): the handler must not return before the
    // process has exited with the sequence's code.
    [Scenario("windows-console-signal")]
    public static int WindowsConsoleSignal(string[] args)
    {
        Cast.Start();
        if (args.Length > 0)
        {
            ExitRegistry.RegisterAtExit(() => Thread.Sleep(int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture)));
        }

        Out.Ready();
        ExitPathScenarios.WaitForEver();
        return 0;
    }

    // Hooks read why the process exits.
    [Scenario("hook-reads-trigger")]
    public static int HookReadsTrigger()
    {
        ExitRegistry.RegisterAtExit(() => Out.Line($"trigger {ExitRegistry.Trigger} signal {ExitRegistry.SignalNumber}"));
        Out.Line($"before {ExitRegistry.Trigger?.ToString() ?? "none"}");
        Out.Ready();
        ExitPathScenarios.WaitForEver();
        return 0;
    }

    // Pool code owned by a non-daemon thread calls Exit: the thread is not exempted, its records are all written.
    [Scenario("pool-exit-from-owned-task")]
    public static int PoolExitFromOwnedTask()
    {
        new DaemonThread(() =>
        {
            _ = Task.Run(() => ExitRegistry.Exit(0));
            for (int i = 0; i < 100; i++)
            {
                Out.Line("rec " + i);
                Thread.Sleep(2);
            }
        }, name: "writer").Start();
        ExitPathScenarios.WaitForEver();
        return 0;
    }
}

/// <summary>Issue 9 #8: starts racing the end of the join and the point of no return.</summary>
internal static class StartRaceScenarios
{
    // A raw thread starts short non-daemon writers while SIGTERM's sequence joins them. Every start that succeeds must be
    // joined (JoinTimeout is infinite), and every start after the point of no return refused: a start that succeeded
    // used to be able to land between the last wait and the point of no return and be killed mid-work.
    [Scenario("start-race")]
    public static int StartRace()
    {
        ExitRegistry.RegisterBeforeJoin(() => Out.Line("before-join"));
        var starter = new Thread(() =>
        {
            for (int i = 0; i < 400; i++)
            {
                int n = i;
                var writer = new DaemonThread(() =>
                {
                    Thread.SpinWait(2000);
                    Out.Line("done " + n);
                }, name: "w" + n, isDaemon: false);
                try
                {
                    writer.Start();
                }
                catch (ThreadStateException)
                {
                    Out.Line("refused " + n);
                    return;
                }

                Out.Line("started " + n);
                if (n == 20)
                {
                    Out.Ready();
                }
            }
        })
        { IsBackground = true };
        starter.Start();
        ExitPathScenarios.WaitForEver();
        return 0;
    }
}
