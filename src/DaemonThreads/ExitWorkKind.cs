namespace DaemonThreads;

/// <summary>Names the kind of work an <see cref="UnfinishedWork"/> entry of a <see cref="ShutdownReport"/> stands for.</summary>
public enum ExitWorkKind
{
    /// <summary>A non-daemon <see cref="DaemonThread"/> the sequence stopped waiting for (its deadline passed, or a second signal stopped it).</summary>
    Thread = 0,

    /// <summary>A daemon <see cref="DaemonThread"/> still running at the point of no return; the process drops it.</summary>
    DaemonThread = 1,

    /// <summary>A task made part of the exit promise with <c>ExitRegistry.Track</c> that had not finished.</summary>
    Task = 2,

    /// <summary>Queued items of a <c>DaemonThreadPool</c> that never started: cancelled (a non-daemon pool past its deadline) or dropped (a daemon pool).</summary>
    PoolItems = 3,

    /// <summary>A hook, <see cref="ExitRegistry.ShuttingDown"/> callback or report handler still running when its step's bound ended.</summary>
    Hook = 4,

    /// <summary>The main program under <see cref="ExitRegistry.RunMain(System.Func{int})"/>, still running when the wait for it after a signal ended.</summary>
    MainProgram = 5,
}
