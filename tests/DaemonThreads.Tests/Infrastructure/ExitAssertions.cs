namespace DaemonThreads.Tests.Infrastructure;

/// <summary>Shared bounds and helpers of the child-process exit tests.</summary>
public static class ExitAssertions
{
    /// <summary>
    /// The wall-time bound of a scenario that should exit promptly: start-up of a fresh runtime is 0.1–0.3 s alone,
    /// and about 1 s on the shared 2-core machine while other builds run; the scenario's own simulated work is
    /// under 1.5 s. A hang would reach <see cref="TestTimeouts.Unexpected"/> (30 s) instead, so 20 s tells the two apart.
    /// </summary>
    public static readonly TimeSpan Prompt = TimeSpan.FromSeconds(20);

    /// <summary>The stderr line that reports abandoned daemon threads, as the exit sequence writes it.</summary>
    public static string Abandoned(params string[] names)
        => $"DaemonThreads: shutdown abandoned {names.Length} daemon thread(s): {string.Join(", ", names)}";

    /// <summary>The stderr line that reports timed-out non-daemon threads.</summary>
    public static string TimedOut(params string[] names)
        => $"DaemonThreads: shutdown stopped waiting for {names.Length} non-daemon thread(s), abandoned: {string.Join(", ", names)}";

    /// <summary>Splits stderr into lines, without empty ones.</summary>
    public static string[] StderrLines(this ScenarioResult result)
        => result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
