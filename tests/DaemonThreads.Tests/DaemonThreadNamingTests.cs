using DaemonThreads.Internal;
using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>SPEC 2.3: generated names, one counter shared with dummies, the OS-visible name.</summary>
/// <remarks>These tests pin the process-wide counter, so they run alone.</remarks>
[Collection(GlobalState.Name)]
public class DaemonThreadNamingTests
{
    public DaemonThreadNamingTests()
    {
        // The xunit worker thread is a foreign thread: adopt it now, so that its Dummy-N does not draw a number
        // from a counter a test has just pinned.
        _ = DaemonThread.Current;
    }

    // Ports CPython test_threading.ThreadTests.test_name (B1 #1)
    [Fact]
    public void Name_ExplicitOrGenerated_FollowsPythonRules()
    {
        var named = new DaemonThread(Target, name: "myname1", isDaemon: true);
        var numeric = new DaemonThread(Target, name: 123.ToString(System.Globalization.CultureInfo.InvariantCulture), isDaemon: true);
        ThreadNaming.SetNextNumberForTests(2);
        var empty = new NamedSubclass(name: "");
        ThreadNaming.SetNextNumberForTests(3);
        var unset = new NamedSubclass();
        ThreadNaming.SetNextNumberForTests(5);
        var withTarget = new DaemonThread(Target, isDaemon: true);

        named.Name.Should().Be("myname1", "an explicit name beats the target");
        numeric.Name.Should().Be("123");
        empty.Name.Should().Be("Thread-2", "an empty name is generated");
        unset.Name.Should().Be("Thread-3");
        withTarget.Name.Should().Be("Thread-5 (Target)");
    }

    [Fact]
    public void Name_LambdaTarget_IsThreadNLambda()
    {
        ThreadNaming.SetNextNumberForTests(7);

        var thread = new DaemonThread(() => { }, isDaemon: true);

        thread.Name.Should().Be("Thread-7 (<lambda>)");
    }

    [Fact]
    public void Name_LambdaInAVariableOrBehindACast_IsNamedFromItsMethod()
    {
        // Not a lambda as written (a variable, a cast, a conditional): the name comes from the delegate's method, so it
        // is the same as when the lambda is written in place.
        Action inVariable = () => { };
        Action local = Target;
        bool flag = true;
        ThreadNaming.SetNextNumberForTests(60);

        var fromVariable = new DaemonThread(inVariable, isDaemon: true);
        var fromCast = new DaemonThread((Action)(() => { }), isDaemon: true);
        var fromConditional = new DaemonThread(flag ? local : () => { }, isDaemon: true);

        fromVariable.Name.Should().Be("Thread-60 (<lambda>)");
        fromCast.Name.Should().Be("Thread-61 (<lambda>)");
        fromConditional.Name.Should().Be("Thread-62 (Target)", "the branch that ran, which the source text cannot tell");
    }

    [Fact]
    public void Name_ATargetExpressionThatIsNotALambda_IsIgnoredForTheMethodsName()
    {
        // The parameter the compiler fills in is public; a caller that passes a wrong text gets the method's name.
        ThreadNaming.SetNextNumberForTests(70);

        var thread = new DaemonThread(Target, isDaemon: true, targetExpression: "Worker");

        thread.Name.Should().Be("Thread-70 (Target)");
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(7, "7")]
    [InlineData(10, "10")]
    [InlineData(1234567890, "1234567890")]
    [InlineData(int.MaxValue, "2147483647")]
    [InlineData(-5, "-5")]
    public void Decimal_FormatsAsTheInvariantCulture(int value, string expected)
    {
        PlainText.Decimal(value).Should().Be(expected).And.Be(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("Thread-", 1, null, "Thread-1")]
    [InlineData("Thread-", 70, "<lambda>", "Thread-70 (<lambda>)")]
    [InlineData("Dummy-", 1234567890, null, "Dummy-1234567890")]
    [InlineData("Thread-", int.MaxValue, "Target", "Thread-2147483647 (Target)")]
    [InlineData("Thread-", 0, "", "Thread-0 ()")]
    [InlineData("Thread-", -3, "x", "Thread--3 (x)")]
    public void Numbered_BuildsWhatConcatenationBuilds(string prefix, int number, string? detail, string expected)
    {
        string concatenated = detail is null ? prefix + number.ToString(System.Globalization.CultureInfo.InvariantCulture) : prefix + number.ToString(System.Globalization.CultureInfo.InvariantCulture) + " (" + detail + ")";
        PlainText.Numbered(prefix, number, detail).Should().Be(expected).And.Be(concatenated);
    }

    [Fact]
    public void Numbered_WithADetailLongerThanTheStackBuffer_FallsBackToConcatenation()
    {
        string detail = new('m', 2000);
        PlainText.Numbered("Thread-", 5, detail).Should().Be("Thread-5 (" + detail + ")");
    }

    [Fact]
    public void Numbered_AllocatesOnlyTheName()
    {
        // Issue 11 wave 4: a generated name was three allocations (the number's string, the concatenation's array, the
        // name); 96 bytes of each start.
        PlainText.Numbered("Thread-", 12, "<lambda>"); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        string name = PlainText.Numbered("Thread-", 12, "<lambda>");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // One string: 22 bytes of header, length and terminator plus 2 per char, rounded up to 8 (64 for these 19 chars).
        allocated.Should().BeLessThanOrEqualTo((2 * name.Length) + 32, "one string of {0} chars is all it allocates", name.Length);
    }

    [Theory]
    [InlineData("<Main>b__0_0", ">b__", 5)]
    [InlineData("<Main>g__Worker|0_0", ">g__", 5)]
    [InlineData("abc", "abcd", -1)]
    [InlineData("", ">b__", -1)]
    [InlineData("aab", "ab", 1)]
    public void IndexOfOrdinal_FindsTheFirstOccurrence(string text, string value, int expected)
    {
        PlainText.IndexOfOrdinal(text, value).Should().Be(expected).And.Be(text.IndexOf(value, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("() => { }", true)]
    [InlineData("  () =>x++", true)]
    [InlineData("static () => Work()", true)]
    [InlineData("async () => await Task.Yield()", true)]
    [InlineData("static async () => { }", true)]
    [InlineData("delegate { }", true)]
    [InlineData("delegate () { x++; }", true)]
    [InlineData("x => x", true)]
    [InlineData("(a, b) => a", true)]
    [InlineData("((int x) => x)", false)]
    [InlineData("(Action)(() => { })", false)]
    [InlineData("flag ? () => A() : () => B()", false)]
    [InlineData("(flag ? Worker : () => B())", false)]
    [InlineData("Worker", false)]
    [InlineData("obj.Work", false)]
    [InlineData("delegateWork", false)]
    [InlineData("staticWork", false)]
    [InlineData("GetWork()", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("(", false)]
    public void IsLambdaExpression_TellsALambdaAsWrittenFromAnythingElse(string? text, bool expected)
    {
        ThreadNaming.IsLambdaExpression(text).Should().Be(expected);
    }

    // ThreadName remembers the last lambda text and the last other text by reference (issue 11): every order of repeats
    // and alternations, and a text equal to a remembered one but another object, must name as a fresh parse does.
    [Fact]
    public void ThreadName_RepeatedAndAlternatingTargetTexts_NameAsAFreshParse()
    {
        Action target = Target;
        string lambda = "() => Work()", method = "Target", other = "(Action)(() => Work())";
        string lambdaCopy = new(lambda.ToCharArray()), methodCopy = new(method.ToCharArray());
        string[] texts = [lambda, lambda, method, method, lambda, other, method, lambdaCopy, methodCopy, other, lambda];
        for (int i = 0; i < texts.Length; i++)
        {
            string expected = ThreadNaming.IsLambdaExpression(texts[i]) ? $"Thread-{i} (<lambda>)" : $"Thread-{i} (Target)";
            ThreadNaming.ThreadName(i, target, texts[i]).Should().Be(expected, $"text {i} is \"{texts[i]}\"");
        }

        ThreadNaming.ThreadName(99, target, null).Should().Be("Thread-99 (Target)");
    }

    // TargetName remembers the last compiler-generated method name by reference (issue 11 "Wave 10"): targets kept in
    // variables and started again and again, in every order of repeats and alternations, must name as a fresh read does,
    // and so must a new delegate over the same method (a closure made again).
    [Fact]
    public void TargetName_RepeatedAndAlternatingGeneratedTargets_NameAsAFreshRead()
    {
        int calls = 0;
        void First() => calls++;
        void Second() => calls--;
        Action lambda = () => calls++;
        Action[] targets = [First, First, lambda, Second, lambda, lambda, First, Second, Second, Target, First, MakeClosure(1), MakeClosure(2), lambda];
        string[] expected = ["First", "First", "<lambda>", "Second", "<lambda>", "<lambda>", "First", "Second", "Second", "Target", "First", "<lambda>", "<lambda>", "<lambda>"];
        for (int i = 0; i < targets.Length; i++)
        {
            ThreadNaming.TargetName(targets[i]).Should().Be(expected[i], $"target {i} calls {targets[i].Method.Name}");
        }
    }

    private static Action MakeClosure(int value) => () => _ = value;

    [Fact]
    public void Name_LocalFunctionTarget_IsItsDeclaredName()
    {
        ThreadNaming.SetNextNumberForTests(8);
        int calls = 0;
        void Worker() => calls++;

        var thread = new DaemonThread(Worker, isDaemon: true);

        thread.Name.Should().Be("Thread-8 (Worker)");
    }

    [Fact]
    public void Name_MethodGroupTarget_IsTheMethodName()
    {
        ThreadNaming.SetNextNumberForTests(9);

        var staticTarget = new DaemonThread(Target, isDaemon: true);
        var instanceTarget = new DaemonThread(new NamedSubclass().InstanceTarget, isDaemon: true);

        staticTarget.Name.Should().Be("Thread-9 (Target)");
        instanceTarget.Name.Should().Be("Thread-11 (InstanceTarget)", "the subclass constructed in between drew 10");
    }

    [Fact]
    public void Name_ExplicitName_DrawsNoNumber()
    {
        ThreadNaming.SetNextNumberForTests(20);

        var named = new DaemonThread(Target, name: "explicit", isDaemon: true);
        var timerNamed = new DaemonTimer(TimeSpan.Zero, Target, name: "timer", isDaemon: true);
        var next = new NamedSubclass();

        named.Name.Should().Be("explicit");
        timerNamed.Name.Should().Be("timer");
        next.Name.Should().Be("Thread-20", "explicit names do not consume the counter");
    }

    [Fact]
    public void Name_SubclassAndTimer_AreThreadNWithoutTarget()
    {
        ThreadNaming.SetNextNumberForTests(30);

        var subclass = new NamedSubclass();
        var timer = new DaemonTimer(TimeSpan.Zero, Target, isDaemon: true);

        subclass.Name.Should().Be("Thread-30");
        timer.Name.Should().Be("Thread-31", "a timer is a subclass: no target in its name, as Python's Timer");
    }

    [Fact]
    public void Name_Dummies_ShareTheCounterWithThreads()
    {
        ThreadNaming.SetNextNumberForTests(40);

        string dummy = ThreadTestHelpers.OnRawThread(() => DaemonThread.Current.Name);
        var after = new NamedSubclass();

        dummy.Should().Be("Dummy-40");
        after.Name.Should().Be("Thread-41", "dummies and threads draw from one counter");
    }

    [Fact]
    public void Name_Main_IsMainThread()
    {
        DaemonThread.Main.Name.Should().Be("MainThread");
    }

    [Fact]
    public void Name_OsVisibleName_FollowsNameBeforeStartAndWhileRunning()
    {
        using var renamed = new ManualResetEventSlim();
        using var firstRead = new ManualResetEventSlim();
        string? atStart = null, afterRename = null;
        var thread = new DaemonThread(
            () =>
            {
                atStart = Thread.CurrentThread.Name;
                firstRead.Set();
                renamed.Wait(TestTimeouts.Unexpected);
                afterRename = Thread.CurrentThread.Name;
            },
            name: "before",
            isDaemon: true);
        thread.Name = "set before start";

        thread.Start();
        firstRead.Wait(TestTimeouts.Unexpected).Should().BeTrue();
        thread.Name = "renamed";
        renamed.Set();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        atStart.Should().Be("set before start");
        afterRename.Should().Be("renamed", "the OS-visible name follows Name while running");
        thread.Name.Should().Be("renamed");
    }

    // Bootstrap names the OS thread itself (RuntimeThreadName) instead of through Thread.Name's setter, which would
    // contend with Thread.Start for the Thread object's lock: what the OS shows must still be the name, cut to Linux's
    // 15 bytes at a whole character, and Thread.Name must still be the whole name.
    [Theory]
    [InlineData("worker", "worker")]
    [InlineData("Thread-12 (<lambda>)", "Thread-12 (<lam")]
    [InlineData("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9")]
    [InlineData("exactly15-bytes", "exactly15-bytes")]
    [InlineData("abcdefghijklmno\u00e9", "abcdefghijklmno")]
    [InlineData("abcdefghijklmn\u00e9", "abcdefghijklmn")]
    [InlineData("ab\u00e9cd-\u4e2d\u6587-xyz", "ab\u00e9cd-\u4e2d\u6587-x")]
    [InlineData("x", "x")]
    public void Name_OsVisibleNameOnLinux_IsTheNameCutTo15BytesAtAWholeCharacter(string name, string expected)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the OS name is read from /proc
        }

        ThreadTestHelpers.WarmUpStarts(); // the library names the OS thread itself only once the starts are warm
        string? osName = null, managedName = null;
        var thread = new DaemonThread(
            () =>
            {
                osName = File.ReadAllText("/proc/thread-self/comm").TrimEnd('\n');
                managedName = Thread.CurrentThread.Name;
            },
            name: name,
            isDaemon: true);

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        osName.Should().Be(expected, "Linux keeps 15 bytes of the name, and a character is not split");
        managedName.Should().Be(name, "Thread.Name inside the body is the DaemonThread's whole name (SPEC 2.3)");
    }

    // A lone surrogate is not text: what the OS shows has U+FFFD in its place (3 bytes), as the rest of .NET writes it.
    // Built in code: xunit's test-case serialisation would already have replaced it in an InlineData string.
    [Fact]
    public void Name_OsVisibleNameWithALoneSurrogate_ShowsTheReplacementCharacter()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the OS name is read from /proc
        }

        ThreadTestHelpers.WarmUpStarts();
        foreach ((string name, string expected) in new[]
        {
            ("ab" + '\ud800' + "cd", "ab\ufffdcd"),
            ("abcdefghijklm" + '\udc00', "abcdefghijklm"), // U+FFFD's 3 bytes do not fit in the 2 left
            ("abcdefghijkl" + '\udc00' + "z", "abcdefghijkl\ufffd"),
        })
        {
            string? osName = null;
            var thread = new DaemonThread(() => osName = File.ReadAllText("/proc/thread-self/comm").TrimEnd('\n'), name: name, isDaemon: true);
            thread.Start();
            thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
            osName.Should().Be(expected, "the name has {0} UTF-16 units", name.Length);
        }
    }

    // Bootstrap names the new thread without taking the DaemonThread's lock (issue 11 "Wave 10"), and the Name setter
    // may run on the starter while it does: whichever lands last, the thread must end up with the name set last, in
    // Thread.Name and in what the OS shows. Repeated, because the interleaving differs from start to start; warm, so the
    // runtime-private path is the one raced.
    [Fact]
    public void Name_SetWhileTheThreadNamesItself_TheLastNameWins()
    {
        ThreadTestHelpers.WarmUpStarts();
        for (int i = 0; i < 200; i++)
        {
            using var renamed = new ManualResetEventSlim();
            string? osName = null, managedName = null;
            var thread = new DaemonThread(
                () =>
                {
                    renamed.Wait(TestTimeouts.Unexpected);
                    managedName = Thread.CurrentThread.Name;
                    osName = OperatingSystem.IsLinux() ? File.ReadAllText("/proc/thread-self/comm").TrimEnd('\n') : managedName;
                },
                name: "first-name",
                isDaemon: true);

            thread.Start();
            thread.Name = "last" + i;
            renamed.Set();
            thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

            managedName.Should().Be("last" + i, $"start {i}: the setter ran after Start, so its name is the last");
            osName.Should().Be("last" + i, $"start {i}: the OS-visible name follows");
        }
    }

    [Fact]
    public void Name_SetAfterThreadEnded_ChangesNameOnly()
    {
        var thread = new DaemonThread(Target, name: "first", isDaemon: true);
        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        thread.Name = "second";

        thread.Name.Should().Be("second");
        thread.ToString().Should().Contain("(second, stopped");
    }

    private static void Target()
    {
    }

    private sealed class NamedSubclass(string? name = null) : DaemonThread(name, isDaemon: true)
    {
        public void InstanceTarget() => _ = Name;

        protected override void Run()
        {
        }
    }
}
