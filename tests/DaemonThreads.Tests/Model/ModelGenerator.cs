using CsCheck;
using DaemonThreads.Testing.Model;

namespace DaemonThreads.Tests.Model;

/// <summary>CsCheck generator of exit programs for the <c>model</c> scenario.</summary>
/// <remarks>
/// CsCheck draws raw operations; <see cref="Build"/> makes them a valid program: ids in order, a join only of a worker
/// its issuer started earlier, a never-ending worker only where something bounds the exit (a finite JoinTimeout or a
/// second signal: otherwise the exit would rightly wait for ever), a worker exit only from a worker that exists, and
/// the exit point where the exit action needs one. Hooks that start workers (P, Q) test the join's re-scan and the
/// point of no return.
/// </remarks>
internal static class ModelGenerator
{
    private static readonly Gen<RawOp> s_op = Gen.Select(
        Gen.Frequency((5, ModelOpKind.Worker), (1, ModelOpKind.Stuck), (1, ModelOpKind.Daemon), (2, ModelOpKind.Join), (2, ModelOpKind.BeforeJoin), (2, ModelOpKind.AtExit), (1, ModelOpKind.BeforeJoinStarter), (1, ModelOpKind.AtExitStarter)),
        Gen.Int[0, 2],
        Gen.Int[1, 12],
        Gen.Int[0, 3],
        Gen.Int[0, 99],
        (kind, issuer, records, workMs, pick) => new RawOp(kind, issuer == 0, records, workMs, pick));

    /// <summary>Gets the program generator.</summary>
    public static Gen<ModelProgram> Program { get; } = Gen.Select(
        Gen.Frequency((3, -1), (1, 200), (1, 500), (1, 1000)),
        Gen.Bool,
        Gen.OneOf(ModelExit.Return, ModelExit.Exit, ModelExit.WorkerExit, ModelExit.Signal, ModelExit.SignalTwice),
        Gen.Int[1, 99],
        s_op.Array[1, 8],
        Gen.Int[0, 99],
        Gen.Int[0, 99],
        Build);

    /// <summary>The <paramref name="index"/>-th program of the run with <paramref name="seed"/>: the same on every machine.</summary>
    public static ModelProgram Generate(ulong seed, int index) => Program.Generate(new PCG((uint)index, seed), null, out _);

    private static ModelProgram Build(int timeoutMs, bool reportHandler, ModelExit exit, int code, RawOp[] raw, int exitAt, int exitPick)
    {
        int? joinTimeout = timeoutMs < 0 ? null : timeoutMs;
        bool bounded = joinTimeout is not null || exit == ModelExit.SignalTwice;
        var ops = new List<ModelOp>();
        int id = 0;
        foreach (RawOp op in raw)
        {
            char issuer = op.ByDriver ? 'd' : 'm';
            switch (op.Kind)
            {
                case ModelOpKind.Join:
                    List<ModelOp> started = [.. ops.Where(o => o.Issuer == issuer && o.Kind == ModelOpKind.Worker)];
                    if (started.Count > 0)
                    {
                        ops.Add(new ModelOp(issuer, ModelOpKind.Join, started[op.Pick % started.Count].Id));
                    }

                    break;
                case ModelOpKind.Worker:
                case ModelOpKind.Stuck when !bounded:
                    ops.Add(new ModelOp(issuer, ModelOpKind.Worker, id++, op.Records, op.WorkMs));
                    break;
                case ModelOpKind.BeforeJoinStarter:
                case ModelOpKind.AtExitStarter:
                    ops.Add(new ModelOp(issuer, op.Kind, id++, op.Records, op.WorkMs));
                    break;
                default:
                    ops.Add(new ModelOp(issuer, op.Kind, id++));
                    break;
            }
        }

        int exitWorker = -1;
        if (exit == ModelExit.WorkerExit)
        {
            List<ModelOp> workers = [.. ops.Where(o => o.Kind == ModelOpKind.Worker)];
            if (workers.Count == 0)
            {
                exit = ModelExit.Return;
            }
            else
            {
                exitWorker = workers[exitPick % workers.Count].Id;
            }
        }

        var exitPoint = new ModelOp('m', ModelOpKind.ExitPoint, -1);
        if (exit is ModelExit.Return or ModelExit.Exit)
        {
            // Main ends there: nothing of main's may follow.
            ops.Add(exitPoint);
        }
        else if (exit is ModelExit.Signal or ModelExit.SignalTwice)
        {
            // Main goes on after the mark, racing with the signal's sequence.
            int mainOps = ops.Count(o => o.Issuer == 'm');
            int after = exitAt % (mainOps + 1);
            int position = after == 0 ? 0 : ops.FindIndex(o => o.Issuer == 'm' && --after == 0) + 1;
            ops.Insert(position, exitPoint);
        }

        // After a signal, half the programs have main call ExitRegistry.Exit(code) once it saw its token (that claim loses).
        return new ModelProgram(joinTimeout, reportHandler, exit, (exit is ModelExit.Signal or ModelExit.SignalTwice && code % 2 == 1) ? 0 : code, exitWorker, ops);
    }

    private readonly record struct RawOp(ModelOpKind Kind, bool ByDriver, int Records, int WorkMs, int Pick);
}
