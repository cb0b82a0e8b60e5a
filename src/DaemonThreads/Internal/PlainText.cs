using System.Globalization;

namespace DaemonThreads.Internal;

/// <summary>
/// The few text operations the start-up and exit paths need, as plain loops: the framework's culture-aware formatting
/// and ordinal search each cost a short program 0.5-3 ms on their first use (benchmarks/README.md, "Wave 3").
/// </summary>
/// <remarks>
/// Strings and indexes, no spans: C# 14 converts a string to a <see cref="ReadOnlySpan{T}"/> through
/// <c>MemoryExtensions.AsSpan</c>, whose reference assembly is System.Memory, and the runtime loads that facade (0.25-0.6 ms)
/// at the first such conversion; a raw program never loads it (benchmarks/README.md, issue 11 "Wave 4").
/// </remarks>
internal static class PlainText
{
    /// <summary>Formats a number in decimal digits, as <c>ToString(CultureInfo.InvariantCulture)</c> does.</summary>
    /// <remarks>
    /// By hand: the process's first culture-aware formatting initialises CultureInfo and NumberFormatInfo, 2.3-2.9 ms of
    /// CPU in a short program (benchmarks/README.md, "Start-up"), which the generated name of its one thread would pay.
    /// </remarks>
    internal static unsafe string Decimal(int value)
    {
        if (value < 0)
        {
            return value.ToString(CultureInfo.InvariantCulture); // never for a counter; kept exact anyway
        }

        // A pointer, not a span: nothing here may reach System.Memory (see the class remarks).
        char* digits = stackalloc char[10];
        int start = 10;
        do
        {
            digits[--start] = (char)('0' + (value % 10));
            value /= 10;
        }
        while (value != 0);

        return new string(digits, start, 10 - start);
    }

    /// <summary>Tells whether <paramref name="text"/> has <paramref name="prefix"/> at <paramref name="start"/>, comparing chars (ordinal).</summary>
    /// <remarks>A loop: the first <c>StartsWith(..., StringComparison.Ordinal)</c> of a process costs about 0.5 ms of start-up.</remarks>
    internal static bool StartsWithOrdinal(string text, int start, string prefix)
    {
        if (text.Length - start < prefix.Length)
        {
            return false;
        }

        for (int i = 0; i < prefix.Length; i++)
        {
            if (text[start + i] != prefix[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The index of <paramref name="value"/> in <paramref name="text"/>, comparing chars (ordinal); -1 when absent.</summary>
    /// <remarks>A loop, for the same reason as <see cref="StartsWithOrdinal"/> (the first ordinal search costs milliseconds).</remarks>
    internal static int IndexOfOrdinal(string text, string value)
    {
        for (int i = 0; i + value.Length <= text.Length; i++)
        {
            if (StartsWithOrdinal(text, i, value))
            {
                return i;
            }
        }

        return -1;
    }
}
