using System.Runtime.InteropServices;

namespace DaemonThreads.Internal;

/// <summary>
/// What a signal handler must do before it returns. On Windows, <see cref="PosixSignalRegistration"/> maps SIGTERM to
/// CTRL_SHUTDOWN_EVENT and SIGHUP to CTRL_CLOSE_EVENT, and Windows ends the process as soon as such a handler returns
/// (dotnet/runtime#116652), whatever <see cref="PosixSignalContext.Cancel"/> says: the handler must not return before
/// the sequence has finished and the process has exited with the sequence's code, within what the OS allows.
/// </summary>
/// <remarks>
/// Windows allows about 5 s after CTRL_CLOSE_EVENT and about 20 s after CTRL_SHUTDOWN_EVENT (the system's
/// <c>HungAppTimeout</c>/<c>WaitToKillServiceTimeout</c> defaults); the handler waits that long less a margin, so that
/// the exit code it chose, not the OS's, ends the process when the sequence is quick. SIGINT (Ctrl+C) is not affected:
/// cancelling it keeps the process alive there too. Verified on Linux through a simulated policy only (see the tests);
/// the Windows behaviour itself is reasoned from the runtime's code and issue.
/// </remarks>
internal class ConsoleExitPolicy
{
    private static readonly TimeSpan s_margin = TimeSpan.FromMilliseconds(500);

    private ConsoleExitPolicy(bool blocks, TimeSpan closeAllowance, TimeSpan shutdownAllowance, bool simulateTermination)
    {
        Blocks = blocks;
        CloseAllowance = closeAllowance;
        ShutdownAllowance = shutdownAllowance;
        SimulateTermination = simulateTermination;
    }

    /// <summary>Gets a value indicating whether SIGTERM and SIGHUP handlers block until the exit.</summary>
    internal bool Blocks { get; }

    /// <summary>Gets how long the OS lets a CTRL_CLOSE_EVENT handler run.</summary>
    internal TimeSpan CloseAllowance { get; }

    /// <summary>Gets how long the OS lets a CTRL_SHUTDOWN_EVENT handler run.</summary>
    internal TimeSpan ShutdownAllowance { get; }

    /// <summary>Gets a value indicating whether returning from the handler ends the process at once (the simulation of Windows' rule).</summary>
    internal bool SimulateTermination { get; }

    /// <summary>Gets the policy of the platform this runs on; the <c>DAEMONTHREADS_SIMULATE_WINDOWS_CONSOLE</c> variable (tests only) simulates Windows.</summary>
    internal static ConsoleExitPolicy ForThisPlatform()
    {
        string? simulated = Environment.GetEnvironmentVariable("DAEMONTHREADS_SIMULATE_WINDOWS_CONSOLE");
        if (!string.IsNullOrEmpty(simulated) && int.TryParse(simulated, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int allowanceMs))
        {
            // "N": simulate Windows with an allowance of N ms for both events, and end the process when the handler returns.
            TimeSpan allowance = TimeSpan.FromMilliseconds(allowanceMs);
            return new ConsoleExitPolicy(blocks: true, allowance, allowance, simulateTermination: true);
        }

        return OperatingSystem.IsWindows()
            ? new ConsoleExitPolicy(blocks: true, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20), simulateTermination: false)
            : new ConsoleExitPolicy(blocks: false, TimeSpan.Zero, TimeSpan.Zero, simulateTermination: false);
    }

    /// <summary>Blocks a SIGTERM/SIGHUP handler until the process exits, or until the OS's allowance (less a margin) is spent.</summary>
    internal void BlockUntilExit(PosixSignal signal, ShutdownCoordinator coordinator)
    {
        if (!Blocks || signal is not (PosixSignal.SIGTERM or PosixSignal.SIGHUP))
        {
            return;
        }

        TimeSpan allowance = signal == PosixSignal.SIGHUP ? CloseAllowance : ShutdownAllowance;
        TimeSpan wait = allowance > s_margin * 2 ? allowance - s_margin : allowance;

        // Bounded by the OS's allowance. The path that runs the sequence calls Environment.Exit right after it is done,
        // which ends the process while this handler still waits; the wait for the process itself is that exit.
        coordinator.WaitDone(wait);
        Exiting.Wait(wait);
        if (SimulateTermination)
        {
            // What Windows does when the handler returns: the process ends now, with the OS's code, not ours.
            Environment.FailFast("simulated Windows console-event termination: the signal handler returned");
        }
    }

    /// <summary>Gets an event that is never set: the process ends while the handler waits on it (bounded by the allowance).</summary>
    private static ManualResetEventSlim Exiting { get; } = new(false);
}
