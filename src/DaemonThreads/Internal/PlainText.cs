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
    internal static string Decimal(int value)
        => value < 0 ? value.ToString(CultureInfo.InvariantCulture) : Numbered(string.Empty, value, null); // negative: never for a counter; kept exact anyway

    /// <summary>Builds <c>prefix + number</c>, or <c>prefix + number + " (" + detail + ")"</c>, in one allocation.</summary>
    /// <remarks>
    /// A generated thread name (<c>Thread-N (target)</c>) made by concatenation took three allocations (the number's
    /// string, the parts' array, the name): 96 bytes of every start's 568, and allocation is what brings the gen0
    /// collections that stop every live thread (benchmarks/README.md, issue 11 "Wave 4").
    /// </remarks>
    internal static unsafe string Numbered(string prefix, int number, string? detail)
    {
        int length = prefix.Length + 10 + (detail is null ? 0 : detail.Length + 3);
        if (number < 0 || length > 512)
        {
            string n = number.ToString(CultureInfo.InvariantCulture); // a negative number or a very long detail: neither on the start-up path
            return detail is null ? prefix + n : prefix + n + " (" + detail + ")";
        }

        char* buffer = stackalloc char[length];
        prefix.CopyTo(new Span<char>(buffer, prefix.Length)); // block copies: the loops over the indexer took 0.92 K instructions a name, these 0.56 K (issue 11 "Wave 10")
        int at = prefix.Length;
        int digits = 1;
        for (int v = number; v >= 10; v /= 10)
        {
            digits++;
        }

        for (int i = at + digits - 1, v = number; i >= at; i--, v /= 10)
        {
            buffer[i] = (char)('0' + (v % 10));
        }

        at += digits;
        if (detail is not null)
        {
            buffer[at++] = ' ';
            buffer[at++] = '(';
            detail.CopyTo(new Span<char>(buffer + at, detail.Length));
            at += detail.Length;
            buffer[at++] = ')';
        }

        return new string(buffer, 0, at);
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
