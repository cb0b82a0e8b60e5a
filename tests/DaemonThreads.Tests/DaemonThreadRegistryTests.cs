using System.Diagnostics.Metrics;
using DaemonThreads.Internal;
using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>SPEC 2.4 and 2.6: the registry's exact contents, which need the process to themselves.</summary>
[Collection(GlobalState.Name)]
public class DaemonThreadRegistryTests
{
    [ThreadStatic]
    private static bool t_isStarter;

    // Ports CPython test_threading.ThreadTests.test_limbo_cleanup (B1 #7)
    [Fact]
    public void Start_OsRefusesThread_PropagatesLeavesNothingRegisteredAndCanStartAgain()
    {
        bool ran = false;
        var thread = new DaemonThread(() => ran = true, isDaemon: true);
        int countBefore = DaemonThread.ActiveCount;
#pragma warning disable CA2201 // Thread.Start reports a thread the OS refused as OutOfMemoryException; the seam imitates it.
        DaemonThread.StartThreadOverrideForTests = _ => throw new OutOfMemoryException("injected start failure");
#pragma warning restore CA2201
        Action start = thread.Start;
        try
        {
            start.Should().Throw<OutOfMemoryException>().WithMessage("injected start failure");
        }
        finally
        {
            DaemonThread.StartThreadOverrideForTests = null;
        }

        DaemonThread.Enumerate().Should().NotContain(thread, "a refused start leaves nothing registered");
        DaemonThread.ActiveCount.Should().Be(countBefore);
        thread.IsAlive.Should().BeFalse();
        thread.ManagedThreadId.Should().BeNull();
        thread.NativeThreadId.Should().BeNull();
        thread.ToString().Should().Contain("initial");
        Action join = thread.Join;
        join.Should().Throw<ThreadStateException>("the thread was never started");

        thread.Start();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        ran.Should().BeTrue("the second start ran the thread");
    }

    [Fact]
    public void JoinAndToString_WhileStartIsStillStartingTheOsThread_WaitAndSayInitial()
    {
        using var inStart = new ManualResetEventSlim();
        using var proceed = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var thread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), name: "starting", isDaemon: true);
        var starter = new DaemonThread(
            () =>
            {
                t_isStarter = true;
                thread.Start();
            },
            isDaemon: true);
        Exception? timedJoinFailure = null, blockingJoinFailure = null;
        bool joinedEarly = true;
        using var joinerWaiting = new ManualResetEventSlim();
        var joiner = new DaemonThread(
            () =>
            {
                joinerWaiting.Set();
                try
                {
                    thread.Join();
                }
                catch (Exception ex)
                {
                    blockingJoinFailure = ex;
                }
            },
            isDaemon: true);
        string reprWhileStarting;
        DaemonThread.StartThreadOverrideForTests = t =>
        {
            // Only the start made by `starter` (of the thread under test) blocks; the OS thread is not named
            // before it runs, so the thread is told apart by the OS thread that starts it. Not by DaemonThread.Current:
            // Start makes the thread being started the logical owner before the OS start (so that the new thread's
            // ExecutionContext carries it), so on the test's own thread Current is `starter` while `starter` itself
            // starts; that blocked the test thread here until the 30 s ceiling, and the test then raced the released
            // starter (ThreadStateException from Join when it lost).
            if (t_isStarter)
            {
                inStart.Set();
                proceed.Wait(TestTimeouts.Unexpected);
            }

            t.Start();
        };
        try
        {
            starter.Start();
            inStart.Wait(TestTimeouts.Unexpected).Should().BeTrue();

            reprWhileStarting = thread.ToString();
            try
            {
                joinedEarly = thread.Join(TimeSpan.Zero);
            }
            catch (Exception ex)
            {
                timedJoinFailure = ex;
            }

            joiner.Start();
            joinerWaiting.Wait(TestTimeouts.Unexpected).Should().BeTrue();
        }
        finally
        {
            proceed.Set();
            starter.Join(TestTimeouts.Unexpected).Should().BeTrue();
            DaemonThread.StartThreadOverrideForTests = null;
        }

        release.Set();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        joiner.Join(TestTimeouts.Unexpected).Should().BeTrue("the blocking join returns once the started thread ends");

        blockingJoinFailure.Should().BeNull();
        reprWhileStarting.Should().NotContain("stopped", "a thread that has not run yet has not stopped").And.Contain("initial");
        timedJoinFailure.Should().BeNull("a join racing with Start waits for the start instead of failing");
        joinedEarly.Should().BeFalse("the thread had not even started");
    }

    [Fact]
    public void ActiveCount_EqualsEnumerateCount()
    {
        using var release = new ManualResetEventSlim();
        int before = DaemonThread.ActiveCount;
        var threads = Enumerable.Range(0, 3).Select(i => new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: i != 1)).ToList();
        threads.ForEach(t => t.Start());

        try
        {
            DaemonThread.ActiveCount.Should().Be(DaemonThread.Enumerate().Count);
            DaemonThread.ActiveCount.Should().Be(before + 3);
        }
        finally
        {
            release.Set();
            threads.ForEach(t => t.Join(TestTimeouts.Unexpected).Should().BeTrue());
        }

        DaemonThread.ActiveCount.Should().Be(before).And.Be(DaemonThread.Enumerate().Count);
    }

    // Ports CPython test_threading.ThreadTests.test_shutdown_locks (B1 #29): the registry counts the non-daemon
    // threads the exit sequence must join, separately from daemon threads, and drops them when they finish.
    [Fact]
    public void Registry_CountsNonDaemonSeparatelyAndDropsFinishedThreads()
    {
        using var release = new ManualResetEventSlim();
        (int daemon, int nonDaemon) before = LiveCounts();
        var daemonThread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: true);
        var nonDaemonThread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: false);
        daemonThread.Start();
        nonDaemonThread.Start();

        (int daemon, int nonDaemon) during = LiveCounts();
        release.Set();
        daemonThread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        nonDaemonThread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        (int daemon, int nonDaemon) after = LiveCounts();

        during.Should().Be((before.daemon + 1, before.nonDaemon + 1));
        after.Should().Be(before, "finished threads leave the registry");
    }

    private static (int Daemon, int NonDaemon) LiveCounts()
    {
        Measurement<int>[] m = ThreadRegistry.Default.LiveMeasurements();
        int daemon = m.Single(x => x.Tags.ToArray().Single().Value is true).Value;
        int nonDaemon = m.Single(x => x.Tags.ToArray().Single().Value is false).Value;
        return (daemon, nonDaemon);
    }
}
