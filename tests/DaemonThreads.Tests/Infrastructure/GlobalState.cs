namespace DaemonThreads.Tests.Infrastructure;

/// <summary>
/// Tests that change or pin process-wide state (the name counter, <see cref="DaemonThread.ExceptHook"/>, the start
/// seam, exact thread counts). xunit runs this collection on its own, after the parallel ones.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalState
{
    /// <summary>The collection's name, for <see cref="CollectionAttribute"/>.</summary>
    public const string Name = "Process-wide state";
}
