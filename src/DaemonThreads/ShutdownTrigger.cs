namespace DaemonThreads;

/// <summary>
/// Names the exit path that started the shutdown sequence; see <see cref="ShutdownReport.Trigger"/>.
/// </summary>
public enum ShutdownTrigger
{
    /// <summary><see cref="ExitRegistry.Shutdown()"/> was called directly.</summary>
    Shutdown = 0,

    /// <summary>The function given to <see cref="ExitRegistry.RunMain(Func{int})"/> returned or threw.</summary>
    RunMain = 1,

    /// <summary><see cref="ExitRegistry.Exit(int)"/> was called.</summary>
    Exit = 2,

    /// <summary>The runtime began to exit: <c>Main</c> returned without <c>RunMain</c>, or <see cref="Environment.Exit(int)"/> was called.</summary>
    ProcessExit = 3,

    /// <summary>The process received SIGTERM.</summary>
    SigTerm = 4,

    /// <summary>The process received SIGINT (Ctrl+C).</summary>
    SigInt = 5,

    /// <summary>The process received SIGHUP.</summary>
    SigHup = 6,

    /// <summary>A host (for example the .NET Generic Host) began to stop the application.</summary>
    Host = 7,
}
