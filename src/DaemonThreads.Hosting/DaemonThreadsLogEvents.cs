namespace DaemonThreads.Hosting;

/// <summary>
/// Lists the event ids DaemonThreads.Hosting logs with, under the logger category <see cref="Category"/>; each
/// <c>EventId</c> also carries the constant's name.
/// </summary>
/// <remarks>The ids are part of the public contract: they do not change between versions, so they can be used in log filters and alerts.</remarks>
public static class DaemonThreadsLogEvents
{
    /// <summary>The logger category of every DaemonThreads.Hosting event: <c>DaemonThreads</c>.</summary>
    public const string Category = "DaemonThreads";

    /// <summary>Error (1): an exception escaped the body of a <see cref="DaemonThread"/> (what <see cref="DaemonThread.ExceptHook"/> would print to stderr).</summary>
    public const int ThreadException = 1;

    /// <summary>Debug (2): the host owns SIGTERM and SIGINT now; <see cref="ExitRegistry.HandleSignals"/> was turned off.</summary>
    public const int SignalsHandedToHost = 2;

    /// <summary>Information (3): the host is stopping, so the DaemonThreads exit sequence started (<see cref="ExitRegistry.ShuttingDown"/> is cancelled).</summary>
    public const int ShutdownStarted = 3;

    /// <summary>Warning (4): the host's shutdown timeout passed while these non-daemon threads were still running; listed by name.</summary>
    public const int NonDaemonThreadsStillRunning = 4;

    /// <summary>Information (5): the exit sequence finished; the message gives the trigger, the joined threads and the time it took.</summary>
    public const int ShutdownCompleted = 5;

    /// <summary>Warning (6): the exit sequence stopped waiting for these non-daemon threads (<see cref="ShutdownReport.TimedOut"/>); they are abandoned.</summary>
    public const int NonDaemonThreadsTimedOut = 6;

    /// <summary>Information (7): daemon threads still running at the point of no return (<see cref="ShutdownReport.Abandoned"/>); the process drops them.</summary>
    public const int DaemonThreadsAbandoned = 7;

    /// <summary>Error (8): a before-join or at-exit hook threw (<see cref="ShutdownReport.HookErrors"/>); one event per exception.</summary>
    public const int HookFailed = 8;

    /// <summary>
    /// Warning (9): when the host started, <see cref="DaemonThreadsHostingOptions.JoinTimeout"/> was longer than the host's
    /// <c>HostOptions.ShutdownTimeout</c>, so the process can outlive the host's timeout by the difference.
    /// </summary>
    public const int JoinTimeoutLongerThanShutdownTimeout = 9;
}
