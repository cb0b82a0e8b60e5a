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

    // Completes off xunit's SynchronizationContext: under a context the runtime queues the registry's continuation to the
    // pool instead of running it inline, and the count would be read before it ran.
    private static void Complete(TaskCompletionSource completion) => Task.Run(completion.SetResult).Wait(TestTimeouts.Unexpected);
}
