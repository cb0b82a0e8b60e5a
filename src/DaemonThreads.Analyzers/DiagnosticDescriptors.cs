using Microsoft.CodeAnalysis;

namespace DaemonThreads.Analyzers;

/// <summary>The DaemonThreads rules: one descriptor per id, each documented in <c>docs/analyzers/DT000N.md</c>.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "Usage";
    private const string HelpLinkBase = "https://github.com/daemonthreads/daemonthreads/blob/main/docs/analyzers/";

    /// <summary>DT0001: <c>Environment.Exit</c> where <c>ExitRegistry.Exit</c> is available.</summary>
    public static readonly DiagnosticDescriptor EnvironmentExit = new(
        id: "DT0001",
        title: "Use ExitRegistry.Exit instead of Environment.Exit",
        messageFormat: "Use 'ExitRegistry.Exit' instead of 'Environment.Exit': it knows its caller, so it never waits for the calling thread and joins every other non-daemon thread within 'JoinTimeout'",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "Environment.Exit runs the DaemonThreads exit sequence from the ProcessExit handler, which cannot tell which thread called it: when the caller is a non-daemon thread, the sequence waits for it (up to 30 seconds with the default infinite JoinTimeout) and then reports it as timed out. ExitRegistry.Exit is Python's sys.exit: the calling thread is never joined.",
        helpLinkUri: HelpLinkBase + "DT0001.md");

    /// <summary>DT0002: the application's own SIGTERM/SIGINT/SIGHUP handler while the library handles signals.</summary>
    public static readonly DiagnosticDescriptor OwnSignalHandler = new(
        id: "DT0002",
        title: "Signal handler runs alongside the DaemonThreads signal handling",
        messageFormat: "{0} runs, and then DaemonThreads ends the process: set 'ExitRegistry.HandleSignals = false' to own the signal, or watch 'ExitRegistry.ShuttingDown' instead",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "While ExitRegistry.HandleSignals is on, the first SIGTERM, SIGINT or SIGHUP runs the exit sequence and exits with 128 + the signal number. The application's own handler still runs, but cancelling the signal there (context.Cancel, e.Cancel) does not keep the process alive.",
        helpLinkUri: HelpLinkBase + "DT0002.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>DT0003: <c>DaemonThread</c>s started from <c>Main</c> in a program that never calls <c>ExitRegistry.RunMain</c>.</summary>
    public static readonly DiagnosticDescriptor StartWithoutRunMain = new(
        id: "DT0003",
        title: "Run the main program through ExitRegistry.RunMain",
        messageFormat: "'{0}.Start()' is called from Main, but the program never calls 'ExitRegistry.RunMain': the before-join hooks run only after the runtime's unbounded wait for foreground threads, and 'JoinTimeout' does not apply",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        description: "When Main returns on its own, the runtime waits for every foreground (non-daemon) thread without a bound before it raises ProcessExit, where the DaemonThreads sequence starts. Wrap the body of Main in 'return ExitRegistry.RunMain(() => { ... });' to get Python's order: before-join hooks, a bounded join, at-exit hooks, the report.",
        helpLinkUri: HelpLinkBase + "DT0003.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>DT0004: an async lambda or method group that becomes <c>async void</c> as a DaemonThreads callback.</summary>
    public static readonly DiagnosticDescriptor AsyncVoidCallback = new(
        id: "DT0004",
        title: "Async callback becomes async void",
        messageFormat: "This async {0} becomes 'async void' as the '{1}' callback of '{2}': it returns at its first 'await', and the rest runs unowned, after the thread or hook is considered finished",
        category: Category,
        defaultSeverity: DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        description: "DaemonThreads callbacks are Action-typed: a thread's target, a timer's callback, an exit hook, the exception hook, the report handler, the main program. An async lambda passed there compiles to async void; the thread ends (or the hook returns) at the first await, so the join and the hook order no longer cover the rest of the work, and an exception after the await crashes the process. Make the callback synchronous (wait for the task inside it), or use the async APIs' own shutdown integration.",
        helpLinkUri: HelpLinkBase + "DT0004.md");
}
