using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace DaemonThreads.Analyzers.Tests.Infrastructure;

/// <summary>The references of every test compilation: the running framework's assemblies and DaemonThreads.dll.</summary>
/// <remarks>
/// Built from the framework the tests run on rather than downloaded (<c>ReferenceAssemblies.Net.Net80</c> fetches
/// Microsoft.NETCore.App.Ref from NuGet on first use), so the tests need no network and no package version named here.
/// It also keeps the test compilation consistent with DaemonThreads.dll, which is the net10.0 build: against net8.0
/// reference assemblies it would reference a newer System.Runtime than the compilation has (CS1705).
/// </remarks>
internal static class TestReferences
{
    /// <summary>Gets a target framework with no package to resolve: the references all come from <see cref="Framework"/>.</summary>
    public static ReferenceAssemblies None { get; } = new("net10.0");

    /// <summary>Gets the running framework's assemblies (the trusted platform assemblies of this process).</summary>
    public static ImmutableArray<MetadataReference> Framework { get; } =
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path => Path.GetFileName(path).StartsWith("System.", StringComparison.Ordinal)
                || Path.GetFileName(path) is "mscorlib.dll" or "netstandard.dll")
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();

    /// <summary>Gets the DaemonThreads assembly, as a consumer's compilation references it.</summary>
    public static MetadataReference DaemonThreads { get; } = MetadataReference.CreateFromFile(typeof(ExitRegistry).Assembly.Location);

    /// <summary>Gets DaemonThreads.Hosting and the abstractions its <c>AddDaemonThreads</c> extension method needs.</summary>
    public static ImmutableArray<MetadataReference> Hosting { get; } = ImmutableArray.Create<MetadataReference>(
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.DependencyInjection.DaemonThreadsServiceCollectionExtensions).Assembly.Location),
        MetadataReference.CreateFromFile(typeof(Microsoft.Extensions.DependencyInjection.IServiceCollection).Assembly.Location));

    /// <summary>Adds the framework (and, unless <paramref name="withDaemonThreads"/> is false, DaemonThreads) to <paramref name="state"/>.</summary>
    public static void AddTo(SolutionState state, bool withDaemonThreads = true)
    {
        state.AdditionalReferences.AddRange(Framework);
        if (withDaemonThreads)
        {
            state.AdditionalReferences.Add(DaemonThreads);
        }
    }
}
