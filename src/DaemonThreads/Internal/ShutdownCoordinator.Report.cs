using System.Diagnostics;
using System.Text;

namespace DaemonThreads.Internal;

/// <summary>The point of no return, the report and its stderr lines.</summary>
internal sealed partial class ShutdownCoordinator
{
    // Listed names per stderr line; the report object always has them all.
    private const int MaxNamesPerLine = 20;

    /// <summary>
    /// Waits for what the at-exit hooks started, then passes the point of no return, in one lock section: a start that
    /// succeeded before it is joined (or named as timed out when the deadline passed), one after it is refused.
    /// </summary>
    private (List<DaemonThread> Joined, List<DaemonThread> TimedOut, List<UnfinishedWork> Tasks, List<DaemonThread> Abandoned) WaitAndPassPointOfNoReturn(Deadline joinDeadline)
    {
        lock (_lock)
        {
            WaitForExit(() => _registry.BlockingCount == 0, joinDeadline, WaitKind.Work);
            return _registry.PassPointOfNoReturn();
        }
    }

    private ShutdownReport BuildReport(
        ShutdownTrigger trigger,
        List<DaemonThread> joined,
        List<DaemonThread> timedOut,
        List<UnfinishedWork> tasks,
        List<DaemonThread> abandoned,
        IExitParticipant[] participants)
    {
        var unfinished = new List<UnfinishedWork>(timedOut.Count + abandoned.Count + tasks.Count);
        foreach (DaemonThread t in timedOut)
        {
            unfinished.Add(new UnfinishedWork(ExitWorkKind.Thread, t.Name, thread: t));
        }

        foreach (DaemonThread t in abandoned)
        {
            unfinished.Add(new UnfinishedWork(ExitWorkKind.DaemonThread, t.Name, thread: t));
        }

        unfinished.AddRange(tasks);
        var pools = new List<UnfinishedWork>();
        foreach (IExitParticipant participant in participants)
        {
            try
            {
                participant.AtPointOfNoReturn(pools);
            }
#pragma warning disable CA1031 // A participant that fails must not lose the report of everything else.
            catch (Exception e)
#pragma warning restore CA1031
            {
                RecordHookError("pool at the point of no return", e);
            }
        }

        unfinished.AddRange(pools);
        lock (_lock)
        {
            // By kind, as the rest of the list: hooks, then the main program. No LINQ on the exit path: its first use
            // costs a process tier-0 JIT and an assembly load at exit (benchmarks/README.md, issue 11).
            if (_abandonedHooks is not null)
            {
                AddKind(unfinished, _abandonedHooks, ExitWorkKind.Hook);
                AddKind(unfinished, _abandonedHooks, ExitWorkKind.MainProgram);
            }

            return new ShutdownReport(trigger, joined, timedOut, abandoned, HookErrorsCopy(), Stopwatch.GetElapsedTime(_startTimestamp), isComplete: true, unfinished);
        }
    }

    private static void AddKind(List<UnfinishedWork> to, List<UnfinishedWork> from, ExitWorkKind kind)
    {
        foreach (UnfinishedWork w in from)
        {
            if (w.Kind == kind)
            {
                to.Add(w);
            }
        }
    }

    // Under _lock.
    private Exception[] HookErrorsCopy() => _hookErrors is null ? [] : [.. _hookErrors];

    private ShutdownReport Provisional()
    {
        lock (_lock)
        {
            return new ShutdownReport(_trigger, [], [], [], HookErrorsCopy(), Stopwatch.GetElapsedTime(_startTimestamp), isComplete: false, []);
        }
    }

    private void RecordHookError(string where, Exception e)
    {
        lock (_lock)
        {
            (_hookErrors ??= []).Add(e);
        }

        if (ReportSink is null && _isProcessWide)
        {
            StandardError.Write("Exception ignored in " + where + ":" + Environment.NewLine + e + Environment.NewLine);
        }
    }

    private void Publish(ShutdownReport report, Deadline deadline)
    {
        Action<ShutdownReport>? sink = ReportSink;
        if (sink is not null)
        {
            PublishToHandler(sink, report, deadline);
            return;
        }

        if (!_isProcessWide)
        {
            return;
        }

        string text = FormatForStandardError(report);
        if (text.Length > 0)
        {
            StandardError.Write(text);
        }
    }

    // Apart, never inlined: the closure over the handler and the report would be allocated where Publish begins, with no
    // handler set as well, and its List<UserStep> makes the runtime load the System.Collections facade when it prepares
    // the method.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void PublishToHandler(Action<ShutdownReport> sink, ShutdownReport report, Deadline deadline)
    {
        if (!RunUserSteps([new UserStep("report handler", () => sink(report))], deadline, isReportHandler: true) && _isProcessWide)
        {
            StandardError.Write("DaemonThreads: the shutdown report handler did not return within its bound and was abandoned" + Environment.NewLine);
        }
    }

    /// <summary>
    /// Formats the stderr lines of a report: timed-out non-daemon threads, tracked tasks, pool items, abandoned hooks and
    /// the main program, abandoned daemon threads; one line per kind that has entries.
    /// </summary>
    internal static string FormatForStandardError(ShutdownReport report)
    {
        if (report.NothingUnfinished)
        {
            return string.Empty; // the common exit: nothing to say, and nothing of the formatting code to load
        }

        var text = new StringBuilder();
        if (report.TimedOut.Count > 0)
        {
            text.Append("DaemonThreads: shutdown stopped waiting for ")
                .Append(PlainText.Decimal(report.TimedOut.Count))
                .Append(" non-daemon thread(s), abandoned: ");
            AppendNames(text, ThreadNames(report.TimedOut), report.TimedOut.Count);
        }

        AppendKind(text, report, ExitWorkKind.Task, "DaemonThreads: shutdown stopped waiting for ", " tracked task(s), abandoned: ");
        AppendKind(text, report, ExitWorkKind.PoolItems, "DaemonThreads: shutdown cancelled ", " queued pool item(s) that never started: ");
        AppendKind(text, report, ExitWorkKind.MainProgram, "DaemonThreads: shutdown stopped waiting for the main program: ", null);
        AppendKind(text, report, ExitWorkKind.Hook, "DaemonThreads: shutdown abandoned ", " hook(s) still running: ");
        if (report.Abandoned.Count > 0)
        {
            text.Append("DaemonThreads: shutdown abandoned ")
                .Append(PlainText.Decimal(report.Abandoned.Count))
                .Append(" daemon thread(s): ");
            AppendNames(text, ThreadNames(report.Abandoned), report.Abandoned.Count);
        }

        return text.ToString();
    }

    // The count goes between before and after; a kind whose line has no count passes null as after. Numbers through
    // PlainText.Decimal, not ToString(CultureInfo) or string.Format: the first culture-aware formatting of a process costs
    // 2.3-2.9 ms, which every exit that reports an abandoned daemon thread would pay (benchmarks/README.md, "Wave 4").
    private static void AppendKind(StringBuilder text, ShutdownReport report, ExitWorkKind kind, string before, string? after)
    {
        var names = new List<string>();
        int count = 0;
        foreach (UnfinishedWork w in report.Unfinished)
        {
            if (w.Kind == kind)
            {
                count += w.Count;
                names.Add(w.Count == 1 ? w.Name : w.Name + " (" + PlainText.Decimal(w.Count) + ")");
            }
        }

        if (names.Count == 0)
        {
            return;
        }

        text.Append(before);
        if (after is not null)
        {
            text.Append(PlainText.Decimal(count)).Append(after);
        }

        AppendNames(text, names, names.Count);
    }

    // The first MaxNamesPerLine names only: the line shows no more, and an exit that abandons 5,000 daemon threads
    // should not copy 5,000 names to print 20.
    private static List<string> ThreadNames(IReadOnlyList<DaemonThread> threads)
    {
        var names = new List<string>(Math.Min(threads.Count, MaxNamesPerLine));
        for (int i = 0; i < threads.Count && i < MaxNamesPerLine; i++)
        {
            names.Add(threads[i].Name);
        }

        return names;
    }

    private static void AppendNames(StringBuilder text, List<string> names, int total)
    {
        int shown = Math.Min(names.Count, MaxNamesPerLine);
        for (int i = 0; i < shown; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            text.Append(names[i]);
        }

        if (total > shown)
        {
            text.Append(" and ").Append(PlainText.Decimal(total - shown)).Append(" more");
        }

        text.Append(Environment.NewLine);
    }
}
