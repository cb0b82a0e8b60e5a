namespace DaemonThreads;

/// <summary>
/// Describes an exception that escaped a thread body; the argument of <see cref="DaemonThread.ExceptHook"/>.
/// </summary>
/// <remarks>
/// Python equivalent: <c>threading.ExceptHookArgs</c>. The .NET exception carries its own type and stack
/// trace, so the Python fields <c>exc_type</c>, <c>exc_value</c> and <c>exc_traceback</c> collapse into
/// <see cref="Exception"/>. Instances are immutable and safe to share between threads.
/// </remarks>
public sealed class ThreadExceptionInfo
{
    /// <summary>Creates the description of a failure, for example to call a hook by hand.</summary>
    /// <param name="exception">The exception that escaped the thread body.</param>
    /// <param name="thread">The thread it escaped from, or <see langword="null"/> when unknown.</param>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is <see langword="null"/>.</exception>
    public ThreadExceptionInfo(Exception exception, DaemonThread? thread)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Exception = exception;
        Thread = thread;
    }

    /// <summary>Gets the exception that escaped the thread body.</summary>
    public Exception Exception { get; }

    /// <summary>Gets the thread the exception escaped from, or <see langword="null"/> when the hook is called by hand without one.</summary>
    public DaemonThread? Thread { get; }
}
