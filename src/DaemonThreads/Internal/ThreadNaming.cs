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
    /// <param name="number">The number drawn from the counter.</param>
    /// <param name="target">The thread's target, or <see langword="null"/>.</param>
    /// <param name="targetExpression">The source text the caller wrote for the target (CallerArgumentExpression), if known.</param>
    internal static string ThreadName(int number, Delegate? target, string? targetExpression = null)
    {
        return PlainText.Numbered("Thread-", number, target is null ? null : IsLambdaExpressionCached(targetExpression) ? LambdaName : TargetName(target));
    }

    // The source text of the last target that read as a lambda, and of the last that did not. A call site passes the same
    // string object (a literal) every time, so threads started in a loop parse their text once (52.8 K -> 51.0 K
    // instructions per start+join, a raw Thread's 46.0 K; benchmarks/README.md, issue 11 "Wave 8"). Each field is one
    // reference, so a race costs at most a parse again.
    private static string? s_lastLambdaText;
    private static string? s_lastOtherText;

    private static bool IsLambdaExpressionCached(string? text)
    {
        if (text is null)
        {
            return false;
        }

        if (ReferenceEquals(text, s_lastLambdaText))
        {
            return true;
        }

        if (ReferenceEquals(text, s_lastOtherText))
        {
            return false;
        }

        bool isLambda = IsLambdaExpression(text);
        if (isLambda)
        {
            s_lastLambdaText = text;
        }
        else
        {
            s_lastOtherText = text;
        }

        return isLambda;
    }

    private const string LambdaName = "<lambda>";

    /// <summary>
    /// Tells from the source text of an argument whether it is, as a whole, a lambda (<c>() =&gt; ...</c>,
    /// <c>x =&gt; ...</c>, with <c>static</c> or <c>async</c>) or an anonymous method (<c>delegate { ... }</c>): then the
    /// delegate's method is a compiler-generated lambda, named <c>&lt;lambda&gt;</c> without reflection.
    /// </summary>
    /// <remarks>
    /// Anything else returns <see langword="false"/> and is named by reflection: a method group, a variable, a cast, a
    /// conditional whose branches are lambdas (which branch ran is not in the text).
    /// </remarks>
    internal static bool IsLambdaExpression(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        // Indexes into the string, not spans (see PlainText).
        int p = SkipSpaces(text, 0);
        while (true)
        {
            if (StartsWithWord(text, p, "static"))
            {
                p = SkipSpaces(text, p + 6);
            }
            else if (StartsWithWord(text, p, "async"))
            {
                p = SkipSpaces(text, p + 5);
            }
            else
            {
                break;
            }
        }

        if (StartsWithWord(text, p, "delegate"))
        {
            return true;
        }

        int afterParameters;
        if (p < text.Length && text[p] == '(')
        {
            // A parenthesised parameter list: the matching ')' must be followed by "=>" (a cast or a parenthesised
            // expression is followed by something else).
            int depth = 0;
            afterParameters = -1;
            for (int i = p; i < text.Length; i++)
            {
                if (text[i] == '(')
                {
                    depth++;
                }
                else if (text[i] == ')' && --depth == 0)
                {
                    afterParameters = i + 1;
                    break;
                }
            }

            if (afterParameters < 0)
            {
                return false;
            }
        }
        else
        {
            // One parameter without parentheses: an identifier, then "=>".
            int i = p;
            while (i < text.Length && (IsIdentifierChar(text[i]) || text[i] == '@'))
            {
                i++;
            }

            if (i == p)
            {
                return false;
            }

            afterParameters = i;
        }

        return PlainText.StartsWithOrdinal(text, SkipSpaces(text, afterParameters), "=>");
    }

    private static bool StartsWithWord(string s, int start, string word)
        => PlainText.StartsWithOrdinal(s, start, word) && (s.Length == start + word.Length || !IsIdentifierChar(s[start + word.Length]));

    /// <summary>Builds <c>Dummy-N</c>.</summary>
    internal static string DummyName(int number) => PlainText.Numbered("Dummy-", number, null);

    private static int SkipSpaces(string s, int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t' or '\r' or '\n')
        {
            i++;
        }

        return i;
    }

    private static bool IsIdentifierChar(char c)
        => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' || (c > 127 && char.IsLetterOrDigit(c));

    // What a target's name reads as where the runtime cannot tell it: NativeAOT with stack-trace data disabled
    // (StackTraceSupport=false), an open-instance delegate, or a runtime whose members NativeAotMethodInfo reads are missing.
    private const string UnknownTargetName = "<target>";

    /// <summary>Gets the name of the method a delegate calls, or <see langword="null"/> where the runtime cannot tell it.</summary>
    /// <remarks>
    /// Under NativeAOT from the image's stack-trace data (<c>NativeAotMethodInfo</c>), not <see cref="Delegate.Method"/>
    /// or <c>DiagnosticMethodInfo.Create(Delegate)</c>: either compiled the reflection runtime into the image, which the
    /// runtime rehydrates at every start (with <see cref="Delegate.Method"/> the short program read 1.14x raw, with
    /// <c>DiagnosticMethodInfo</c> 1.08x, with the stack-trace data 1.06x; benchmarks/README.md, "Wave 5" and "Wave 6").
    /// Under the JIT <see cref="Delegate.Method"/>, as before.
    /// </remarks>
    internal static string? MethodName(Delegate target)
    {
#if NET10_0_OR_GREATER
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
        {
            return NativeAotMethodInfo.Of(target)?.Name;
        }
#endif
        return target.Method.Name;
    }

    /// <summary>Gets the simple name of the type that declares the method a delegate calls (<c>Type.Name</c>), if known.</summary>
    internal static string? DeclaringTypeName(Delegate target)
    {
#if NET10_0_OR_GREATER
        if (!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported)
        {
            // "Namespace.Outer+Nested", with "[[...]]" after a generic type's arity: Type.Name is the part after the last
            // separator of what comes before the brackets.
            string? full = NativeAotMethodInfo.Of(target)?.DeclaringTypeName;
            if (full is null)
            {
                return null;
            }

            int end = full.IndexOf('[', StringComparison.Ordinal);
            end = end < 0 ? full.Length : end;
            if (end == 0)
            {
                return full; // not a type name this reads: as it is, rather than an exception on the exit's path
            }

            int start = Math.Max(full.LastIndexOf('.', end - 1), full.LastIndexOf('+', end - 1)) + 1;
            return full[start..end];
        }
#endif
        return target.Method.DeclaringType?.Name;
    }

    /// <summary>
    /// Gets the name Python would show for a target: the method name; <c>&lt;lambda&gt;</c> for a C# lambda
    /// (compiled as <c>&lt;Outer&gt;b__0_0</c>); the declared name of a C# local function (compiled as
    /// <c>&lt;Outer&gt;g__Name|0_0</c>).
    /// </summary>
    internal static string TargetName(Delegate target)
    {
        string name = MethodName(target) ?? UnknownTargetName;
        if (name.Length == 0 || name[0] != '<')
        {
            return name;
        }

        // The runtime hands out one name string per method (RuntimeMethodInfo keeps it), so a target started again and
        // again (a delegate kept in a field or a variable) finds its answer by reference instead of searching the
        // compiler's name char by char (1.2 K instructions a start; benchmarks/README.md, issue 11 "Wave 10"). The
        // answer depends on the text alone, so a stale or raced pair is never wrong: one object holds both strings.
        NamePair? last = s_lastGeneratedName;
        if (last is not null && ReferenceEquals(last.MethodName, name))
        {
            return last.Shown;
        }

        string shown = GeneratedTargetName(name);
        s_lastGeneratedName = new NamePair(name, shown);
        return shown;
    }

    // A class, not a struct: its one reference is read and written whole, so a racing start never sees half a pair.
    private sealed class NamePair(string methodName, string shown)
    {
        internal string MethodName { get; } = methodName;

        internal string Shown { get; } = shown;
    }

    private static NamePair? s_lastGeneratedName;

    // The name Python would show for a compiler-generated method name (one that begins with '<').
    private static string GeneratedTargetName(string name)
    {
        int local = PlainText.IndexOfOrdinal(name, ">g__");
        if (local >= 0)
        {
            int start = local + 4;
            int end = name.IndexOf('|', start);
            return end < 0 ? name[start..] : name[start..end];
        }

        return PlainText.IndexOfOrdinal(name, ">b__") >= 0 ? LambdaName : name;
    }
}
