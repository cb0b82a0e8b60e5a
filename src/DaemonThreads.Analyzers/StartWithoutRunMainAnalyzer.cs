using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace DaemonThreads.Analyzers;

/// <summary>
/// DT0003: a program that starts <c>DaemonThread</c>s directly from its entry point (<c>Main</c>, or the top-level
/// statements) and never calls <c>ExitRegistry.RunMain</c>.
/// </summary>
/// <remarks>
/// "Directly" means in the entry point's own body, not inside a lambda or local function (those may be the very
/// <c>main</c> passed to <c>RunMain</c>, or run later on another thread). Whether the program calls <c>RunMain</c>
/// anywhere, and which method is its entry point, are known only for the whole compilation, so the candidates are
/// reported at compilation end. A library (no entry point) is never reported, nor is a Generic Host program that calls
/// <c>AddDaemonThreads()</c>: the host's stop runs the sequence there.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class StartWithoutRunMainAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.StartWithoutRunMain);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            if (start.Compilation.Options.OutputKind is OutputKind.DynamicallyLinkedLibrary or OutputKind.NetModule
                || DaemonThreadsSymbols.TryCreate(start.Compilation) is not { DaemonThread: not null } symbols)
            {
                return;
            }

            INamedTypeSymbol? hostingExtensions = start.Compilation.GetTypeByMetadataName("Microsoft.Extensions.DependencyInjection.DaemonThreadsServiceCollectionExtensions");
            var candidates = new ConcurrentQueue<(IMethodSymbol EntryPoint, Diagnostic Diagnostic)>();
            int sequenceOwned = 0; // RunMain or AddDaemonThreads is called somewhere in the program

            start.RegisterOperationAction(
                context =>
                {
                    var invocation = (IInvocationOperation)context.Operation;
                    IMethodSymbol method = invocation.TargetMethod;
                    if ((method.Name == "RunMain" && SymbolEqualityComparer.Default.Equals(method.ContainingType, symbols.ExitRegistry))
                        || (method.Name == "AddDaemonThreads" && SymbolEqualityComparer.Default.Equals(method.ContainingType, hostingExtensions)))
                    {
                        Interlocked.Exchange(ref sequenceOwned, 1);
                    }
                    else if (method.Name == "Start"
                        && method.Parameters.IsEmpty
                        && symbols.IsDaemonThread(method.ContainingType)
                        && context.ContainingSymbol is IMethodSymbol { IsStatic: true } containing
                        && IsInOwnBody(invocation))
                    {
                        candidates.Enqueue((containing, Diagnostic.Create(
                            DiagnosticDescriptors.StartWithoutRunMain,
                            invocation.Syntax.GetLocation(),
                            invocation.Instance?.Type?.Name ?? method.ContainingType.Name)));
                    }
                },
                OperationKind.Invocation);

            start.RegisterCompilationEndAction(end =>
            {
                if (Volatile.Read(ref sequenceOwned) != 0 || candidates.IsEmpty
                    || end.Compilation.GetEntryPoint(end.CancellationToken) is not IMethodSymbol entryPoint)
                {
                    return;
                }

                foreach ((IMethodSymbol containing, Diagnostic diagnostic) in candidates)
                {
                    if (SymbolEqualityComparer.Default.Equals(containing, entryPoint))
                    {
                        end.ReportDiagnostic(diagnostic);
                    }
                }
            });
        });
    }

    /// <summary>Returns whether <paramref name="operation"/> runs as part of its method's own body, not inside a lambda or local function.</summary>
    private static bool IsInOwnBody(IOperation operation)
    {
        for (IOperation? current = operation.Parent; current is not null; current = current.Parent)
        {
            if (current.Kind is OperationKind.AnonymousFunction or OperationKind.LocalFunction)
            {
                return false;
            }
        }

        return true;
    }
}
