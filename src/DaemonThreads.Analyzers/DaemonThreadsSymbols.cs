using Microsoft.CodeAnalysis;

namespace DaemonThreads.Analyzers;

/// <summary>
/// The DaemonThreads types one compilation sees, resolved once in its compilation-start action. A compilation that
/// does not reference DaemonThreads gets <see langword="null"/> from <see cref="TryCreate"/>, and the rules register
/// nothing for it.
/// </summary>
internal sealed class DaemonThreadsSymbols
{
    private DaemonThreadsSymbols(INamedTypeSymbol exitRegistry, INamedTypeSymbol? daemonThread)
    {
        ExitRegistry = exitRegistry;
        DaemonThread = daemonThread;
    }

    /// <summary>Gets <c>DaemonThreads.ExitRegistry</c>.</summary>
    public INamedTypeSymbol ExitRegistry { get; }

    /// <summary>Gets <c>DaemonThreads.DaemonThread</c>, if the referenced assembly has it.</summary>
    public INamedTypeSymbol? DaemonThread { get; }

    /// <summary>Gets the DaemonThreads assembly: every callback-typed parameter or property it declares is a DaemonThreads callback.</summary>
    public IAssemblySymbol Assembly => ExitRegistry.ContainingAssembly;

    /// <summary>Resolves the DaemonThreads types of <paramref name="compilation"/>.</summary>
    /// <returns>
    /// <see langword="null"/> when the compilation does not reference DaemonThreads, or is DaemonThreads itself (the
    /// library calls <c>Environment.Exit</c> and installs signal handlers on purpose).
    /// </returns>
    public static DaemonThreadsSymbols? TryCreate(Compilation compilation)
    {
        INamedTypeSymbol? exitRegistry = compilation.GetTypeByMetadataName("DaemonThreads.ExitRegistry");
        if (exitRegistry is null || SymbolEqualityComparer.Default.Equals(exitRegistry.ContainingAssembly, compilation.Assembly))
        {
            return null;
        }

        return new DaemonThreadsSymbols(exitRegistry, compilation.GetTypeByMetadataName("DaemonThreads.DaemonThread"));
    }

    /// <summary>Returns whether <paramref name="type"/> is <see cref="DaemonThread"/> or derives from it (a <c>DaemonTimer</c>, a subclass).</summary>
    public bool IsDaemonThread(ITypeSymbol? type)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (SymbolEqualityComparer.Default.Equals(current, DaemonThread))
            {
                return true;
            }
        }

        return false;
    }
}
