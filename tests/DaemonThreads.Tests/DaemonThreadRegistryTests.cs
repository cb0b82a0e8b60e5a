using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using DaemonThreads.Internal;
using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>SPEC 2.4 and 2.6: the registry's exact contents, which need the process to themselves.</summary>
[Collection(GlobalState.Name)]
public class DaemonThreadRegistryTests
{
    // Bootstrap pulses the thread's lock only when somebody waits on it (a pulse gives the lock object a sync block, a
    // native allocation per thread): a NativeThreadId reader already waiting when the new thread records its id must
    // still be woken, not left waiting for ever.
    [Fact]
    public void NativeThreadId_ReaderWaitingBeforeTheOsThreadRuns_IsWokenWithTheId()
    {
        using var release = new ManualResetEventSlim();
        var thread = new DaemonThread(() => release.Wait(TestTimeouts.Unexpected), isDaemon: true);
        long? seen = null;
        var reader = new Thread(() => seen = thread.NativeThreadId) { IsBackground = true };
        bool readerWaited = false;
        DaemonThread.StartThreadOverrideForTests = startOsThread =>
        {
            // Start has published the started state, the OS thread does not exist yet: the reader must wait in the getter.
            reader.Start();
            readerWaited = SpinWait.SpinUntil(() => (reader.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0, TestTimeouts.Unexpected);
            startOsThread();
        };
        try
        {
            thread.Start();
        }
        finally
        {
            DaemonThread.StartThreadOverrideForTests = null;
        }

        bool readerReturned = reader.Join(TestTimeouts.Unexpected);
        release.Set();
        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();

        readerWaited.Should().BeTrue("the id is not known before the OS thread runs, so the reader waits");
        readerReturned.Should().BeTrue("Bootstrap pulses the lock for a counted waiter once it has recorded the id");
        seen.Should().Be(thread.NativeThreadId);
        (OperatingSystem.IsLinux() ? seen : 1).Should().NotBeNull();
    }

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
        var starter = new DaemonThread(thread.Start, isDaemon: true);
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
        DaemonThread.StartThreadOverrideForTests = startOsThread =>
        {
            // Only the start made by `starter` (of the thread under test) blocks; the OS thread is not named
            // before it runs, so the thread is told apart by who starts it. By OS thread, not Current: Start puts the
            // thread being started in the flowing context before Thread.Start, so on a pool thread (the test's own,
            // starting `starter`) Current here is that thread, and this seam used to block the test for the full
            // TestTimeouts.Unexpected before going on.
            if (ReferenceEquals(DaemonThread.StartedOnCurrentOsThread(), starter))
            {
                inStart.Set();
                proceed.Wait(TestTimeouts.Unexpected);
            }

            startOsThread();
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

    // Issue 9 A: dead dummies used to be dropped only by Enumerate/ActiveCount, so short-lived foreign threads that
    // read Current kept every dummy (and its Thread) until something enumerated. Adding prunes, amortised.
    [Fact]
    public void AddDummy_ManyShortLivedForeignThreadsWithoutEnumerate_KeepsTheDummyListBounded()
    {
        const int ForeignThreads = 2_000;
        int before = ThreadRegistry.Default.DummyCount;
        int peak = 0;

        for (int i = 0; i < ForeignThreads; i++)
        {
            var raw = new Thread(() => _ = DaemonThread.Current);
            raw.Start();
            raw.Join(TestTimeouts.Unexpected).Should().BeTrue("the raw thread only reads Current");
            peak = Math.Max(peak, ThreadRegistry.Default.DummyCount);
        }

        // At most one of these dummies is alive at a time; a prune runs once the list has doubled since the last one
        // (and at the earliest at 16 entries), so the list never holds more than about twice the live ones.
        peak.Should().BeLessThanOrEqualTo((2 * before) + 32, "dead dummies are pruned as new ones are added");
    }

    // Issue 9 D: Start() refused by the OS raced with readers on other threads: IsAlive threw NullReferenceException
    // (state read as started, thread field already reset) and a JoinAsync made while the start was in flight never
    // completed. Bounded repetition: each round the failing start and three readers leave one barrier together.
    [Fact]
    public async Task Start_OsRefusesWhileOtherThreadsReadAndJoin_NoReaderFailsAndNoWaitHangs()
    {
        const int Rounds = 500;
        const int Readers = 3;
        var clock = Stopwatch.StartNew();
        TimeSpan Remaining() => TestTimeouts.Unexpected - clock.Elapsed > TimeSpan.Zero ? TestTimeouts.Unexpected - clock.Elapsed : TimeSpan.Zero;
        using var barrier = new Barrier(Readers + 1);
        DaemonThread? target = null;
        var failures = new ConcurrentQueue<Exception>();
        var joinTasks = new ConcurrentQueue<Task>();
        int brokenBarriers = 0;
        bool roundOver = false;
        using var reading = new ManualResetEventSlim();
        Action<DaemonThread>[] reads =
        [
            t =>
            {
                // Reads until the refused Start() has returned (bounded by it), to overlap the reset as often as possible.
                do
                {
                    _ = t.IsAlive;
                    reading.Set(); // before NativeThreadId, which waits for the start to finish either way
                    _ = t.ToString() + t.NativeThreadId;
                }
                while (!Volatile.Read(ref roundOver));
            },
            t =>
            {
                try
                {
                    bool joined = t.Join(Remaining());
                    failures.Enqueue(new InvalidOperationException("Join of a thread whose start failed returned " + joined));
                }
                catch (ThreadStateException)
                {
                    // Expected: the thread was never started (or its Start() failed while the join waited).
                }
            },
            t =>
            {
                try
                {
                    joinTasks.Enqueue(t.JoinAsync());
                }
                catch (ThreadStateException)
                {
                    // Expected when the start had already failed.
                }
            },
        ];
        var readers = reads.Select(read => new DaemonThread(
            () =>
            {
                for (int round = 0; round < Rounds; round++)
                {
                    if (!barrier.SignalAndWait(Remaining()))
                    {
                        Interlocked.Increment(ref brokenBarriers);
                        return;
                    }

                    try
                    {
                        read(Volatile.Read(ref target)!);
                    }
                    catch (Exception ex)
                    {
                        failures.Enqueue(ex);
                    }

                    if (!barrier.SignalAndWait(Remaining()))
                    {
                        Interlocked.Increment(ref brokenBarriers);
                        return;
                    }
                }
            },
            isDaemon: true)).ToList();
        readers.ForEach(r => r.Start());
#pragma warning disable CA2201 // Thread.Start reports a thread the OS refused as OutOfMemoryException; the seam imitates it.
        DaemonThread.StartThreadOverrideForTests = _ =>
        {
            // Start has published the thread as started; the readers go now, and the refusal unwinds it while the
            // first of them is reading in a loop.
            barrier.SignalAndWait(Remaining());
            reading.Wait(Remaining());
            throw new OutOfMemoryException("injected start failure");
        };
#pragma warning restore CA2201
        int refused = 0;
        try
        {
            for (int round = 0; round < Rounds && Volatile.Read(ref brokenBarriers) == 0; round++)
            {
                var thread = new DaemonThread(() => { }, isDaemon: true);
                Volatile.Write(ref target, thread);
                Volatile.Write(ref roundOver, false);
                reading.Reset();
                try
                {
                    thread.Start();
                }
                catch (OutOfMemoryException)
                {
                    refused++;
                }

                Volatile.Write(ref roundOver, true);
                barrier.SignalAndWait(Remaining());
            }
        }
        finally
        {
            DaemonThread.StartThreadOverrideForTests = null;
            readers.ForEach(r => r.Join(Remaining()).Should().BeTrue("every reader's wait is bounded"));
        }

        Task all = Task.WhenAll(joinTasks);
        bool allCompleted = await Task.WhenAny(all, Task.Delay(Remaining())) == all;

        brokenBarriers.Should().Be(0, "no round hung");
        refused.Should().Be(Rounds);
        failures.Should().BeEmpty("readers racing a refused start see a thread that never started");
        allCompleted.Should().BeTrue("a JoinAsync made while the start was in flight completes when it fails");
        joinTasks.Should().OnlyContain(
            t => t.IsFaulted && t.Exception!.InnerException is ThreadStateException,
            "the start failed, so there is nothing to join");
    }

    // Issue 9 E: the exit's point of no return may abandon a non-daemon thread while Start() is anywhere between
    // registering it and starting its OS thread. The Thread object is published before the thread is registered, and
    // AbandonAtExit also leaves a flag that Start honours before Thread.Start, so the abandon is never lost.
    [Fact]
    public void AbandonAtExit_BeforeStart_StartsTheNonDaemonThreadInBackground()
    {
        bool? background = null;
        var thread = new DaemonThread(() => background = Thread.CurrentThread.IsBackground, isDaemon: false);

        thread.AbandonAtExit();
        thread.Start();

        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        background.Should().BeTrue("an abandoned thread must not hold the runtime's wait for foreground threads");
        thread.IsDaemon.Should().BeFalse("abandoning changes only what the runtime waits for, not the flag");
    }

    [Fact]
    public void AbandonAtExit_WhileStartIsAboutToStartTheOsThread_StartsItInBackground()
    {
        bool? background = null;
        var thread = new DaemonThread(() => background = Thread.CurrentThread.IsBackground, isDaemon: false);
        DaemonThread.StartThreadOverrideForTests = startOsThread =>
        {
            thread.AbandonAtExit();
            startOsThread();
        };
        try
        {
            thread.Start();
        }
        finally
        {
            DaemonThread.StartThreadOverrideForTests = null;
        }

        thread.Join(TestTimeouts.Unexpected).Should().BeTrue();
        background.Should().BeTrue("the thread was registered, so the abandon applies to it");
    }

    private static (int Daemon, int NonDaemon) LiveCounts()
    {
        Measurement<int>[] m = ThreadRegistry.Default.LiveMeasurements();
        int daemon = m.Single(x => x.Tags.ToArray().Single().Value is true).Value;
        int nonDaemon = m.Single(x => x.Tags.ToArray().Single().Value is false).Value;
        return (daemon, nonDaemon);
    }
}
