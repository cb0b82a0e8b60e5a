using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>SPEC 2.4 and 2.5: Start and Join.</summary>
public class DaemonThreadStartJoinTests
{
    // Ports CPython test_threading.ThreadingExceptionTests.test_start_thread_again (B4 #54)
    [Fact]
    public void Start_CalledTwice_ThrowsThreadStateException()
    {
        var thread = new DaemonThread(() => { }, isDaemon: true);
        thread.Start();

        Action again = thread.Start;

        again.Should().Throw<ThreadStateException>().WithMessage("*threads can only be started once*");
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        again.Should().Throw<ThreadStateException>("a finished thread cannot be restarted either");
    }

    [Fact]
    public void Start_OnReturn_ThreadIsListedAndHasIds()
    {
        using var release = new ManualResetEventSlim();
        var thread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: true);

        thread.Start();

        try
        {
            DaemonThread.Enumerate().Should().Contain(thread, "Start returns once the thread is registered");
            thread.IsAlive.Should().BeTrue();
            thread.ManagedThreadId.Should().NotBeNull();
            thread.NativeThreadId.Should().NotBeNull("Linux has gettid()");
        }
        finally
        {
            release.Set();
            thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        }
    }

    // Ports CPython test_threading.ThreadingExceptionTests.test_joining_inactive_thread (B4 #56)
    [Fact]
    public void Join_BeforeStart_ThrowsThreadStateException()
    {
        var thread = new DaemonThread(() => { }, isDaemon: true);

        Action join = thread.Join;
        Action timedJoin = () => thread.Join(TimeSpan.Zero);
        Action asyncJoin = () => _ = thread.JoinAsync();

        join.Should().Throw<ThreadStateException>().WithMessage("*cannot join thread before it is started*");
        timedJoin.Should().Throw<ThreadStateException>().WithMessage("*cannot join thread before it is started*");
        asyncJoin.Should().Throw<ThreadStateException>().WithMessage("*cannot join thread before it is started*");
    }

    // Ports CPython test_threading.ThreadingExceptionTests.test_joining_current_thread (B4 #55)
    // and test_thread.py test_join_from_self / test_join_then_self_join (B7 #82)
    [Fact]
    public void Join_FromItsOwnThread_ThrowsInvalidOperationExceptionWhileAnotherThreadJoinsIt()
    {
        using var outsideJoining = new ManualResetEventSlim();
        Exception? plain = null, timed = null, viaCurrent = null, asyncJoin = null;
        DaemonThread? self = null;
        self = new DaemonThread(
            () =>
            {
                outsideJoining.Wait(TestTimeouts.Unexpected);
                plain = Record(() => self!.Join());
                timed = Record(() => self!.Join(TestTimeouts.Unexpected));
                viaCurrent = Record(() => DaemonThread.Current.Join());
                asyncJoin = Record(() => self!.JoinAsync());
            },
            isDaemon: true);
        self.Start();
        var outsideJoiner = new DaemonThread(
            () =>
            {
                outsideJoining.Set();
                self.Join();
            },
            isDaemon: true);

        outsideJoiner.Start();

        outsideJoiner.Join(TestTimeouts.Unexpected).Should().BeTrue("the self-join throws instead of deadlocking");
        self.Join(TestTimeouts.Unexpected).Should().BeTrue();
        foreach (Exception? e in new[] { plain, timed, viaCurrent, asyncJoin })
        {
            e.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("cannot join current thread");
        }
    }

    [Fact]
    public void Join_Dummy_ThrowsInvalidOperationException()
    {
        DaemonThread dummy = ThreadTestHelpers.OnRawThread(() => DaemonThread.Current);

        Action join = dummy.Join;
        Action timedJoin = () => dummy.Join(TimeSpan.Zero);

        join.Should().Throw<InvalidOperationException>().WithMessage("*cannot join a dummy thread*");
        timedJoin.Should().Throw<InvalidOperationException>().WithMessage("*cannot join a dummy thread*");
    }

    [Fact]
    public void Join_DummyFromItself_ThrowsCannotJoinADummyThread()
    {
        Exception? failure = ThreadTestHelpers.OnRawThread(() => Record(() => DaemonThread.Current.Join()));

        failure.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("cannot join a dummy thread");
    }

    [Theory]
    [InlineData(-2)]
    [InlineData(-1000)]
    public void Join_NegativeTimeout_ThrowsArgumentOutOfRangeException(int milliseconds)
    {
        var thread = new DaemonThread(() => { }, isDaemon: true);
        thread.Start();

        Action act = () => thread.Join(TimeSpan.FromMilliseconds(milliseconds));

        act.Should().Throw<ArgumentOutOfRangeException>("negative timeouts are rejected, not clamped");
        thread.Join(Timeout.InfiniteTimeSpan).Should().BeTrue("the infinite timeout is the one negative value allowed");
    }

    // Ports CPython test_threading.ThreadTests.test_join_with_timeout (B1 #13) and test_thread.py test_join_with_timeout (B7 #83)
    [Fact]
    public void Join_WithTimeoutWhileRunning_ReturnsFalseThenTrueAfterItEnds()
    {
        using var release = new ManualResetEventSlim();
        var thread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: true);
        thread.Start();

        bool zero = thread.Join(TimeSpan.Zero);
        bool shortWait = thread.Join(TestTimeouts.Expected);
        bool aliveAfterTimedJoin = thread.IsAlive;
        release.Set();
        thread.Join();

        zero.Should().BeFalse("the thread is blocked");
        shortWait.Should().BeFalse("the thread is blocked");
        aliveAfterTimedJoin.Should().BeTrue();
        thread.IsAlive.Should().BeFalse("the full join waits for the end");
        thread.Join(TimeSpan.Zero).Should().BeTrue("a zero timeout on an ended thread reports it ended");
    }

    // Ports CPython test_thread.py test_join_thread, test_join_thread_already_exited, test_join_several_times (B7 #81)
    [Fact]
    public void Join_AfterExitAndSeveralTimes_Succeeds()
    {
        using var ended = new ManualResetEventSlim();
        Thread? raw = null;
        var thread = new DaemonThread(
            () =>
            {
                raw = Thread.CurrentThread;
                ended.Set();
            },
            isDaemon: true);
        thread.Start();
        ended.Wait(TestTimeouts.Unexpected).Should().BeTrue();
        raw!.Join(TestTimeouts.Unexpected).Should().BeTrue("the OS thread ends on its own");

        thread.Join();
        thread.Join();
        bool timed = thread.Join(TestTimeouts.Unexpected);

        timed.Should().BeTrue();
        thread.IsAlive.Should().BeFalse();
    }

    [Fact]
    public void Join_DaemonThread_IsAllowed()
    {
        using var release = new ManualResetEventSlim();
        bool finished = false;
        var thread = new DaemonThread(
            () =>
            {
                release.Wait(TestTimeouts.Unexpected);
                finished = true;
            },
            isDaemon: true);
        thread.Start();

        bool early = thread.Join(TestTimeouts.Expected);
        release.Set();
        thread.Join();

        early.Should().BeFalse();
        finished.Should().BeTrue("joining a daemon thread waits for it (the seed article is wrong)");
    }

    // Ports CPython test_threading.ThreadTests.test_join_from_multiple_threads (B1 #12)
    [Fact]
    public void Join_FromManyThreadsAtOnce_AllReturnWithoutError()
    {
        for (int joiners = 2; joiners < 20; joiners++)
        {
            using var release = new ManualResetEventSlim();
            using var allWaiting = new CountdownEvent(joiners);
            var worker = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: true);
            worker.Start();
            var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
            var joinerThreads = Enumerable.Range(0, joiners).Select(_ => new DaemonThread(
                () =>
                {
                    allWaiting.Signal();
                    Exception? e = Record(worker.Join);
                    if (e is not null)
                    {
                        errors.Add(e);
                    }
                },
                isDaemon: true)).ToList();

            joinerThreads.ForEach(j => j.Start());
            allWaiting.Wait(TestTimeouts.Unexpected).Should().BeTrue();
            release.Set();

            foreach (DaemonThread j in joinerThreads)
            {
                j.Join(TestTimeouts.Unexpected).Should().BeTrue("every joiner returns once the worker ends");
            }

            errors.Should().BeEmpty();
            worker.IsAlive.Should().BeFalse();
        }
    }

    [Fact]
    public async Task JoinAsync_CompletesWhenTheThreadEnds()
    {
        using var release = new ManualResetEventSlim();
        var thread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: true);
        thread.Start();

        Task joined = thread.JoinAsync();
        bool early = await Task.WhenAny(joined, Task.Delay(TestTimeouts.Expected)) == joined;
        release.Set();
        await joined.WaitAsync(TestTimeouts.Unexpected);

        early.Should().BeFalse("the thread is still blocked");
        joined.IsCompletedSuccessfully.Should().BeTrue();
        DaemonThread.Enumerate().Should().NotContain(thread, "JoinAsync completes after the thread left the registry");
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        await thread.JoinAsync().WaitAsync(TestTimeouts.Unexpected);
    }

    // CPython: once a thread's run() and its cleanup are done, is_alive() is False, although the OS thread may still be
    // exiting; join() returns at that point too. Repeated, because on a raw Thread the OS thread's exit races with the
    // continuation: with IsAlive read from the OS thread, some of these completions saw it still alive.
    [Fact]
    public async Task JoinAsync_Completed_TheThreadIsNoLongerAliveNorListed()
    {
        const int Threads = 200;
        int stillAlive = 0;
        int stillListed = 0;
        for (int i = 0; i < Threads; i++)
        {
            var thread = new DaemonThread(static () => { }, isDaemon: true);
            thread.Start();
            await thread.JoinAsync().WaitAsync(TestTimeouts.Unexpected);
            if (thread.IsAlive)
            {
                stillAlive++;
            }

            if (DaemonThread.Enumerate().Contains(thread))
            {
                stillListed++;
            }
        }

        stillAlive.Should().Be(0, "a thread whose body, hook and cleanup have finished is not alive, whatever its OS thread is still doing");
        stillListed.Should().Be(0);
    }

    // Join returns once the body, the hook and the registry's cleanup are done, not when the OS thread has exited: every
    // observation right after it must already see the end, on each of many short threads (daemon and not, both Joins).
    [Fact]
    public void Join_OnManyShortThreads_SeesTheEndRightAfterItReturnsEveryTime()
    {
        const int Threads = 300;
        int failures = 0;
        for (int i = 0; i < Threads; i++)
        {
            bool bodyDone = false;
            var thread = new DaemonThread(() => bodyDone = true, isDaemon: i % 2 == 0);
            thread.Start();
            if (i % 4 < 2)
            {
                thread.Join();
            }
            else
            {
                thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
            }

            if (!bodyDone || thread.IsAlive || DaemonThread.Enumerate().Contains(thread) || !thread.Join(TimeSpan.Zero))
            {
                failures++;
            }
        }

        failures.Should().Be(0, "after Join the body has run, the thread is not alive, not listed, and a zero-timeout Join says it ended");
    }

    // A joiner interrupted while it waits gets ThreadInterruptedException, as Thread.Join does, and the wait it left
    // behind does not disturb the joins that follow.
    [Fact]
    public void Join_InterruptedWhileWaiting_ThrowsThreadInterruptedExceptionAndLaterJoinsStillReturn()
    {
        using var release = new ManualResetEventSlim();
        var thread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: true);
        thread.Start();
        Exception? caught = null;
        var joiner = new Thread(() =>
        {
            try
            {
                thread.Join();
            }
            catch (Exception e)
            {
                caught = e;
            }
        });
        joiner.Start();
        SpinWait.SpinUntil(() => (joiner.ThreadState & ThreadState.WaitSleepJoin) != 0, TestTimeouts.Unexpected).Should().BeTrue();
        joiner.Interrupt();
        joiner.Join(TestTimeouts.Unexpected).Should().BeTrue();
        release.Set();

        caught.Should().BeOfType<ThreadInterruptedException>();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue("the interrupted wait left nothing behind that blocks a later join");
        thread.IsAlive.Should().BeFalse();
    }

    [Fact]
    public async Task JoinAsync_Cancelled_CancelsTheWaitNotTheThread()
    {
        using var release = new ManualResetEventSlim();
        using var cts = new CancellationTokenSource();
        var thread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: true);
        thread.Start();

        Task joined = thread.JoinAsync(cts.Token);
        await cts.CancelAsync();
        Func<Task> wait = () => joined.WaitAsync(TestTimeouts.Unexpected);

        await wait.Should().ThrowAsync<OperationCanceledException>();
        thread.IsAlive.Should().BeTrue("cancelling the wait does not stop the thread");
        release.Set();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
    }

    [Fact]
    public void JoinAsync_Main_ThrowsInvalidOperationException()
    {
        Action act = () => _ = DaemonThread.Main.JoinAsync();

        act.Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void Join_Main_FromAnotherThreadDoesNotReturnWhileMainRuns()
    {
        bool joined = ThreadTestHelpers.OnDaemonThread(true, () => DaemonThread.Main.Join(TestTimeouts.Expected));

        joined.Should().BeFalse("the main thread ends only when the main program ends");
    }

    private static Exception? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }
}
