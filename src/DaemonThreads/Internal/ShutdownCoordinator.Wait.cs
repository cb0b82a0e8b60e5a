using System.Diagnostics;

namespace DaemonThreads.Internal;

/// <summary>The one wait primitive of the sequence, and the step runner that runs user code under a bound.</summary>
internal sealed partial class ShutdownCoordinator
{
    /// <summary>
    /// On the <see cref="Environment.Exit(int)"/> path with an infinite <see cref="JoinTimeout"/>: how long the join goes on
    /// with no work finishing while every piece of work left is blocked in a wait, before it gives up on them.
    /// </summary>
    /// <remarks>
    /// The thread blocked in <see cref="Environment.Exit(int)"/> cannot be identified (no .NET API tells; measured: it
    /// shows <see cref="System.Threading.ThreadState.WaitSleepJoin"/> like any thread waiting on a lock or an event). A thread that is
    /// running is never given up on; threads that all sit in waits with nothing finishing for this long are.
    /// </remarks>
    internal static readonly TimeSpan EnvironmentExitQuietPeriod = TimeSpan.FromSeconds(30);

    /// <summary>What ends a wait besides its condition and its deadline.</summary>
    private enum WaitKind
    {
        /// <summary>Waiting for work (threads, tasks, the main program): any stop request ends it, even one made before.</summary>
        Work,

        /// <summary>Waiting for user code (a hook): a stop request made while it runs ends it.</summary>
        UserCode,
    }

    /// <summary>
    /// The one wait of the sequence: until <paramref name="done"/> holds (read under the lock), the deadline passes, a
    /// stop request ends it, or, on the Environment.Exit path, the work left is all blocked for
    /// <see cref="EnvironmentExitQuietPeriod"/>.
    /// </summary>
    /// <returns><see langword="true"/> when <paramref name="done"/> held.</returns>
    /// <remarks>
    /// Deliberately infinite only when the user chose an infinite bound; every change that can end it pulses the lock's
    /// monitor, so it never polls. An interrupt of the waiting thread (<see cref="Thread.Interrupt"/>) is ignored: the
    /// exit must finish (issue 9: it used to crash the process with 134 and lose non-daemon work).
    /// </remarks>
    private bool WaitForExit(Func<bool> done, Deadline deadline, WaitKind kind, int stopsAtStart = 0, Func<bool>? allWaiting = null)
    {
        while (true)
        {
            try
            {
                return WaitCore(done, deadline, kind, stopsAtStart, allWaiting);
            }
            catch (ThreadInterruptedException)
            {
                // Ignored on purpose (see remarks); the wait starts again with the same deadline.
            }
        }
    }

    private bool WaitCore(Func<bool> done, Deadline deadline, WaitKind kind, int stopsAtStart, Func<bool>? allWaiting)
    {
        lock (_lock)
        {
            long quietSince = Stopwatch.GetTimestamp();
            long lastProgress = _registry.Progress;
            while (!done())
            {
                if (kind == WaitKind.Work ? _stopRequests > 0 : _stopRequests > stopsAtStart)
                {
                    return false;
                }

                int wait = deadline.RemainingMilliseconds();
                if (wait == 0)
                {
                    return false;
                }

                if (kind == WaitKind.Work && _callerMayBeBlocked && deadline.IsInfinite)
                {
                    long progress = _registry.Progress;
                    long now = Stopwatch.GetTimestamp();
                    if (progress != lastProgress)
                    {
                        lastProgress = progress;
                        quietSince = now;
                        _quietPeriodSpent = false;
                    }

                    // Once given up on (the join step), the same blocked work is not given another period after the
                    // at-exit hooks: the bound is set once.
                    TimeSpan quiet = _quietPeriodSpent ? EnvironmentExitQuietPeriod : Stopwatch.GetElapsedTime(quietSince, now);
                    if (quiet >= EnvironmentExitQuietPeriod)
                    {
                        if ((allWaiting ?? _registry.AllBlockingWorkIsWaiting)())
                        {
                            _quietPeriodSpent = true;
                            return false;
                        }

                        if (_quietPeriodSpent)
                        {
                            _quietPeriodSpent = false;
                            quiet = TimeSpan.Zero;
                        }

                        quietSince = now; // something still runs: it is not the blocked caller, so it is waited for
                        continue;
                    }

                    wait = (int)Math.Ceiling((EnvironmentExitQuietPeriod - quiet).TotalMilliseconds);
                }

                Monitor.Wait(_lock, wait);
            }

            return true;
        }
    }

    /// <summary>
    /// Runs user code (hooks, callbacks, the report handler, a metrics listener) in order on a step thread, while this
    /// thread waits for it through the one primitive: a deadline or a second signal abandons the step that runs, and
    /// skips the rest.
    /// </summary>
    /// <returns><see langword="true"/> when every step ran to its end; <see langword="false"/> when they were abandoned.</returns>
    private bool RunUserSteps(List<UserStep> steps, Deadline deadline, bool isReportHandler = false)
    {
        if (steps.Count == 0)
        {
            return true;
        }

        var batch = new StepBatch(this, steps, isReportHandler, _runnerIdentity ?? DaemonThread.Main);
        int stopsAtStart;
        lock (_lock)
        {
            stopsAtStart = _stopRequests;
        }

        try
        {
            // A thread of its own, so that a hook that never returns cannot hold the exit: the runner stays free to stop
            // waiting. Background, so that an abandoned hook does not hold the process either.
            new Thread(batch.Run, 256 * 1024) { IsBackground = true, Name = ".NET DaemonThreads exit hooks" }.UnsafeStart();
        }
        catch (OutOfMemoryException)
        {
            // No thread to be had: run the hooks here, unbounded, rather than not at all.
            batch.Run();
        }

        if (WaitForExit(() => batch.Finished, deadline, WaitKind.UserCode, stopsAtStart))
        {
            return true;
        }

        lock (_lock)
        {
            batch.Abandoned = true;
            for (int i = batch.Index; i < steps.Count; i++)
            {
                (_abandonedHooks ??= []).Add(new UnfinishedWork(ExitWorkKind.Hook, steps[i].Name + (i == batch.Index ? string.Empty : " (not started)")));
            }
        }

        return false;
    }

    /// <summary>One piece of user code the sequence runs, with the name the report gives it.</summary>
    /// <remarks>A class, not a struct: <c>List&lt;UserStep&gt;</c> then runs the list code shared by all reference types, already compiled, instead of a new instantiation the JIT compiles at exit.</remarks>
    private sealed class UserStep(string name, Action body)
    {
        internal string Name { get; } = name;

        internal Action Body { get; } = body;
    }

    /// <summary>The steps one step thread runs; its fields are read and written under the coordinator's lock.</summary>
    private sealed class StepBatch(ShutdownCoordinator owner, List<UserStep> steps, bool isReportHandler, DaemonThread identity)
    {
        internal int Index { get; private set; }

        internal bool Finished { get; private set; }

        internal bool Abandoned { get; set; }

        [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1031", Justification = "A failing hook is reported and the others still run (SPEC 3.2).")]
        internal void Run()
        {
            t_stepOwner = owner;
            t_stepIsReportHandler = isReportHandler;
            DaemonThread? previous = DaemonThread.OverrideCurrent(identity);
            try
            {
                for (int i = 0; i < steps.Count; i++)
                {
                    lock (owner._lock)
                    {
                        if (Abandoned)
                        {
                            return;
                        }

                        Index = i;
                    }

                    try
                    {
                        steps[i].Body();
                    }
                    catch (ExitFromReportHandler)
                    {
                        // The report handler chose the exit code; nothing to report.
                    }
                    catch (Exception e) when (isReportHandler)
                    {
                        StandardError.Write("Exception in the shutdown report sink:" + Environment.NewLine + e + Environment.NewLine);
                    }
                    catch (Exception e)
                    {
                        owner.RecordHookError(steps[i].Name, e);
                    }
                }
            }
            finally
            {
                DaemonThread.RestoreCurrent(previous);
                t_stepOwner = null;
                lock (owner._lock)
                {
                    Finished = true;
                    Monitor.PulseAll(owner._lock);
                }
            }
        }
    }
}
