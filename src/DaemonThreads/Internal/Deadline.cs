using System.Diagnostics;

namespace DaemonThreads.Internal;

/// <summary>A point in time after which a wait gives up; infinite when built from <see cref="Timeout.InfiniteTimeSpan"/>.</summary>
internal readonly struct Deadline
{
    private readonly long _endTimestamp; // long.MaxValue: never

    private Deadline(long endTimestamp) => _endTimestamp = endTimestamp;

    /// <summary>Gets a deadline that never passes.</summary>
    internal static Deadline Infinite => new(long.MaxValue);

    /// <summary>Gets a value indicating whether this deadline never passes.</summary>
    internal bool IsInfinite => _endTimestamp == long.MaxValue;

    /// <summary>Creates the deadline that is <paramref name="timeout"/> from now.</summary>
    internal static Deadline After(TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return Infinite;
        }

        long ticks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        long now = Stopwatch.GetTimestamp();
        return new Deadline(ticks >= long.MaxValue - now ? long.MaxValue - 1 : now + ticks);
    }

    /// <summary>Returns the earlier of two deadlines.</summary>
    internal static Deadline Min(Deadline a, Deadline b) => a._endTimestamp <= b._endTimestamp ? a : b;

    /// <summary>Gets the milliseconds left (rounded up), 0 once passed, or <see cref="Timeout.Infinite"/>.</summary>
    internal int RemainingMilliseconds()
    {
        if (IsInfinite)
        {
            return Timeout.Infinite;
        }

        long left = _endTimestamp - Stopwatch.GetTimestamp();
        if (left <= 0)
        {
            return 0;
        }

        double ms = Math.Ceiling(left * 1000.0 / Stopwatch.Frequency);
        return ms >= int.MaxValue ? int.MaxValue - 1 : (int)ms;
    }
}
