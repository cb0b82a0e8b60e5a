namespace DaemonThreads.Tests.Infrastructure;

/// <summary>
/// The repeated child-process tests (exit-code races, the model-based exit test): one collection, so that they run one
/// after the other and never put more than <see cref="RepeatedRuns.Parallelism"/> of their children on the 2 cores at once.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ExitStress
{
    /// <summary>The collection's name, for <see cref="CollectionAttribute"/>.</summary>
    public const string Name = "Exit stress";
}
