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
        ThreadRegistry.Default.TrackedCount.Should().Be(before, "the continuation runs synchronously on completion: nothing finished is kept");
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
    public void Track_AllocatesAtMostOneSmallObject()
    {
        // Warm up: the registry's dictionary grows once, then has room.
        var warm = Enumerable.Range(0, 64).Select(_ => new TaskCompletionSource()).ToList();
        warm.ForEach(c => ExitRegistry.Track(c.Task));
        warm.ForEach(Complete);
        var completions = Enumerable.Range(0, 32).Select(_ => new TaskCompletionSource()).ToList();

        long start = GC.GetAllocatedBytesForCurrentThread();
        foreach (TaskCompletionSource c in completions)
        {
            ExitRegistry.Track(c.Task);
        }

        long perTrack = (GC.GetAllocatedBytesForCurrentThread() - start) / completions.Count;
        completions.ForEach(Complete);

        perTrack.Should().BeLessThanOrEqualTo(64, "one delegate closed over the task (64 B on 64-bit) is the whole cost");
    }

    // Issue 11: the table gives each task a home slot by its identity hash; 2,000 tasks in 512 slots collide for certain,
    // so this covers the overflow as well as the slots.
    [Fact]
    public void Table_ManyTasksTwice_HoldsEachOnceWithItsFirstNameUntilRemoved()
    {
        var table = new TrackedTaskTable(new object());
        var tasks = Enumerable.Range(0, 2000).Select(_ => new TaskCompletionSource().Task).ToList();

        bool[] firstAdds = tasks.Select((t, i) => table.TryAdd(t, i % 2 == 0 ? "n" + i : null)).ToArray();
        bool[] secondAdds = tasks.Select(t => table.TryAdd(t, "again")).ToArray();
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

        int added = tasks.Count(t => table.TryAdd(t, null));

        added.Should().Be(1000, "only the removed tasks are new");
        table.Count().Should().Be(2000);
    }

    // Completes off xunit's SynchronizationContext: under a context the runtime queues the registry's continuation to the
    // pool instead of running it inline, and the count would be read before it ran.
    private static void Complete(TaskCompletionSource completion) => Task.Run(completion.SetResult).Wait(TestTimeouts.Unexpected);
}
