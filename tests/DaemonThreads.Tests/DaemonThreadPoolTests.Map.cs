namespace DaemonThreads.Tests;

// Map: submitted at the call, results in order, timeout, exceptions, cancellation of the rest (Executor.map).
public partial class DaemonThreadPoolTests
{
    // Ports executor.ExecutorTest.test_map
    [Fact]
    public void Map_ReturnsTheResultsInSourceOrder()
    {
        using var pool = new DaemonThreadPool(maxWorkers: 4);

        List<int> results = pool.Map(x => (int)Math.Pow(x, x), Enumerable.Range(0, 10)).ToList();

        results.Should().Equal(Enumerable.Range(0, 10).Select(x => (int)Math.Pow(x, x)));
    }

    // Ports test_thread_pool.ThreadPoolExecutorTest.test_map_submits_without_iteration
    [Fact]
    public void Map_NotEnumerated_SubmitsEveryItemAtTheCall()
    {
        var finished = new System.Collections.Concurrent.ConcurrentBag<int>();
        var pool = new DaemonThreadPool();

        _ = pool.Map(n => { finished.Add(n); return n; }, Enumerable.Range(0, 10));
        pool.Shutdown(wait: true);

        finished.Should().BeEquivalentTo(Enumerable.Range(0, 10), "Executor.map submits eagerly (issue 11777)");
    }

    // Ports executor.ExecutorTest.test_map_exception
    [Fact]
    public void Map_ItemThrows_RethrowsTheItemsExceptionUnwrappedWhenReached()
    {
        using var pool = new DaemonThreadPool(maxWorkers: 2);
        int[] divisors = [2, 3, 0, 5];

        using IEnumerator<int> results = pool.Map(d => 1 / d, divisors).GetEnumerator();

        results.MoveNext().Should().BeTrue();
        results.Current.Should().Be(0);
        results.MoveNext().Should().BeTrue();
        results.Current.Should().Be(0);
        FluentActions.Invoking(() => results.MoveNext()).Should().Throw<DivideByZeroException>("Python raises the item's own exception, not a wrapper");
    }

    // Ports executor.ExecutorTest.test_map_timeout
    [Fact]
    public void Map_TimeoutPassesBeforeAResultIsReady_ThrowsTimeoutExceptionAfterTheReadyResults()
    {
        using var release = new ManualResetEventSlim();
        using var pool = new DaemonThreadPool(maxWorkers: 3);
        var results = new List<int>();

        // The timeout only has to outlast items 0 and 1, which return at once; 1 s leaves room for a loaded machine
        // to start the workers, and the test takes that long because item 2 never returns before it.
        Action enumerate = () =>
        {
            foreach (int r in pool.Map(
                x =>
                {
                    if (x == 2)
                    {
                        release.Wait(TestTimeouts.Unexpected);
                    }

                    return x;
                },
                [0, 1, 2],
                timeout: TimeSpan.FromSeconds(1)))
            {
                results.Add(r);
            }
        };

        try
        {
            enumerate.Should().Throw<TimeoutException>("the third item waits for an event nobody sets before the timeout");
        }
        finally
        {
            release.Set();
        }

        results.Should().Equal([0, 1]);
    }

    // Ports test_thread_pool.ThreadPoolExecutorTest.test_executor_map_current_future_cancel
    [Fact]
    public async Task Map_TimeoutZeroWhileThePoolIsBusy_CancelsTheCurrentAndTheRemainingItems()
    {
        using var stop = new ManualResetEventSlim();
        var log = new List<string>();
        void LogAndWait(string id)
        {
            lock (log)
            {
                log.Add(id + " started");
            }

            stop.Wait(TestTimeouts.Unexpected);
            lock (log)
            {
                log.Add(id + " stopped");
            }
        }

        Task first;
        using (var pool = new DaemonThreadPool(maxWorkers: 1))
        {
            first = pool.Submit(() => LogAndWait("first"));
            try
            {
                using IEnumerator<bool> results = pool.Map(id => { LogAndWait(id); return true; }, ["second", "third"], timeout: TimeSpan.Zero).GetEnumerator();
                FluentActions.Invoking(() => results.MoveNext()).Should().Throw<TimeoutException>();
            }
            finally
            {
                stop.Set();
            }

            await first.WaitAsync(TestTimeouts.Unexpected);
        }

        log.Should().Equal(["first started", "first stopped"], "'second' is cancelled by the timeout, 'third' because it remained");
    }

    [Fact]
    public void Map_EnumerationEndsEarly_CancelsTheItemsNotStarted()
    {
        using var release = new ManualResetEventSlim();
        using var holding = new ManualResetEventSlim();
        int ran = 0;
        var pool = new DaemonThreadPool(maxWorkers: 1);

        // One worker: item 0 completes, item 1 holds the worker, items 2-4 stay queued until the enumeration ends.
        IEnumerable<int> results = pool.Map(
            x =>
            {
                Interlocked.Increment(ref ran);
                if (x == 1)
                {
                    holding.Set();
                    release.Wait(TestTimeouts.Unexpected);
                }

                return x;
            },
            Enumerable.Range(0, 5));
        using (IEnumerator<int> e = results.GetEnumerator())
        {
            e.MoveNext().Should().BeTrue();
            e.Current.Should().Be(0);

            // Item 0's result can arrive before the worker has taken item 1 (it publishes first, then takes the next).
            holding.Wait(TestTimeouts.Unexpected).Should().BeTrue("the one worker takes item 1 after item 0");
        }

        release.Set();
        pool.Shutdown(wait: true);

        ran.Should().Be(2, "disposing the enumerator cancels what has not started (items 2-4), as Python's result_iterator finally block");
    }

    [Fact]
    public void Map_EnumeratedTwice_ThrowsOnTheSecond()
    {
        using var pool = new DaemonThreadPool(maxWorkers: 1);
        IEnumerable<int> results = pool.Map(x => x, [1, 2]);

        results.ToList().Should().Equal([1, 2]);

        FluentActions.Invoking(() => results.ToList()).Should().Throw<InvalidOperationException>().WithMessage("the results of Map can be enumerated only once*");
    }

    [Fact]
    public void Map_NullArgumentsOrNegativeTimeout_Throw()
    {
        using var pool = new DaemonThreadPool(maxWorkers: 1);

        FluentActions.Invoking(() => pool.Map<int, int>(null!, [1])).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => pool.Map<int, int>(x => x, null!)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => pool.Map(x => x, [1], TimeSpan.FromSeconds(-2))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Map_ItemCancelledByShutdownBeforeItRan_ThrowsTaskCanceledExceptionWhenReached()
    {
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var pool = new DaemonThreadPool(maxWorkers: 1);
        IEnumerable<int> results = pool.Map(
            x =>
            {
                if (x == 0)
                {
                    started.Set();
                    release.Wait(TestTimeouts.Unexpected);
                }

                return x;
            },
            [0, 1, 2]);
        started.Wait(TestTimeouts.Unexpected).Should().BeTrue();

        pool.Shutdown(wait: false, cancelPending: true);
        release.Set();
        using IEnumerator<int> e = results.GetEnumerator();

        e.MoveNext().Should().BeTrue("item 0 was running, so it was not cancelled");
        e.Current.Should().Be(0);
        FluentActions.Invoking(() => e.MoveNext()).Should().Throw<TaskCanceledException>("Python raises CancelledError for a cancelled future");
        pool.Shutdown(wait: true);
    }
}
