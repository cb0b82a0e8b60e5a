namespace DaemonThreads.Internal;

/// <summary>Writes the library's two pieces of contractual stderr output: the default exception hook and the shutdown report.</summary>
internal static class StandardError
{
    /// <summary>Writes <paramref name="text"/> to <see cref="Console.Error"/> in one call, then flushes.</summary>
    /// <remarks>One <c>Write</c> keeps the block whole when several threads report at once (<c>Console.Error</c> is synchronized).</remarks>
    internal static void Write(string text)
    {
        try
        {
            TextWriter error = Console.Error;
            error.Write(text);
            error.Flush();
        }
        catch (IOException)
        {
            // stderr is closed or broken: there is nowhere left to report to, and a report must never crash the process.
        }
        catch (ObjectDisposedException)
        {
            // Same as above: the stream was disposed during process exit.
        }
    }
}
