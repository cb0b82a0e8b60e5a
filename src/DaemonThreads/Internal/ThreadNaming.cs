using System.Globalization;

namespace DaemonThreads.Internal;

/// <summary>Python-compatible thread names: <c>Thread-N (target)</c>, <c>Dummy-N</c>, <c>MainThread</c>.</summary>
internal static class ThreadNaming
{
    internal const string MainThreadName = "MainThread";

    // One process-wide counter shared by generated thread names and dummies, starting at 1 (CPython's _counter).
    private static int s_counter;

    /// <summary>Draws the next number from the process-wide counter.</summary>
    internal static int NextNumber() => Interlocked.Increment(ref s_counter);

    /// <summary>Sets the counter so that the next number drawn is <paramref name="next"/>; for tests (CPython mocks <c>_counter</c>).</summary>
    internal static void SetNextNumberForTests(int next) => Volatile.Write(ref s_counter, next - 1);

    /// <summary>Builds <c>Thread-N</c> or <c>Thread-N (TargetName)</c>.</summary>
    internal static string ThreadName(int number, Delegate? target)
    {
        string n = number.ToString(CultureInfo.InvariantCulture);
        return target is null ? "Thread-" + n : "Thread-" + n + " (" + TargetName(target) + ")";
    }

    /// <summary>Builds <c>Dummy-N</c>.</summary>
    internal static string DummyName(int number) => "Dummy-" + number.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Gets the name Python would show for a target: the method name; <c>&lt;lambda&gt;</c> for a C# lambda
    /// (compiled as <c>&lt;Outer&gt;b__0_0</c>); the declared name of a C# local function (compiled as
    /// <c>&lt;Outer&gt;g__Name|0_0</c>).
    /// </summary>
    internal static string TargetName(Delegate target)
    {
        string name = target.Method.Name;
        if (name.Length == 0 || name[0] != '<')
        {
            return name;
        }

        int local = name.IndexOf(">g__", StringComparison.Ordinal);
        if (local >= 0)
        {
            int start = local + 4;
            int end = name.IndexOf('|', start);
            return end < 0 ? name[start..] : name[start..end];
        }

        return name.Contains(">b__", StringComparison.Ordinal) ? "<lambda>" : name;
    }
}
