using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace DaemonThreads.Analyzers;

/// <summary>
/// DT0004: an <c>async</c> lambda, or a method group of an <c>async void</c> method, converted to a void-returning
/// delegate (<c>Action</c>, <c>Action&lt;T&gt;</c>) where a DaemonThreads callback is expected.
/// </summary>
/// <remarks>
/// A DaemonThreads callback is a void-returning delegate parameter of a method or constructor that the DaemonThreads
/// assembly declares (the <c>DaemonThread</c> target, the <c>DaemonTimer</c> callback, <c>RegisterAtExit</c>,
/// <c>RegisterBeforeJoin</c>, <c>RunMain(Action)</c>, ...), or a void-returning delegate property that it declares and
/// the code assigns (<c>DaemonThread.ExceptHook</c>, <c>ExitRegistry.ReportHandler</c>). New callbacks of the library
/// are covered without a change here. Only the conversion at the call or assignment is seen: an async lambda stored in
/// a variable first is not followed.
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AsyncVoidCallbackAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.AsyncVoidCallback);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            if (DaemonThreadsSymbols.TryCreate(start.Compilation) is not DaemonThreadsSymbols symbols)
            {
                return;
            }

            start.RegisterOperationAction(context => Analyze(context, symbols.Assembly), OperationKind.DelegateCreation);
        });
    }

    private static void Analyze(OperationAnalysisContext context, IAssemblySymbol daemonThreads)
    {
        var creation = (IDelegateCreationOperation)context.Operation;
        if (creation.Type is not INamedTypeSymbol { DelegateInvokeMethod.ReturnsVoid: true })
        {
            return;
        }

        string kind;
        switch (creation.Target)
        {
            case IAnonymousFunctionOperation { Symbol.IsAsync: true }:
                kind = "lambda";
                break;
            case IMethodReferenceOperation { Method: { IsAsync: true, ReturnsVoid: true } }:
                kind = "method";
                break;
            default:
                return;
        }

        // The delegate may sit under an implicit conversion (to a nullable-annotated or base delegate type).
        IOperation value = creation;
        while (value.Parent is IConversionOperation { IsImplicit: true } conversion)
        {
            value = conversion;
        }

        (string Callback, ISymbol Member)? target = value.Parent switch
        {
            IArgumentOperation { Parameter: { } parameter } when IsDeclaredBy(parameter.ContainingSymbol, daemonThreads)
                => (parameter.Name, parameter.ContainingSymbol),
            ISimpleAssignmentOperation { Target: IPropertyReferenceOperation { Property: { } property } } assignment
                when assignment.Value == value && IsDeclaredBy(property, daemonThreads)
                => (property.Name, property),
            _ => null,
        };

        if (target is { } found)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.AsyncVoidCallback,
                creation.Target.Syntax.GetLocation(),
                kind,
                found.Callback,
                MemberName(found.Member)));
        }
    }

    private static bool IsDeclaredBy(ISymbol member, IAssemblySymbol assembly) =>
        SymbolEqualityComparer.Default.Equals(member.ContainingAssembly, assembly);

    private static string MemberName(ISymbol member) => member switch
    {
        IMethodSymbol { MethodKind: MethodKind.Constructor } constructor => "new " + constructor.ContainingType.Name,
        _ => member.ContainingType.Name + "." + member.Name,
    };
}
