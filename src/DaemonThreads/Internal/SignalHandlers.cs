using System.Runtime.InteropServices;

namespace DaemonThreads.Internal;

/// <summary>SIGTERM, SIGINT and SIGHUP: run the exit sequence and exit with 128 + the signal number.</summary>
/// <remarks>
/// .NET 10 kills the process on SIGTERM without running anything (dotnet/runtime PR #115494), so the promise
/// "non-daemon work finishes" needs a <see cref="PosixSignalRegistration"/> that cancels the default action.
/// Registrations run newest first and all of them run; ours returns at once (the sequence runs on its own thread),
/// so an application's own handler runs too whichever was registered first.
/// </remarks>
internal static class SignalHandlers
{
    private static readonly object s_lock = new();
    private static PosixSignalRegistration[]? s_registrations;
    private static int s_signals;

    internal static bool Installed
    {
        get
        {
            lock (s_lock)
            {
                return s_registrations is not null;
            }
        }
    }

    internal static void Install()
    {
        lock (s_lock)
        {
            if (s_registrations is not null)
            {
                return;
            }

            // Three calls, no list or loop: each generic instantiation and first call here is a type load or a
            // ReadyToRun fixup that every process pays at start (benchmarks/README.md, "Start-up").
            PosixSignalRegistration? term = Register(PosixSignal.SIGTERM);
            PosixSignalRegistration? interrupt = Register(PosixSignal.SIGINT);
            PosixSignalRegistration? hangup = Register(PosixSignal.SIGHUP);
            int count = (term is null ? 0 : 1) + (interrupt is null ? 0 : 1) + (hangup is null ? 0 : 1);
            var registrations = new PosixSignalRegistration[count];
            int i = 0;
            if (term is not null)
            {
                registrations[i++] = term;
            }

            if (interrupt is not null)
            {
                registrations[i++] = interrupt;
            }

            if (hangup is not null)
            {
                registrations[i] = hangup;
            }

            s_registrations = registrations;
        }
    }

    private static PosixSignalRegistration? Register(PosixSignal signal)
    {
        try
        {
            return PosixSignalRegistration.Create(signal, OnSignal);
        }
        catch (PlatformNotSupportedException)
        {
            // This platform has no such signal (a browser, a mobile OS): there is nothing to handle.
            return null;
        }
    }

    internal static void Uninstall()
    {
        lock (s_lock)
        {
            if (s_registrations is null)
            {
                return;
            }

            foreach (PosixSignalRegistration registration in s_registrations)
            {
                registration.Dispose();
            }

            s_registrations = null;
        }
    }

    /// <summary>Gets the conventional exit code for a signal: 128 + its number (143, 130, 129).</summary>
    internal static int ExitCode(PosixSignal signal) => 128 + signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        _ => 15,
    };

    /// <summary>Gets or sets the policy for signals whose handler must not return before the exit (Windows' console close and shutdown).</summary>
    /// <remarks>
    /// A seam: tests on Linux set a policy that simulates the Windows rule (see <see cref="ConsoleExitPolicy"/>). Made on
    /// first use, when a signal arrives, not when the handlers are installed: it reads an environment variable, and the
    /// process's first read copies the whole environment into managed strings (benchmarks/README.md, issue 11 "Wave 8").
    /// </remarks>
    internal static ConsoleExitPolicy Policy
    {
        get => Volatile.Read(ref s_policy) ?? EnsurePolicy();
        set => Volatile.Write(ref s_policy, value);
    }

    private static ConsoleExitPolicy? s_policy;

    private static ConsoleExitPolicy EnsurePolicy()
    {
        // Racing first signals may each make one; they are equal, and the first written wins.
        Interlocked.CompareExchange(ref s_policy, ConsoleExitPolicy.ForThisPlatform(), null);
        return s_policy!;
    }

    /// <summary>Gets the POSIX number of a signal (15, 2, 1, 3).</summary>
    internal static int Number(PosixSignal signal) => ExitCode(signal) - 128;

    private static void OnSignal(PosixSignalContext context)
    {
        ShutdownCoordinator coordinator = ExitRegistry.Coordinator;
        if (coordinator.IsDone)
        {
            // The sequence has finished and the process lingers (a raw foreground thread, a hand-made Shutdown()): the
            // signal's default action applies, as in raw .NET. A signal is never swallowed (issue 9 #6).
            return;
        }

        context.Cancel = true;
        int exitCode = ExitCode(context.Signal);
        if (Interlocked.Increment(ref s_signals) != 1)
        {
            // A second signal ends the wait that runs now: the join stops for good, a hook that runs is abandoned, and the
            // path that runs the sequence exits. Sticky for the join, so one that comes before the join is not lost.
            coordinator.StopWaiting(exitCode);
            Policy.BlockUntilExit(context.Signal, coordinator);
            return;
        }

        ShutdownCoordinator.Phase phase = coordinator.CurrentPhase;
        if (phase != ShutdownCoordinator.Phase.Idle && (coordinator.Trigger != ShutdownTrigger.Shutdown || ExitRegistry.IsProcessExiting))
        {
            // The first signal while RunMain, ExitRegistry.Exit or ProcessExit runs the sequence: that path ends the
            // process with its own code, and its wait goes on (SPEC §4: it takes a second signal to abandon work).
            Policy.BlockUntilExit(context.Signal, coordinator);
            return;
        }

        // No path ends the process yet: none has begun, or a hand-made Shutdown() runs the sequence and the program goes
        // on. The default action is cancelled, so this handler must end the process itself or the signal would be lost.
        ShutdownTrigger trigger = context.Signal switch
        {
            PosixSignal.SIGINT => ShutdownTrigger.SigInt,
            PosixSignal.SIGHUP => ShutdownTrigger.SigHup,
            _ => ShutdownTrigger.SigTerm,
        };
        int signalNumber = Number(context.Signal);
        coordinator.ClaimExitCode(exitCode);

        // Not inline: the signal handlers of the application still have to run, and the sequence may wait long. Under
        // RunMain the sequence first waits for the main program to return (SPEC 5.2). If a hand-made Shutdown() is still
        // running, Shutdown returns its report once it is done (this thread is one nothing waits for).
        var runner = new Thread(() =>
        {
            coordinator.Shutdown(trigger, signalNumber: signalNumber);
            Environment.Exit(coordinator.ClaimedExitCode ?? exitCode);
        })
        {
            IsBackground = true,
            Name = "DaemonThreads exit",
        };
        runner.UnsafeStart();
        Policy.BlockUntilExit(context.Signal, coordinator);
    }
}
