namespace DaemonThreads.Internal;

/// <summary>The one place that classifies a caller and decides what a call made during the exit does.</summary>
/// <remarks>
/// The README's table "What happens when X calls Y during the exit" is this file. Rule of thumb: nothing that the
/// sequence may be waiting for ever waits for the sequence. A hook, a thread body, task code and the main program
/// under RunMain get an answer at once (a report, or an unwinding <see cref="ThreadExitException"/> from
/// <see cref="ExitRegistry.Exit(int)"/>); only threads nothing can be waiting for (a raw thread, the finalizer thread
/// running <see cref="AppDomain.ProcessExit"/>, plain <c>Main</c>) wait for the running sequence, which is itself
/// bounded by the user's bounds and the second signal.
/// </remarks>
internal sealed partial class ShutdownCoordinator
{
    [ThreadStatic]
    private static ShutdownCoordinator? t_stepOwner;

    [ThreadStatic]
    private static bool t_stepIsReportHandler;

    /// <summary>Who is calling, as far as the exit is concerned.</summary>
    internal enum CallerRole
    {
        /// <summary>Nothing below: a raw thread, the finalizer thread, <c>Main</c> without RunMain.</summary>
        Other,

        /// <summary>The thread running the sequence (it runs only library code).</summary>
        Runner,

        /// <summary>User code the sequence runs: a hook, a <see cref="ShuttingDown"/> callback, the report handler.</summary>
        Step,

        /// <summary>The body of a started <see cref="DaemonThread"/>, on its own OS thread.</summary>
        Body,

        /// <summary>RunMain's main program, on the thread that called RunMain.</summary>
        MainProgram,

        /// <summary>Code inside a task (on the pool or a LongRunning thread).</summary>
        Task,
    }

    /// <summary>Classifies the calling code; <see cref="Caller.Thread"/> is the started thread physically running here, if any.</summary>
    /// <param name="tellTasks">
    /// Whether to tell <see cref="CallerRole.Task"/> from <see cref="CallerRole.Other"/>: only <see cref="Exit"/> treats
    /// them differently, and the test (<see cref="System.Threading.Tasks.Task.CurrentId"/>) loads the Task class, about
    /// 0.6 ms of a short program that never used a task (benchmarks/README.md, "Start-up").
    /// </param>
    internal Caller ClassifyCaller(bool tellTasks = true)
    {
        if (ReferenceEquals(t_stepOwner, this))
        {
            return new Caller(CallerRole.Step, null);
        }

        Thread current = Thread.CurrentThread;

        // Only the thread physically running here: pool code owned by a thread W must never exempt W, which keeps running
        // (issue 9 #10).
        DaemonThread? physical = DaemonThread.StartedOnCurrentOsThread();

        lock (_lock)
        {
            if (_phase != Phase.Idle && _phase != Phase.Done && _runnerThreadId == current.ManagedThreadId)
            {
                return new Caller(CallerRole.Runner, physical);
            }

            if (physical is not null)
            {
                return new Caller(CallerRole.Body, physical);
            }

            if (_mainProgramRunning && _mainProgramThreadId == current.ManagedThreadId)
            {
                return new Caller(CallerRole.MainProgram, null);
            }
        }

        return tellTasks && System.Threading.Tasks.Task.CurrentId is not null ? new Caller(CallerRole.Task, null) : new Caller(CallerRole.Other, null);
    }

    /// <summary>What <see cref="Shutdown"/> returns to a caller that did not start the sequence.</summary>
    private ShutdownReport ReportForLateCaller(Caller caller)
    {
        if (caller.Role is CallerRole.Other or CallerRole.Task)
        {
            // Nothing in the sequence waits for this caller (a hook that awaits such a task is bounded like any hook), and
            // the sequence is bounded by the user's bounds and the second signal: deliberately no bound of our own.
            _done.Wait();
            return _report!;
        }

        if (caller.Role == CallerRole.Body && caller.Thread is { } body)
        {
            // A thread body (exempted above, so the join does not wait for it) waits for the report, unless a hook joins
            // it: then waiting would be a cycle, and it gets the provisional report at once.
            WaitForExit(() => _phase == Phase.Done || _joinedBySteps?.Contains(body) == true, Deadline.Infinite, WaitKind.UserCode, int.MaxValue);
        }

        // A hook, the main program while a signal's sequence waits for it, or a body a hook joins: never wait.
        lock (_lock)
        {
            return _report ?? Provisional();
        }
    }

    /// <summary>
    /// <see cref="ExitRegistry.Exit(int)"/>: claims the code (the first claim wins), then ends the process, or the
    /// calling code where the process is already exiting.
    /// </summary>
    /// <returns>Only inside <see cref="AppDomain.ProcessExit"/>, with <see cref="Environment.ExitCode"/> set: the caller returns.</returns>
    /// <exception cref="InvalidOperationException">Called from a hook or <see cref="ShuttingDown"/> callback.</exception>
    /// <exception cref="ThreadExitException">Called from a thread body, task code or RunMain's main program while the sequence runs: that code ends.</exception>
    internal void Exit(int exitCode, Func<bool> processExiting)
    {
        Caller caller = ClassifyCaller();
        if (caller.Role == CallerRole.Step)
        {
            if (t_stepIsReportHandler)
            {
                // The report handler chooses the exit code from the report (r => Exit(r.TimedOut.Count > 0 ? 1 : 0)).
                ClaimExitCode(exitCode);
                throw new ExitFromReportHandler();
            }

            throw new InvalidOperationException(
                "cannot exit from inside a shutdown hook: the process is already exiting. Return from the hook instead; the exit code stays the one the exit path chose.");
        }

        int code = ClaimExitCode(exitCode);
        Phase phase = CurrentPhase;
        if (phase != Phase.Idle && phase != Phase.Done && caller.Role is CallerRole.Body or CallerRole.MainProgram or CallerRole.Task)
        {
            // The sequence may be waiting for this very code (a joined thread, main after a signal, a task a hook awaits):
            // end it, as Python's SystemExit ends a thread. The process exits with the first claimed code.
            throw new ThreadExitException(
                "ExitRegistry.Exit(" + exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) +
                ") was called while the process was already exiting: this code ends here, and the process exits with code " +
                code.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".");
        }

        // Idle: this caller runs the sequence (and is never joined: it is really blocked in this call from now on).
        // Running, from a caller nothing waits for: wait for it. Done: nothing to wait for.
        Shutdown(ShutdownTrigger.Exit);
        code = ClaimedExitCode ?? code;
        if (processExiting())
        {
            Environment.ExitCode = code;
            return;
        }

        Environment.Exit(code);
    }

    /// <summary>A caller as <see cref="ClassifyCaller"/> sees it.</summary>
    internal readonly record struct Caller(CallerRole Role, DaemonThread? Thread);

    /// <summary>Unwinds the report handler after it called <see cref="ExitRegistry.Exit(int)"/>; never seen outside.</summary>
    private sealed class ExitFromReportHandler : Exception
    {
        public ExitFromReportHandler()
            : base("ExitRegistry.Exit was called from the report handler.")
        {
        }
    }
}
