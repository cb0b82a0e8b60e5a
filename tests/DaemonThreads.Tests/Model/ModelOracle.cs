using System.Globalization;
using DaemonThreads.Testing.Model;

namespace DaemonThreads.Tests.Model;

/// <summary>
/// What a finished run of a <see cref="ModelProgram"/> must show, whatever the interleaving: the model's prediction of
/// the exit code and the invariants of the exit sequence (SPEC §3.2, 5.1, 5.5).
/// </summary>
internal sealed class ModelOracle
{
    /// <summary>Slack over the program's own bound: start-up of a runtime on the loaded 2-core machine, and scheduling.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(10);

    private const string TimedOutPrefix = "DaemonThreads: shutdown stopped waiting for ";

    private readonly ModelProgram _program;
    private readonly ScenarioResult _result;
    private readonly HashSet<string> _timedOut;
    private readonly List<string> _lines;

    public ModelOracle(ModelProgram program, ScenarioResult result)
    {
        _program = program;
        _result = result;
        _lines = [.. result.Stdout.Where(l => !l.StartsWith("dmn ", StringComparison.Ordinal))];
        _timedOut = [.. TimedOutNames(result)];
    }

    /// <summary>Gets the names the report handler or the stderr line gave as timed out.</summary>
    public IReadOnlySet<string> TimedOut => _timedOut;

    /// <summary>Gets a value indicating whether the report (handler line or stderr) says a hook was abandoned at its bound.</summary>
    public bool HooksAbandoned => _lines.Any(l => l.StartsWith("report abandoned-hooks=", StringComparison.Ordinal) && l != "report abandoned-hooks=0")
        || _result.Stderr.Contains("hook(s) still running", StringComparison.Ordinal);

    /// <summary>Gets how many starts or hook registrations the exit refused (a race the program reached).</summary>
    public int Refusals => _lines.Count(l => l.StartsWith("start-refused ", StringComparison.Ordinal) || l.StartsWith("hook-refused ", StringComparison.Ordinal));

    /// <summary>The longest the run may take: each bounded step (main after a signal, the join, the at-exit joins) waits at most JoinTimeout, plus the workers' own work.</summary>
    public static TimeSpan Bound(ModelProgram program)
    {
        double work = program.Ops.Where(o => o.WritesRecords).Sum(o => o.Records * (o.WorkMs + 1));
        double steps = program.JoinTimeoutMs is int t ? 3.0 * t : 0;
        return TimeSpan.FromMilliseconds(work + steps) + Slack;
    }

    /// <summary>Gets the exit codes the model allows: the first claimer's.</summary>
    public IReadOnlySet<int> ExpectedCodes()
    {
        switch (_program.Exit)
        {
            case ModelExit.Signal:
            case ModelExit.SignalTwice:
                return new HashSet<int> { 143 };
            case ModelExit.WorkerExit:
                // The worker is non-daemon, so it claims its code before the join ends, unless the exit stopped waiting
                // for it (or for the driver that starts it) or refused its start; then main's 0 may be first.
                string worker = "W" + _program.ExitWorker.ToString(CultureInfo.InvariantCulture);
                return _timedOut.Count > 0 || _lines.Contains("start-refused " + worker)
                    ? new HashSet<int> { _program.ExitCode, 0 }
                    : new HashSet<int> { _program.ExitCode };
            default:
                return new HashSet<int> { _program.ExitCode };
        }
    }

    /// <summary>Returns every violated invariant (empty when the run is consistent with the model).</summary>
    public List<string> Violations()
    {
        var violations = new List<string>();
        void Require(bool condition, string what)
        {
            if (!condition)
            {
                violations.Add(what);
            }
        }

        // Exactly one exit code, the one the model predicts; the last ProcessExit handler sees the same.
        IReadOnlySet<int> expected = ExpectedCodes();
        Require(expected.Contains(_result.ExitCode), $"exit code {_result.ExitCode}, the model allows {string.Join(" or ", expected)}");
        string[] printed = [.. _lines.Where(l => l.StartsWith("exitcode ", StringComparison.Ordinal))];
        Require(printed.Length <= 1, "the ProcessExit handler ran more than once");
        Require(printed.All(l => l == "exitcode " + _result.ExitCode.ToString(CultureInfo.InvariantCulture)), $"the ProcessExit handler saw another code ({string.Join(",", printed)})");

        // Nothing waits beyond the bound.
        TimeSpan bound = Bound(_program);
        Require(_result.Elapsed < bound, $"took {_result.Elapsed.TotalSeconds:F2} s, over the bound {bound.TotalSeconds:F2} s");

        // Non-daemon work: every record of a worker that began, or the worker is named as timed out.
        HashSet<ModelOp> certain = [.. CertainlyBeforeTheExit()];
        foreach (ModelOp op in _program.Ops.Where(o => o.WritesRecords || o.Kind == ModelOpKind.Stuck))
        {
            string name = op.Name;
            bool began = _lines.Contains("begin " + name);
            bool named = _timedOut.Contains(name);
            if (certain.Contains(op) && op.Kind is ModelOpKind.Worker or ModelOpKind.Stuck)
            {
                Require(!_lines.Contains("start-refused " + name), $"{name} was started before the exit, yet its start was refused");
                Require(began || named, $"{name} was started before the exit: it must run, or be named as timed out");
            }

            if (op.Kind == ModelOpKind.Stuck)
            {
                Require(!began || named, $"{name} never ends: it must be named as timed out");
                continue;
            }

            if (op.Kind is ModelOpKind.BeforeJoinStarter or ModelOpKind.AtExitStarter && _lines.Contains("hook " + name) && _program.Exit != ModelExit.SignalTwice && !HooksAbandoned)
            {
                // A hook runs before the point of no return, so what it starts is joined (SPEC §4: "before: joined"),
                // unless the hook step's bound (JoinTimeout) passed first and the hook was abandoned (SPEC 5.3; seen only
                // under heavy load, with a 200 ms bound).
                Require(!_lines.Contains("start-refused " + name), $"hook {name} ran, yet the start of its worker was refused");
                Require(began || named, $"hook {name} started a worker: it must run, or be named as timed out");
            }

            int[] records = [.. _lines.Where(l => l.StartsWith($"rec {name} ", StringComparison.Ordinal)).Select(l => int.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))];
            Require(records.Length == records.Distinct().Count(), $"{name} wrote a record twice");
            Require(!began || named || records.Order().SequenceEqual(Enumerable.Range(0, op.Records)), $"{name} wrote {records.Length} of its {op.Records} records and is not named as timed out");
        }

        // Hooks: each at most once; those registered before the exit exactly once, newest first, before-join ones before
        // at-exit ones (not checked when a second signal or a hook step's bound ended a hook step: the rest are abandoned).
        foreach (ModelOp op in _program.Ops.Where(o => o.Kind is ModelOpKind.BeforeJoin or ModelOpKind.AtExit or ModelOpKind.BeforeJoinStarter or ModelOpKind.AtExitStarter))
        {
            int runs = _lines.Count(l => l == "hook " + op.Name);
            Require(runs <= 1, $"hook {op.Name} ran {runs} times");
            if (certain.Contains(op) && _program.Exit != ModelExit.SignalTwice && !HooksAbandoned)
            {
                Require(runs == 1 && !_lines.Contains("hook-refused " + op.Name), $"hook {op.Name} was registered before the exit and must run once");
            }
        }

        if (_program.Exit != ModelExit.SignalTwice && !HooksAbandoned)
        {
            List<ModelOp> ops = [.. _program.Ops];
            List<int> order = [.. certain.Where(o => IsBeforeJoinHook(o) || IsAtExitHook(o))
                .OrderBy(o => IsAtExitHook(o)).ThenByDescending(ops.IndexOf).Select(o => _lines.IndexOf("hook " + o.Name))];
            Require(order.SequenceEqual(order.Order()), "the hooks registered before the exit did not run before-join first, newest first");
        }

        Require(_lines.Count(l => l.StartsWith("exiting ", StringComparison.Ordinal)) <= 1, "the exiting worker ran twice");
        Require(!_result.Stderr.Contains("xception", StringComparison.Ordinal), "stderr shows an exception");
        return violations;
    }

    private static bool IsBeforeJoinHook(ModelOp op) => op.Kind is ModelOpKind.BeforeJoin or ModelOpKind.BeforeJoinStarter;

    private static bool IsAtExitHook(ModelOp op) => op.Kind is ModelOpKind.AtExit or ModelOpKind.AtExitStarter;

    /// <summary>Main's operations that certainly ran before any exit path: before the exit point, or before main starts the exiting worker.</summary>
    private IEnumerable<ModelOp> CertainlyBeforeTheExit()
    {
        if (_program.Exit == ModelExit.WorkerExit && !_program.OpsOf('m').Any(o => o.Kind == ModelOpKind.Worker && o.Id == _program.ExitWorker))
        {
            // The driver starts the exiting worker: it may exit before main did anything.
            yield break;
        }

        foreach (ModelOp op in _program.OpsOf('m'))
        {
            if (op.Kind == ModelOpKind.ExitPoint || (_program.Exit == ModelExit.WorkerExit && op.Kind == ModelOpKind.Worker && op.Id == _program.ExitWorker))
            {
                yield break;
            }

            yield return op;
        }
    }

    private static IEnumerable<string> TimedOutNames(ScenarioResult result)
    {
        foreach (string line in result.Stdout.Where(l => l.StartsWith("report timedout=", StringComparison.Ordinal)))
        {
            foreach (string name in line["report timedout=".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                yield return name;
            }
        }

        foreach (string line in result.Stderr.Split('\n', StringSplitOptions.TrimEntries).Where(l => l.StartsWith(TimedOutPrefix, StringComparison.Ordinal)))
        {
            foreach (string name in line[(line.IndexOf("abandoned: ", StringComparison.Ordinal) + "abandoned: ".Length)..].Split(", ", StringSplitOptions.RemoveEmptyEntries))
            {
                yield return name;
            }
        }
    }
}
