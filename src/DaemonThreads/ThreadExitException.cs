namespace DaemonThreads;

/// <summary>
/// Ends the current <see cref="DaemonThread"/> silently when thrown from its body.
/// </summary>
/// <remarks>
/// Python equivalent: <c>SystemExit</c> raised in a thread other than the main one (<c>sys.exit()</c> in a
/// worker). The thread ends, the default <see cref="DaemonThread.ExceptHook"/> prints nothing, a custom hook
/// still receives it, and the process's exit code is not changed. Thrown from the function given to
/// <see cref="ExitRegistry.RunMain(Func{int})"/>, it ends the main program with exit code 0, silently.
/// </remarks>
public sealed class ThreadExitException : Exception
{
    /// <summary>Creates the exception with a default message.</summary>
    public ThreadExitException()
        : base("The thread asked to end.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">Why the thread ends.</param>
    public ThreadExitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">Why the thread ends.</param>
    /// <param name="innerException">The exception that led to it.</param>
    public ThreadExitException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
