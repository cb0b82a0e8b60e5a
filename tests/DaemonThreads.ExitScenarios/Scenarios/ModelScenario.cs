using System.Collections.Concurrent;
using DaemonThreads.Testing.Model;

namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>
/// The one generic scenario of the model-based exit test (ExitModelTests): interprets a generated
/// <see cref="ModelProgram"/> given as its only argument, under <c>RunMain</c>.
/// </summary>
/// <remarks>
/// Output, one line each: <c>begin W1</c> and <c>rec W1 i</c> from workers, <c>hook B2</c> from hooks,
/// <c>hook-refused B2</c> / <c>start-refused W3</c> (also from hooks that start workers, P and Q) when the exit refused a registration or a start, <c>MARK</c> at a
/// signal's exit point, <c>TOKEN</c> when main saw its token cancelled, <c>report timedout=a,b</c> and
/// <c>report abandoned-hooks=N</c> from the report handler, and <c>exitcode N</c> from an application ProcessExit handler that runs after the library's.
/// </remarks>
internal static class ModelScenario
{
    [Scenario("model")]
    public static int Model(string[] args)
    {
        ModelProgram program = ModelProgram.Parse(args[0]);
        return ExitRegistry.RunMain(token => new Interpreter(program).RunMain(token));
    }

    private sealed class Interpreter(ModelProgram program)
    {
        private readonly ConcurrentDictionary<int, DaemonThread> _workers = new();

        public int RunMain(CancellationToken token)
        {
            if (program.JoinTimeoutMs is int timeout)
            {
                ExitRegistry.JoinTimeout = TimeSpan.FromMilliseconds(timeout);
            }

            if (program.ReportHandler)
            {
                ExitRegistry.ReportHandler = report =>
                {
                    Out.Line("report timedout=" + string.Join(",", report.TimedOut.Select(t => t.Name)));
                    Out.Line("report abandoned-hooks=" + report.Unfinished.Count(u => u.Kind == ExitWorkKind.Hook));
                };
            }

            // Registered after the library's own handler (installed by RunMain), so it runs last.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Out.Line("exitcode " + Environment.ExitCode);

            if (program.OpsOf('d').Any())
            {
                new DaemonThread(() => Run('d'), name: "drv").Start();
            }

            foreach (ModelOp op in program.OpsOf('m'))
            {
                if (op.Kind != ModelOpKind.ExitPoint)
                {
                    Execute(op);
                    continue;
                }

                switch (program.Exit)
                {
                    case ModelExit.Return:
                        return program.ExitCode;
                    case ModelExit.Exit:
                        ExitRegistry.Exit(program.ExitCode);
                        break;
                    default:
                        Out.Line("MARK");
                        break;
                }
            }

            if (program.Exit is ModelExit.Signal or ModelExit.SignalTwice)
            {
                // Deliberately infinite: the parent's signal cancels it.
                token.WaitHandle.WaitOne();
                Out.Line("TOKEN");
                if (program.ExitCode != 0)
                {
                    // The sequence already runs: the code is claimed after the signal's, and main ends here.
                    Out.Line("main exits");
                    ExitRegistry.Exit(program.ExitCode);
                }
            }

            return 0;
        }

        private void Run(char issuer)
        {
            foreach (ModelOp op in program.OpsOf(issuer))
            {
                Execute(op);
            }
        }

        private void Execute(ModelOp op)
        {
            switch (op.Kind)
            {
                case ModelOpKind.Worker:
                    Start(op, new DaemonThread(() => Work(op), name: op.Name));
                    break;
                case ModelOpKind.Stuck:
                    Start(op, new DaemonThread(
                        () =>
                        {
                            Out.Line("begin " + op.Name);
                            Thread.Sleep(Timeout.Infinite);
                        },
                        name: op.Name));
                    break;
                case ModelOpKind.Daemon:
                    Start(op, new DaemonThread(
                        () =>
                        {
                            while (true)
                            {
                                Out.Line("dmn " + op.Name);
                                Thread.Sleep(5);
                            }
                        },
                        name: op.Name,
                        isDaemon: true));
                    break;
                case ModelOpKind.Join:
                    try
                    {
                        _workers[op.Id].Join();
                        Out.Line("joined " + op.Name);
                    }
                    catch (Exception ex) when (ex is ThreadStateException or InvalidOperationException)
                    {
                        // The worker's start was refused (the exit passed its point of no return).
                        Out.Line("join-failed " + op.Name);
                    }

                    break;
                case ModelOpKind.BeforeJoin:
                    Register(op, ExitRegistry.RegisterBeforeJoin);
                    break;
                case ModelOpKind.AtExit:
                    Register(op, ExitRegistry.RegisterAtExit);
                    break;
                case ModelOpKind.BeforeJoinStarter:
                    Register(op, ExitRegistry.RegisterBeforeJoin, () => Start(op, new DaemonThread(() => Work(op), name: op.Name)));
                    break;
                case ModelOpKind.AtExitStarter:
                    Register(op, ExitRegistry.RegisterAtExit, () => Start(op, new DaemonThread(() => Work(op), name: op.Name)));
                    break;
            }
        }

        private void Start(ModelOp op, DaemonThread thread)
        {
            _workers[op.Id] = thread;
            try
            {
                thread.Start();
            }
            catch (ThreadStateException)
            {
                Out.Line("start-refused " + op.Name);
            }
        }

        private void Work(ModelOp op)
        {
            Out.Line("begin " + op.Name);
            for (int i = 0; i < op.Records; i++)
            {
                // A little work before each record; Sleep(0) only yields.
                Thread.Sleep(op.WorkMs);
                Out.Line($"rec {op.Name} {i}");
            }

            if (program.Exit == ModelExit.WorkerExit && program.ExitWorker == op.Id)
            {
                Out.Line("exiting " + op.Name);
                ExitRegistry.Exit(program.ExitCode);
            }
        }

        private static void Register(ModelOp op, Action<Action> register, Action? then = null)
        {
            try
            {
                register(() =>
                {
                    Out.Line("hook " + op.Name);
                    then?.Invoke();
                });
            }
            catch (InvalidOperationException)
            {
                Out.Line("hook-refused " + op.Name);
            }
        }
    }
}
