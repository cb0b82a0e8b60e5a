namespace DaemonThreads.ExitScenarios;

/// <summary>Marker output for the parent test: one line, flushed at once.</summary>
internal static class Out
{
    private static readonly object s_lock = new();

    /// <summary>Writes one marker line to stdout and flushes it.</summary>
    public static void Line(string text)
    {
        lock (s_lock)
        {
            Console.Out.WriteLine(text);
            Console.Out.Flush();
        }
    }

    /// <summary>Writes the line <c>READY</c>, which tells the parent it may now send a signal.</summary>
    public static void Ready() => Line("READY");
}
