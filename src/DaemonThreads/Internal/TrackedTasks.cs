namespace DaemonThreads.Internal;

/// <summary>The continuation of a tracked task, as an extension method so that its delegate is closed over the task (one allocation).</summary>
internal static class TrackedTasks
{
    /// <summary>Removes the completed task from the registry of what blocks the exit.</summary>
    internal static void LeaveRegistry(this Task task) => ThreadRegistry.Default.Untrack(task);
}
