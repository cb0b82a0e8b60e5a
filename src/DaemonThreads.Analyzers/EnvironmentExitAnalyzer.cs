using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace DaemonThreads.Analyzers;

/// <summary>DT0001: <c>Environment.Exit</c> in a program that references DaemonThreads.</summary>
/// <remarks>
/// Reports calls (on the whole call) and method-group uses (<c>Action&lt;int&gt; exit = Environment.Exit;</c>); the code
/// fix rewrites the expression that names <c>Environment.Exit</c> to <c>ExitRegistry.Exit</c>, which has the same
/// signature and is <c>[DoesNotReturn]</c> too.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class EnvironmentExitAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.EnvironmentExit);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            if (DaemonThreadsSymbols.TryCreate(start.Compilation) is null
                || start.Compilation.GetTypeByMetadataName("System.Environment") is not INamedTypeSymbol environment)
            {
                return;
            }

            start.RegisterOperationAction(
                context =>
                {
                    IMethodSymbol method = context.Operation is IInvocationOperation invocation
                        ? invocation.TargetMethod
                        : ((IMethodReferenceOperation)context.Operation).Method;
                    if (method.Name == "Exit" && SymbolEqualityComparer.Default.Equals(method.ContainingType, environment))
                    {
                        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.EnvironmentExit, context.Operation.Syntax.GetLocation()));
                    }
                },
                OperationKind.Invocation,
                OperationKind.MethodReference);
        });
    }
}
