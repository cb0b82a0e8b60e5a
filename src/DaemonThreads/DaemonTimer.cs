namespace DaemonThreads;

/// <summary>A thread that calls a callback once after an interval, unless cancelled first.</summary>
/// <remarks>
/// <para>
/// Python equivalent: <c>threading.Timer</c>. It is a <see cref="DaemonThread"/>: named <c>Thread-N</c> unless
/// named, daemon flag inherited unless given, started with <see cref="DaemonThread.Start"/>, joined at exit when
/// non-daemon (so a pending non-daemon timer delays exit until it fires; cancel it from a before-join hook to avoid
/// that). An interval of zero fires at once.
/// </para>
/// <para>
/// Unlike CPython, <see cref="IsFinished"/> is set even when the callback throws (the exception still goes to
/// <see cref="DaemonThread.ExceptHook"/>). Thread safety: every member may be called from any thread.
/// </para>
/// </remarks>
public class DaemonTimer : DaemonThread
{
    private readonly TimeSpan _interval;
    private readonly Action _callback;
    private readonly object _gate = new();
    private bool _finished;

    /// <summary>Creates a timer that calls <paramref name="callback"/> once, <paramref name="interval"/> after <see cref="DaemonThread.Start"/>.</summary>
    /// <param name="interval">How long to wait before calling; zero calls at once.</param>
    /// <param name="callback">The code to call on the timer's thread.</param>
    /// <param name="name">The thread's name; <see langword="null"/> generates <c>Thread-N</c>.</param>
    /// <param name="isDaemon">The daemon flag, or <see langword="null"/> to copy the constructing thread's.</param>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is negative, infinite, or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    public DaemonTimer(TimeSpan interval, Action callback, string? name = null, bool? isDaemon = null)
        : base(name, isDaemon)
    {
        ArgumentNullException.ThrowIfNull(callback);
        if (interval < TimeSpan.Zero || interval.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "The interval must be zero or positive and at most int.MaxValue milliseconds.");
        }

        _interval = interval;
        _callback = callback;
    }

    /// <summary>Gets whether the timer has fired or been cancelled.</summary>
    /// <remarks>Python equivalent: <c>Timer.finished.is_set()</c>.</remarks>
    public bool IsFinished
    {
        get
        {
            lock (_gate)
            {
                return _finished;
            }
        }
    }

    /// <summary>Stops the timer if it has not fired yet; harmless before start, while waiting, after firing, and when repeated.</summary>
    /// <remarks>Python equivalent: <c>Timer.cancel()</c>. A timer cancelled while waiting wakes at once and ends without calling.</remarks>
    public void Cancel() => Finish();

    /// <summary>Waits for the interval, then calls the callback unless cancelled.</summary>
    protected override void Run()
    {
        try
        {
            if (!WaitForCancel())
            {
                _callback();
            }
        }
        finally
        {
            Finish();
        }
    }

    private void Finish()
    {
        lock (_gate)
        {
            _finished = true;
            Monitor.PulseAll(_gate);
        }
    }

    // Bounded by the interval; Cancel() ends the wait early. Returns true when cancelled.
    private bool WaitForCancel()
    {
        var deadline = Internal.Deadline.After(_interval);
        lock (_gate)
        {
            while (!_finished)
            {
                int wait = deadline.RemainingMilliseconds();
                if (wait == 0)
                {
                    return false;
                }

                Monitor.Wait(_gate, wait);
            }

            return true;
        }
    }
}
