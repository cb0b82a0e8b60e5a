using System.Globalization;
using System.Text;

namespace DaemonThreads.Testing.Model;

/// <summary>What an operation of a model program does.</summary>
internal enum ModelOpKind
{
    /// <summary><c>W</c>: start a non-daemon worker that prints <c>begin W&lt;id&gt;</c>, then K records <c>rec W&lt;id&gt; i</c> with a little work before each.</summary>
    Worker,

    /// <summary><c>Z</c>: start a non-daemon worker that prints <c>begin Z&lt;id&gt;</c> and never ends (only in programs with a bound).</summary>
    Stuck,

    /// <summary><c>D</c>: start a daemon worker that prints <c>dmn D&lt;id&gt;</c> every few milliseconds, for ever.</summary>
    Daemon,

    /// <summary><c>J</c>: join worker W&lt;id&gt; (started earlier by the same issuer) without a timeout.</summary>
    Join,

    /// <summary><c>B</c>: register a before-join hook that prints <c>hook B&lt;id&gt;</c>.</summary>
    BeforeJoin,

    /// <summary><c>A</c>: register an at-exit hook that prints <c>hook A&lt;id&gt;</c>.</summary>
    AtExit,

    /// <summary><c>P</c>: register a before-join hook that prints <c>hook P&lt;id&gt;</c> and starts a non-daemon worker P&lt;id&gt; (as <see cref="Worker"/>).</summary>
    BeforeJoinStarter,

    /// <summary><c>Q</c>: register an at-exit hook that prints <c>hook Q&lt;id&gt;</c> and starts a non-daemon worker Q&lt;id&gt; (as <see cref="Worker"/>).</summary>
    AtExitStarter,

    /// <summary><c>E</c>: the exit point of the main program (only issued by main).</summary>
    ExitPoint,
}

/// <summary>The one exit action of a model program.</summary>
internal enum ModelExit
{
    /// <summary><c>R&lt;n&gt;</c>: RunMain's main returns n at the exit point.</summary>
    Return,

    /// <summary><c>X&lt;n&gt;</c>: main calls <c>ExitRegistry.Exit(n)</c> at the exit point.</summary>
    Exit,

    /// <summary><c>Y&lt;n&gt;@&lt;id&gt;</c>: worker W&lt;id&gt; calls <c>ExitRegistry.Exit(n)</c> after its records; main returns 0 after its operations.</summary>
    WorkerExit,

    /// <summary>
    /// <c>S</c> or <c>S&lt;n&gt;</c>: main prints <c>MARK</c> at the exit point, the parent sends SIGTERM; main goes on, then
    /// waits for its token and returns 0, or with a code calls <c>ExitRegistry.Exit(n)</c> (which loses to the signal's 143).
    /// </summary>
    Signal,

    /// <summary><c>T</c>: as <see cref="Signal"/>, and the parent sends a second SIGTERM once main printed <c>TOKEN</c> (it saw the cancellation).</summary>
    SignalTwice,
}

/// <summary>One operation: who issues it (<c>m</c> main, <c>d</c> the non-daemon driver thread), what, and on which id.</summary>
internal sealed record ModelOp(char Issuer, ModelOpKind Kind, int Id, int Records = 0, int WorkMs = 0)
{
    /// <summary>Gets a value indicating whether this operation starts a finite non-daemon worker that writes records.</summary>
    public bool WritesRecords => Kind is ModelOpKind.Worker or ModelOpKind.BeforeJoinStarter or ModelOpKind.AtExitStarter;

    /// <summary>Gets the thread name of what this operation starts or refers to.</summary>
    public string Name => Kind switch
    {
        ModelOpKind.BeforeJoinStarter => "P" + Id.ToString(CultureInfo.InvariantCulture),
        ModelOpKind.AtExitStarter => "Q" + Id.ToString(CultureInfo.InvariantCulture),
        ModelOpKind.Stuck => "Z" + Id.ToString(CultureInfo.InvariantCulture),
        ModelOpKind.Daemon => "D" + Id.ToString(CultureInfo.InvariantCulture),
        ModelOpKind.BeforeJoin => "B" + Id.ToString(CultureInfo.InvariantCulture),
        ModelOpKind.AtExit => "A" + Id.ToString(CultureInfo.InvariantCulture),
        _ => "W" + Id.ToString(CultureInfo.InvariantCulture),
    };

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        ModelOpKind.Worker => string.Create(CultureInfo.InvariantCulture, $"{Issuer}W{Id}k{Records}w{WorkMs}"),
        ModelOpKind.BeforeJoinStarter => string.Create(CultureInfo.InvariantCulture, $"{Issuer}P{Id}k{Records}w{WorkMs}"),
        ModelOpKind.AtExitStarter => string.Create(CultureInfo.InvariantCulture, $"{Issuer}Q{Id}k{Records}w{WorkMs}"),
        ModelOpKind.Stuck => string.Create(CultureInfo.InvariantCulture, $"{Issuer}Z{Id}"),
        ModelOpKind.Daemon => string.Create(CultureInfo.InvariantCulture, $"{Issuer}D{Id}"),
        ModelOpKind.Join => string.Create(CultureInfo.InvariantCulture, $"{Issuer}J{Id}"),
        ModelOpKind.BeforeJoin => string.Create(CultureInfo.InvariantCulture, $"{Issuer}B{Id}"),
        ModelOpKind.AtExit => string.Create(CultureInfo.InvariantCulture, $"{Issuer}A{Id}"),
        _ => Issuer + "E",
    };
}

/// <summary>
/// A generated exit program, serialised as one compact command-line argument of the <c>model</c> scenario:
/// <c>t=&lt;ms|inf&gt;;r=&lt;0|1&gt;;x=&lt;exit&gt;;op;op;...</c>, for example <c>t=500;r=1;x=Y7@2;mW0k5w1;dW2k3w0;mB3;mJ0</c>.
/// </summary>
/// <param name="JoinTimeoutMs">The finite JoinTimeout in milliseconds, or <see langword="null"/> for the default (infinite).</param>
/// <param name="ReportHandler">Whether a ReportHandler prints the report (<c>report timedout=...</c>) instead of stderr.</param>
/// <param name="Exit">The exit action.</param>
/// <param name="ExitCode">The code of the exit action; for the signals, the code main passes to <c>ExitRegistry.Exit</c> after its token, or 0.</param>
/// <param name="ExitWorker">The worker id of <see cref="ModelExit.WorkerExit"/>, otherwise -1.</param>
/// <param name="Ops">The operations, in program order (main's and the driver's interleaved as written).</param>
/// <remarks>Compiled into the scenario host (which interprets it) and linked into the test project (which generates and checks it).</remarks>
internal sealed record ModelProgram(int? JoinTimeoutMs, bool ReportHandler, ModelExit Exit, int ExitCode, int ExitWorker, IReadOnlyList<ModelOp> Ops)
{
    /// <summary>Gets the operations that <paramref name="issuer"/> runs, in order.</summary>
    public IEnumerable<ModelOp> OpsOf(char issuer) => Ops.Where(o => o.Issuer == issuer);

    /// <summary>Parses the form <see cref="ToString"/> writes.</summary>
    public static ModelProgram Parse(string text)
    {
        string[] parts = text.Split(';', StringSplitOptions.RemoveEmptyEntries);
        int? timeout = null;
        bool report = false;
        ModelExit exit = ModelExit.Return;
        int code = 0;
        int exitWorker = -1;
        var ops = new List<ModelOp>();
        foreach (string part in parts)
        {
            if (part.StartsWith("t=", StringComparison.Ordinal))
            {
                timeout = part == "t=inf" ? null : Int(part[2..]);
            }
            else if (part.StartsWith("r=", StringComparison.Ordinal))
            {
                report = part == "r=1";
            }
            else if (part.StartsWith("x=", StringComparison.Ordinal))
            {
                string x = part[2..];
                exit = x[0] switch
                {
                    'R' => ModelExit.Return,
                    'X' => ModelExit.Exit,
                    'Y' => ModelExit.WorkerExit,
                    'S' => ModelExit.Signal,
                    'T' => ModelExit.SignalTwice,
                    _ => throw new FormatException("unknown exit action: " + x),
                };
                if (exit == ModelExit.WorkerExit)
                {
                    int at = x.IndexOf('@', StringComparison.Ordinal);
                    code = Int(x[1..at]);
                    exitWorker = Int(x[(at + 1)..]);
                }
                else if (x.Length > 1)
                {
                    code = Int(x[1..]);
                }
            }
            else
            {
                ops.Add(ParseOp(part));
            }
        }

        return new ModelProgram(timeout, report, exit, code, exitWorker, ops);
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("t=").Append(JoinTimeoutMs is int t ? t.ToString(CultureInfo.InvariantCulture) : "inf");
        text.Append(";r=").Append(ReportHandler ? '1' : '0');
        text.Append(";x=").Append(Exit switch
        {
            ModelExit.Return => "R" + ExitCode.ToString(CultureInfo.InvariantCulture),
            ModelExit.Exit => "X" + ExitCode.ToString(CultureInfo.InvariantCulture),
            ModelExit.WorkerExit => string.Create(CultureInfo.InvariantCulture, $"Y{ExitCode}@{ExitWorker}"),
            ModelExit.Signal => "S" + (ExitCode != 0 ? ExitCode.ToString(CultureInfo.InvariantCulture) : string.Empty),
            _ => "T" + (ExitCode != 0 ? ExitCode.ToString(CultureInfo.InvariantCulture) : string.Empty),
        });
        foreach (ModelOp op in Ops)
        {
            text.Append(';').Append(op);
        }

        return text.ToString();
    }

    private static ModelOp ParseOp(string token)
    {
        char issuer = token[0];
        if (issuer is not ('m' or 'd'))
        {
            throw new FormatException("unknown issuer in: " + token);
        }

        char kind = token[1];
        if (kind == 'E')
        {
            return new ModelOp(issuer, ModelOpKind.ExitPoint, -1);
        }

        string rest = token[2..];
        if (kind is 'W' or 'P' or 'Q')
        {
            int k = rest.IndexOf('k', StringComparison.Ordinal);
            int w = rest.IndexOf('w', StringComparison.Ordinal);
            ModelOpKind starter = kind switch { 'W' => ModelOpKind.Worker, 'P' => ModelOpKind.BeforeJoinStarter, _ => ModelOpKind.AtExitStarter };
            return new ModelOp(issuer, starter, Int(rest[..k]), Int(rest[(k + 1)..w]), Int(rest[(w + 1)..]));
        }

        ModelOpKind opKind = kind switch
        {
            'Z' => ModelOpKind.Stuck,
            'D' => ModelOpKind.Daemon,
            'J' => ModelOpKind.Join,
            'B' => ModelOpKind.BeforeJoin,
            'A' => ModelOpKind.AtExit,
            _ => throw new FormatException("unknown operation: " + token),
        };
        return new ModelOp(issuer, opKind, Int(rest));
    }

    private static int Int(string text) => int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
}
