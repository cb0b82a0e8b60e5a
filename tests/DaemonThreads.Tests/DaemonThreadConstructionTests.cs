using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>SPEC 2.1 and 2.2: arguments, the daemon flag, its inheritance and its mapping to IsBackground.</summary>
public class DaemonThreadConstructionTests
{
    [Fact]
    public void Constructor_NullTarget_ThrowsArgumentNullException()
    {
        Action act = () => _ = new DaemonThread(null!);

        act.Should().Throw<ArgumentNullException>().WithParameterName("target");
    }

    [Fact]
    public void Constructor_NegativeMaxStackSize_ThrowsArgumentOutOfRangeException()
    {
        Action withTarget = () => _ = new DaemonThread(() => { }, maxStackSize: -1);
        Action subclass = () => _ = new RecordingThread(maxStackSize: -1);

        withTarget.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxStackSize");
        subclass.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxStackSize");
    }

    // Ports CPython test_threading.ThreadTests.test_daemon_param (B1 #17)
    [Fact]
    public void Constructor_DaemonParameter_IsHonoured()
    {
        bool inherited = ThreadTestHelpers.OnMainProgram(() => new DaemonThread(() => { }).IsDaemon);
        var explicitFalse = new DaemonThread(() => { }, isDaemon: false);
        var explicitTrue = new DaemonThread(() => { }, isDaemon: true);

        inherited.Should().BeFalse("the main program is non-daemon and a null flag inherits it");
        explicitFalse.IsDaemon.Should().BeFalse();
        explicitTrue.IsDaemon.Should().BeTrue();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Constructor_NullDaemonInsideDaemonThread_InheritsConstructingThreadsFlag(bool parentIsDaemon)
    {
        bool child = ThreadTestHelpers.OnDaemonThread(parentIsDaemon, () => new DaemonThread(() => { }).IsDaemon);
        bool subclassChild = ThreadTestHelpers.OnDaemonThread(parentIsDaemon, () => new RecordingThread().IsDaemon);

        child.Should().Be(parentIsDaemon, "isDaemon: null copies the constructing thread's flag");
        subclassChild.Should().Be(parentIsDaemon, "the protected constructor inherits the same way");
    }

    [Fact]
    public void Constructor_NullDaemonInsideRawThread_IsDaemonBecauseDummiesAreDaemon()
    {
        bool child = ThreadTestHelpers.OnRawThread(() => new DaemonThread(() => { }).IsDaemon);

        child.Should().BeTrue("a foreign thread is adopted as a daemon dummy, and its children inherit that");
    }

    [Fact]
    public void Constructor_NullDaemonOnMainProgram_IsNonDaemon()
    {
        bool child = ThreadTestHelpers.OnMainProgram(() => new DaemonThread(() => { }).IsDaemon);

        child.Should().BeFalse("the main thread is non-daemon");
    }

    [Fact]
    public void Constructor_NullDaemon_ReadsFlagAtConstructionNotAtStart()
    {
        DaemonThread built = ThreadTestHelpers.OnDaemonThread(true, () => new DaemonThread(() => { }));
        bool background = false;
        var probe = ThreadTestHelpers.OnMainProgram(() =>
        {
            var t = new DaemonThread(() => background = Thread.CurrentThread.IsBackground);
            return t;
        });

        built.IsDaemon.Should().BeTrue("it was constructed on a daemon thread");
        built.Start();
        built.Join(TestTimeouts.Unexpected).Should().BeTrue();
        built.IsDaemon.Should().BeTrue("starting it from another thread does not re-read the flag");
        probe.Start();
        probe.Join(TestTimeouts.Unexpected).Should().BeTrue();
        background.Should().BeFalse("a non-daemon thread runs in the foreground");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Start_UnderlyingThreadIsBackground_EqualsIsDaemon(bool isDaemon)
    {
        bool? background = null;
        var thread = new DaemonThread(() => background = Thread.CurrentThread.IsBackground, isDaemon: isDaemon);

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue("the body only reads a flag");

        background.Should().Be(isDaemon, "IsBackground maps IsDaemon (SPEC 2.1)");
    }

    [Fact]
    public void IsDaemon_SetBeforeStart_ChangesTheUnderlyingThread()
    {
        bool? background = null;
        var thread = new DaemonThread(() => background = Thread.CurrentThread.IsBackground, isDaemon: false);

        thread.IsDaemon = true;
        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        thread.IsDaemon.Should().BeTrue();
        background.Should().BeTrue("the flag set before Start is the one frozen at Start");
    }

    // Ports CPython test_threading.ThreadingExceptionTests.test_daemonize_active_thread (B4 #57)
    [Fact]
    public void IsDaemon_SetWhileRunning_ThrowsThreadStateException()
    {
        using var release = new ManualResetEventSlim();
        var thread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: true);
        thread.Start();

        try
        {
            Action act = () => thread.IsDaemon = false;

            act.Should().Throw<ThreadStateException>().WithMessage("*cannot set daemon status of active thread*");
            thread.IsDaemon.Should().BeTrue("the failed set changed nothing");
        }
        finally
        {
            release.Set();
            thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        }
    }

    [Fact]
    public void IsDaemon_SetAfterThreadEnded_ThrowsThreadStateException()
    {
        var thread = new DaemonThread(() => { }, isDaemon: true);
        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        Action act = () => thread.IsDaemon = true;

        act.Should().Throw<ThreadStateException>().WithMessage("*cannot set daemon status of active thread*", "the flag is frozen at Start, not only while running");
    }

    [Fact]
    public void IsDaemon_SetOnMain_ThrowsThreadStateException()
    {
        Action act = () => DaemonThread.Main.IsDaemon = false;

        act.Should().Throw<ThreadStateException>().WithMessage("*cannot set daemon status of active thread*");
        DaemonThread.Main.IsDaemon.Should().BeFalse();
    }

    [Fact]
    public void IsDaemon_SetOnDummy_ThrowsThreadStateException()
    {
        Exception? failure = ThreadTestHelpers.OnRawThread<Exception?>(() =>
        {
            try
            {
                DaemonThread.Current.IsDaemon = false;
                return null;
            }
            catch (ThreadStateException ex)
            {
                return ex;
            }
        });

        failure.Should().NotBeNull("a dummy counts as started").And.BeOfType<ThreadStateException>();
    }

    [Fact]
    public void Name_SetNull_ThrowsArgumentNullException()
    {
        var thread = new DaemonThread(() => { }, name: "kept");

        Action act = () => thread.Name = null!;

        act.Should().Throw<ArgumentNullException>();
        thread.Name.Should().Be("kept");
    }

    // Ports CPython test_threading.ThreadTests.test_args_argument (B1 #2): C# passes arguments by closure.
    [Fact]
    public void Run_TargetWithCapturedArguments_ReceivesTheSameObjectsOnce()
    {
        var list = new List<int> { 1, 2 };
        var tuple = (Inner: new List<int> { 3 }, Text: "x");
        var seen = new List<object>();
        int calls = 0;
        var thread = new DaemonThread(() =>
        {
            Interlocked.Increment(ref calls);
            seen.Add(list);
            seen.Add(tuple.Inner);
        });

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        calls.Should().Be(1, "the target runs exactly once");
        seen.Should().HaveCount(2);
        seen[0].Should().BeSameAs(list);
        seen[1].Should().BeSameAs(tuple.Inner);
    }

    // Ports CPython test_threading.ThreadTests.test_boolean_target (B1 #31): the target is checked for null only.
    [Fact]
    public void Run_MulticastOrNoOpLookingTarget_StillRuns()
    {
        int first = 0, second = 0;
        Action target = () => first++;
        target += () => second++;
        var thread = new DaemonThread(target);

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        first.Should().Be(1);
        second.Should().Be(1, "every delegate in the invocation list runs");
    }

    [Fact]
    public void Run_Subclass_RunsOverriddenRun()
    {
        var thread = new RecordingThread(isDaemon: true);

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        thread.Ran.Should().BeTrue();
        thread.RanOn.Should().BeSameAs(thread, "Current inside Run is the thread itself");
    }

    private sealed class RecordingThread(bool? isDaemon = null, int maxStackSize = 0) : DaemonThread(null, isDaemon, maxStackSize)
    {
        public bool Ran { get; private set; }

        public DaemonThread? RanOn { get; private set; }

        protected override void Run()
        {
            Ran = true;
            RanOn = Current;
        }
    }
}
