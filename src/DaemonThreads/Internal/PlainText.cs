using System.Globalization;

namespace DaemonThreads.Internal;

/// <summary>
/// The few text operations the start-up and exit paths need, as plain loops: the framework's culture-aware formatting
/// and ordinal search each cost a short program 0.5-3 ms on their first use (benchmarks/README.md, "Wave 3").
/// </summary>
internal static class PlainText
{
    /// <summary>Formats a number in decimal digits, as <c>ToString(CultureInfo.InvariantCulture)</c> does.</summary>
    /// <remarks>
    /// By hand: the process's first culture-aware formatting initialises CultureInfo and NumberFormatInfo, 2.3-2.9 ms of
    /// CPU in a short program (benchmarks/README.md, "Start-up"), which the generated name of its one thread would pay.
    /// </remarks>
    internal static string Decimal(int value)
    {
        if (value < 0)
        {
            return value.ToString(CultureInfo.InvariantCulture); // never for a counter; kept exact anyway
        }

        Span<char> digits = stackalloc char[10];
        int start = digits.Length;
        do
        {
            digits[--start] = (char)('0' + (value % 10));
            value /= 10;
        }
        while (value != 0);

        return new string(digits[start..]);
    }

    /// <summary>Tells whether <paramref name="text"/> starts with <paramref name="prefix"/>, comparing chars (ordinal).</summary>
    /// <remarks>A loop: the first <c>StartsWith(..., StringComparison.Ordinal)</c> of a process costs about 0.5 ms of start-up.</remarks>
    internal static bool StartsWithOrdinal(ReadOnlySpan<char> text, string prefix)
    {
        if (text.Length < prefix.Length)
        {
            return false;
        }

        for (int i = 0; i < prefix.Length; i++)
        {
            if (text[i] != prefix[i])
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
            if (StartsWithOrdinal(text.AsSpan(i), value))
            {
                return i;
            }
        }

        return -1;
    }
}
