using DaemonThreads.Internal;

namespace DaemonThreads.Tests;

/// <summary>Issue 10 #3: <see cref="ExitRegistry.Track(Task, string?)"/> in-process (the exit behaviour is in AsyncMainAndTrackedTaskExitTests).</summary>
[Collection(Infrastructure.GlobalState.Name)]
public class TrackTests
{
    [Fact]
    public void Track_ReturnsTheTaskAndItLeavesTheRegistryTheMomentItCompletes()
    {
        int before = ThreadRegistry.Default.TrackedCount;
        var completion = new TaskCompletionSource();

        Task tracked = ExitRegistry.Track(completion.Task, "unit");

        tracked.Should().BeSameAs(completion.Task);
        ThreadRegistry.Default.TrackedCount.Should().Be(before + 1);
        Complete(completion);
        ThreadRegistry.Default.TrackedCount.Should().Be(before, "a finished task is not counted");
    }

    [Fact]
    public void Track_SameTaskTwice_TracksItOnce()
    {
        int before = ThreadRegistry.Default.TrackedCount;
        var completion = new TaskCompletionSource();

        ExitRegistry.Track(completion.Task);
        ExitRegistry.Track(completion.Task, "again");

        ThreadRegistry.Default.TrackedCount.Should().Be(before + 1);
        Complete(completion);
        ThreadRegistry.Default.TrackedCount.Should().Be(before);
    }

    [Fact]
    public void Track_CompletedTask_IsNotRegisteredAtAll()
    {
        int before = ThreadRegistry.Default.TrackedCount;

        ExitRegistry.Track(Task.CompletedTask).Should().BeSameAs(Task.CompletedTask);

        ThreadRegistry.Default.TrackedCount.Should().Be(before);
    }

    [Fact]
    public void Track_Null_ThrowsArgumentNullException()
    {
        FluentActions.Invoking(() => { ExitRegistry.Track(null!); }).Should().Throw<ArgumentNullException>().WithParameterName("task");
    }

    [Fact]
    public void Track_OnceWarm_AllocatesNothing()
    {
        // Issue 11: at most one small allocation, and within 50 ns of a bare task. The continuation that removed a task on
        // completion was the one allocation (64 B) and half the time; a task in its home slot needs none.
        var warm = Enumerable.Range(0, 64).Select(_ => new TaskCompletionSource()).ToList();
        warm.ForEach(c => ExitRegistry.Track(c.Task));
        warm.ForEach(Complete);
        var completions = Enumerable.Range(0, 32).Select(_ => new TaskCompletionSource()).ToList();

        long start = GC.GetAllocatedBytesForCurrentThread();
        foreach (TaskCompletionSource c in completions)
        {
            ExitRegistry.Track(c.Task);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - start;
        completions.ForEach(Complete);

        // 32 tasks in 512 slots: a collision with an unfinished task (the overflow, which allocates) is possible but rare;
        // at most a few of the 32 may take that path.
        allocated.Should().BeLessThanOrEqualTo(4 * 64, "a task that lands in its home slot allocates nothing (32 tracked)");
    }

    [Fact]
    public void Track_FinishedTask_IsNotKeptAliveByTheTable()
    {
        // Nothing runs when a task in its home slot completes; the sweep after a full collection empties its slot, so a
        // finished task and its result are collectable by the next one.
        WeakReference result = TrackAndCompleteATaskWithALargeResult();

        for (int i = 0; i < 3 && result.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        result.IsAlive.Should().BeFalse("a finished tracked task's result must not stay reachable from the registry");
    }

    [Fact]
    public void Track_TaskInItsSlotCompletingDuringAnUnboundedJoin_WakesTheExit()
    {
        // The exit's wait must wake when a task tracked before it began completes, although nothing ran on completion
        // before the exit began (BeginShutdown adds the continuation). The join has no bound: a lost wake-up hangs it,
        // which the join of the runner below turns into a failure. Bounded repetition: the completion lands before,
        // during and after the registry's scan.
        for (int round = 0; round < 50; round++)
        {
            var registry = new ThreadRegistry();
            var coordinator = new ShutdownCoordinator(registry, isProcessWide: false) { JoinTimeout = Timeout.InfiniteTimeSpan };
            var completions = Enumerable.Range(0, 8).Select(_ => new TaskCompletionSource()).ToList();
            completions.ForEach(c => registry.Track(c.Task, "t").Should().BeTrue());
            ShutdownReport? report = null;
            var runner = new Thread(() => report = coordinator.Shutdown(ShutdownTrigger.RunMain));

            runner.Start();
            for (int i = 0; i < completions.Count; i++)
            {
                if (i == round % completions.Count)
                {
                    SpinWait.SpinUntil(() => coordinator.CurrentPhase >= ShutdownCoordinator.Phase.Joining, TestTimeouts.Unexpected);
                }

                completions[i].SetResult();
            }

            runner.Join(TestTimeouts.Unexpected).Should().BeTrue("every tracked task completed: the join must end (round {0})", round);
            report!.Unfinished.Should().BeEmpty();
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference TrackAndCompleteATaskWithALargeResult()
    {
        var completion = new TaskCompletionSource<byte[]>();
        ExitRegistry.Track(completion.Task, "large");
        byte[] large = new byte[1 << 20];
        completion.SetResult(large);
        return new WeakReference(large);
    }

    // Issue 11: the table gives each task a home slot by its identity hash; 2,000 tasks in 512 slots collide for certain,
    // so this covers the overflow as well as the slots.
    [Fact]
    public void Table_ManyTasksTwice_HoldsEachOnceWithItsFirstNameUntilRemoved()
    {
        var table = new TrackedTaskTable(new object());
        var tasks = Enumerable.Range(0, 2000).Select(_ => new TaskCompletionSource().Task).ToList();

        bool[] firstAdds = tasks.Select((t, i) => table.TryAdd(t, i % 2 == 0 ? "n" + i : null) != TrackedIn.Already).ToArray();
        bool[] secondAdds = tasks.Select(t => table.TryAdd(t, "again") != TrackedIn.Already).ToArray();
        var unfinished = new List<UnfinishedWork>();
        table.AddUnfinished(unfinished);

        firstAdds.Should().AllSatisfy(added => added.Should().BeTrue());
        secondAdds.Should().AllSatisfy(added => added.Should().BeFalse("tracking a task twice is one entry"));
        table.Count().Should().Be(2000);
        unfinished.Select(u => u.Name).Should().BeEquivalentTo(
            tasks.Select((t, i) => i % 2 == 0 ? "n" + i : "Task-" + t.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            "each task is listed once, under the name it was first tracked with or Task-ID");
        tasks.Select(table.Remove).Should().AllSatisfy(removed => removed.Should().BeTrue());
        tasks.Select(table.Remove).Should().AllSatisfy(removed => removed.Should().BeFalse("each was removed once"));
        table.Count().Should().Be(0);
    }

    [Fact]
    public void Table_SlotFreedThenTaskTrackedAgain_IsOneEntry()
    {
        var table = new TrackedTaskTable(new object());
        var tasks = Enumerable.Range(0, 2000).Select(_ => new TaskCompletionSource().Task).ToList();
        tasks.ForEach(t => table.TryAdd(t, null));

        // Free every other home slot, then track everything again: the tasks in the overflow must not gain a second entry
        // in a slot that is free now.
        for (int i = 0; i < tasks.Count; i += 2)
        {
            table.Remove(tasks[i]);
        }

        int added = tasks.Count(t => table.TryAdd(t, null) != TrackedIn.Already);

        added.Should().Be(1000, "only the removed tasks are new");
        table.Count().Should().Be(2000);
    }

    [Fact]
    public void Table_FinishedTasks_AreNeitherCountedNorListed_AndTheirSlotsAreTakenOver()
    {
        var table = new TrackedTaskTable(new object());
        var completions = Enumerable.Range(0, 2000).Select(_ => new TaskCompletionSource()).ToList();
        completions.ForEach(c => table.TryAdd(c.Task, "old").Should().NotBe(TrackedIn.Already));
        for (int i = 0; i < completions.Count; i += 2)
        {
            completions[i].SetResult();
        }

        var next = Enumerable.Range(0, 2000).Select(_ => new TaskCompletionSource().Task).ToList();
        TrackedIn[] added = next.Select((t, i) => table.TryAdd(t, "new" + i)).ToArray();
        var unfinished = new List<UnfinishedWork>();
        table.AddUnfinished(unfinished);

        added.Should().AllSatisfy(a => a.Should().NotBe(TrackedIn.Already));
        table.Count().Should().Be(3000, "1,000 old tasks are unfinished, and 2,000 new ones");
        unfinished.Select(u => u.Name).Order(StringComparer.Ordinal).Should().Equal(
            Enumerable.Repeat("old", 1000).Concat(next.Select((_, i) => "new" + i)).Order(StringComparer.Ordinal),
            "a finished task is not listed, and a task that took over a finished task's slot is listed under its own name");
        unfinished.Select(u => u.Task).Should().OnlyHaveUniqueItems().And.NotContain(t => t!.IsCompleted);
    }

    [Fact]
    public void Table_Sweep_EmptiesTheSlotsOfFinishedTasksOnly()
    {
        var table = new TrackedTaskTable(new object());
        var completions = Enumerable.Range(0, 300).Select(_ => new TaskCompletionSource()).ToList();
        var inSlots = completions.Where(c => table.TryAdd(c.Task, null) == TrackedIn.Slot).ToList();
        inSlots.Take(100).ToList().ForEach(c => c.SetResult());

        table.Sweep();

        inSlots.Take(100).Select(c => table.Remove(c.Task)).Should().AllSatisfy(removed => removed.Should().BeFalse("the sweep emptied the finished tasks' slots"));
        inSlots.Skip(100).Select(c => table.Remove(c.Task)).Should().AllSatisfy(removed => removed.Should().BeTrue("unfinished tasks stay"));
    }

    [Fact]
    public void Table_ConcurrentAddsOfSharedTasksWhileTheyComplete_HoldEachUnfinishedTaskOnce()
    {
        // Randomized, bounded: three threads add tasks drawn from one shared set (so the same task is added concurrently,
        // to its slot and to the overflow), while a fourth completes some of them, so that slots are taken over
        // concurrently too. 700 tasks in 512 slots: collisions, the overflow and take-overs all happen in every round.
        var random = new Random(20261201);
        for (int round = 0; round < 100; round++)
        {
            var table = new TrackedTaskTable(new object());
            var completions = Enumerable.Range(0, 700).Select(_ => new TaskCompletionSource()).ToList();
            var added = new System.Collections.Concurrent.ConcurrentDictionary<Task, bool>();
            int seed = random.Next();
            using var go = new Barrier(4);
            var threads = Enumerable.Range(0, 4).Select(k => new Thread(() =>
            {
                var r = new Random(seed + k);
                go.SignalAndWait(TestTimeouts.Unexpected);
                for (int i = 0; i < 1000; i++)
                {
                    TaskCompletionSource c = completions[r.Next(completions.Count)];
                    if (k == 3)
                    {
                        c.TrySetResult();
                    }
                    else
                    {
                        table.TryAdd(c.Task, "n");
                        added[c.Task] = true;
                    }
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join(TestTimeouts.Unexpected).Should().BeTrue());

            var unfinished = new List<UnfinishedWork>();
            table.AddUnfinished(unfinished);
            var expected = added.Keys.Where(t => !t.IsCompleted).ToList();
            unfinished.Select(u => u.Task).Should().OnlyHaveUniqueItems("each task is one entry (round {0}, seed {1})", round, seed);
            unfinished.Select(u => u.Task!).ToHashSet(ReferenceEqualityComparer.Instance).SetEquals(expected).Should().BeTrue(
                "every unfinished task that was added is held, and nothing else (round {0}, seed {1})", round, seed);
            table.Count().Should().Be(expected.Count);
        }
    }

    // Completes off xunit's SynchronizationContext: under a context the runtime queues the registry's continuation to the
    // pool instead of running it inline, and the count would be read before it ran.
    private static void Complete(TaskCompletionSource completion) => Task.Run(completion.SetResult).Wait(TestTimeouts.Unexpected);
}
