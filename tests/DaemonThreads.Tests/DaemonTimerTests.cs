using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>SPEC 2.8: DaemonTimer.</summary>
public class DaemonTimerTests
{
    private static readonly TimeSpan s_never = TimeSpan.FromMinutes(10);

    [Fact]
    public void Start_AfterInterval_FiresOnceOnTheTimersThread()
    {
        int calls = 0;
        DaemonThread? ranOn = null;
        DaemonTimer? timer = null;
        timer = new DaemonTimer(TimeSpan.FromMilliseconds(1), () =>
        {
            Interlocked.Increment(ref calls);
            ranOn = DaemonThread.Current;
        }, isDaemon: true);

        timer.Start();
        timer.Join(TestTimeouts.Unexpected).Should().BeTrue();

        calls.Should().Be(1);
        ranOn.Should().BeSameAs(timer);
        timer.IsFinished.Should().BeTrue();
    }

    [Fact]
    public void Start_ZeroInterval_FiresAtOnce()
    {
        using var fired = new ManualResetEventSlim();
        var timer = new DaemonTimer(TimeSpan.Zero, fired.Set, isDaemon: true);

        timer.Start();

        fired.Wait(TestTimeouts.Unexpected).Should().BeTrue("a zero interval does not wait");
        timer.Join(TestTimeouts.Unexpected).Should().BeTrue();
    }

    [Fact]
    public void Start_BeforeIntervalElapsed_HasNotFiredYet()
    {
        bool fired = false;
        var timer = new DaemonTimer(s_never, () => fired = true, isDaemon: true);
        timer.Start();

        bool ended = timer.Join(TestTimeouts.Expected);
        bool finishedWhileWaiting = timer.IsFinished;
        timer.Cancel();
        timer.Join(TestTimeouts.Unexpected).Should().BeTrue("Cancel wakes the waiting timer at once");

        ended.Should().BeFalse("the timer is still waiting");
        finishedWhileWaiting.Should().BeFalse();
        fired.Should().BeFalse("a cancelled timer never calls");
        timer.IsFinished.Should().BeTrue();
    }

    [Fact]
    public void Cancel_BeforeStart_TimerRunsAndEndsWithoutCalling()
    {
        bool fired = false;
        var timer = new DaemonTimer(TimeSpan.Zero, () => fired = true, isDaemon: true);

        timer.Cancel();
        timer.Start();
        timer.Join(TestTimeouts.Unexpected).Should().BeTrue();

        fired.Should().BeFalse();
        timer.IsFinished.Should().BeTrue();
    }

    [Fact]
    public void Cancel_AfterFiringAndRepeatedly_IsHarmless()
    {
        int calls = 0;
        var timer = new DaemonTimer(TimeSpan.Zero, () => Interlocked.Increment(ref calls), isDaemon: true);
        timer.Start();
        timer.Join(TestTimeouts.Unexpected).Should().BeTrue();

        Action cancel = () =>
        {
            timer.Cancel();
            timer.Cancel();
            timer.Cancel();
        };

        cancel.Should().NotThrow();
        calls.Should().Be(1);
        timer.IsFinished.Should().BeTrue();
    }

    [Fact]
    public void Cancel_WhileWaitingRepeatedlyFromManyThreads_IsHarmless()
    {
        bool fired = false;
        var timer = new DaemonTimer(s_never, () => fired = true, isDaemon: true);
        timer.Start();

        var cancellers = Enumerable.Range(0, 4).Select(_ => new DaemonThread(timer.Cancel, isDaemon: true)).ToList();
        cancellers.ForEach(c => c.Start());
        cancellers.ForEach(c => c.Join(TestTimeouts.Unexpected).Should().BeTrue());
        timer.Join(TestTimeouts.Unexpected).Should().BeTrue();

        fired.Should().BeFalse();
    }

    // Ports CPython test_threading.TimerTests.test_init_immutable_default_args (B6 #74): timers share no state.
    [Fact]
    public void Timers_CreatedWithDefaults_ShareNoState()
    {
        var calls = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var timer1 = new DaemonTimer(TimeSpan.Zero, () => calls.Enqueue("timer1"), isDaemon: true);
        var timer2 = new DaemonTimer(TimeSpan.Zero, () => calls.Enqueue("timer2"), isDaemon: true);
        var cancelled = new DaemonTimer(TimeSpan.Zero, () => calls.Enqueue("cancelled"), isDaemon: true);

        cancelled.Cancel();
        timer1.Start();
        timer1.Join(TestTimeouts.Unexpected).Should().BeTrue();
        timer2.Start();
        timer2.Join(TestTimeouts.Unexpected).Should().BeTrue();

        calls.Should().Equal("timer1", "timer2");
        timer2.IsFinished.Should().BeTrue();
        cancelled.IsFinished.Should().BeTrue();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Constructor_NullDaemon_InheritsConstructingThreadsFlag(bool parentIsDaemon)
    {
        bool isDaemon = ThreadTestHelpers.OnDaemonThread(parentIsDaemon, () => new DaemonTimer(TimeSpan.Zero, () => { }).IsDaemon);

        isDaemon.Should().Be(parentIsDaemon);
    }

    [Fact]
    public void Constructor_NoName_IsThreadNAndToStringShowsDaemonTimer()
    {
        var timer = new DaemonTimer(TimeSpan.Zero, () => { }, isDaemon: true);

        timer.Name.Should().MatchRegex("^Thread-[0-9]+$");
        timer.ToString().Should().Be($"<DaemonTimer({timer.Name}, initial daemon)>");
    }

    [Fact]
    public void Constructor_NullCallback_ThrowsArgumentNullException()
    {
        Action act = () => _ = new DaemonTimer(TimeSpan.Zero, null!);

        act.Should().Throw<ArgumentNullException>().WithParameterName("callback");
    }

    [Fact]
    public void Constructor_NegativeOrInfiniteInterval_ThrowsArgumentOutOfRangeException()
    {
        Action negative = () => _ = new DaemonTimer(TimeSpan.FromMilliseconds(-5), () => { });
        Action infinite = () => _ = new DaemonTimer(Timeout.InfiniteTimeSpan, () => { });

        negative.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("interval");
        infinite.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("interval");
    }

    [Fact]
    public void Start_CalledTwice_ThrowsThreadStateException()
    {
        var timer = new DaemonTimer(TimeSpan.Zero, () => { }, isDaemon: true);
        timer.Start();

        Action again = timer.Start;

        again.Should().Throw<ThreadStateException>().WithMessage("*threads can only be started once*");
        timer.Join(TestTimeouts.Unexpected).Should().BeTrue();
    }
}
