using System;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace DaemonThreads.Analyzers;

/// <summary>
/// DT0002: a <c>PosixSignalRegistration.Create</c> for SIGTERM, SIGINT or SIGHUP, or a <c>Console.CancelKeyPress</c>
/// subscription, while DaemonThreads handles those signals itself.
/// </summary>
/// <remarks>
/// <para>
/// The library handles signals unless the program turns that off, so the rule stays silent for a compilation that
/// contains <c>ExitRegistry.HandleSignals = false</c> or calls <c>AddDaemonThreads()</c> (the Generic Host integration
/// turns it off), and for a project whose <c>DaemonThreads.HandleSignals</c> runtime switch is <c>false</c>: the
/// package's buildTransitive targets copy that switch to the compiler-visible property
/// <c>build_property.DaemonThreadsHandleSignals</c>.
/// </para>
/// <para>
/// Whether the program turns it off anywhere is known only when the whole compilation has been seen, so the candidates
/// are collected and reported at compilation end (in the IDE: with full-solution analysis, and always on build).
/// </para>
/// </remarks>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class SignalHandlerAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The raw signal numbers that <c>PosixSignalRegistration.Create</c> also accepts for the three signals (the same on Linux and macOS).</summary>
    private static readonly ImmutableHashSet<int> s_rawSignalNumbers = ImmutableHashSet.Create(1, 2, 15);

    private static readonly ImmutableHashSet<string> s_handledSignalNames = ImmutableHashSet.Create("SIGHUP", "SIGINT", "SIGTERM");

    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(DiagnosticDescriptors.OwnSignalHandler);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(static start =>
        {
            Compilation compilation = start.Compilation;
            if (DaemonThreadsSymbols.TryCreate(compilation) is not DaemonThreadsSymbols symbols || IsSwitchedOff(start.Options.AnalyzerConfigOptionsProvider))
            {
                return;
            }

            INamedTypeSymbol? registration = compilation.GetTypeByMetadataName("System.Runtime.InteropServices.PosixSignalRegistration");
            INamedTypeSymbol? posixSignal = compilation.GetTypeByMetadataName("System.Runtime.InteropServices.PosixSignal");
            IEventSymbol? cancelKeyPress = compilation.GetTypeByMetadataName("System.Console")?.GetMembers("CancelKeyPress").OfType<IEventSymbol>().FirstOrDefault();
            if (registration is null && cancelKeyPress is null)
            {
                return;
            }

            INamedTypeSymbol? hostingExtensions = compilation.GetTypeByMetadataName("Microsoft.Extensions.DependencyInjection.DaemonThreadsServiceCollectionExtensions");
            ImmutableHashSet<int> handledSignals = posixSignal is null ? s_rawSignalNumbers : s_rawSignalNumbers.Union(
                posixSignal.GetMembers().OfType<IFieldSymbol>()
                    .Where(field => field.HasConstantValue && s_handledSignalNames.Contains(field.Name))
                    .Select(field => Convert.ToInt32(field.ConstantValue, CultureInfo.InvariantCulture)));

            var candidates = new ConcurrentQueue<Diagnostic>();
            int turnedOff = 0;

            if (registration is not null)
            {
                start.RegisterOperationAction(
                    context =>
                    {
                        var invocation = (IInvocationOperation)context.Operation;
                        if (invocation.TargetMethod.Name == "Create"
                            && SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, registration)
                            && invocation.Arguments.Length > 0
                            && invocation.Arguments[0].Value.ConstantValue is { HasValue: true, Value: int signal }
                            && handledSignals.Contains(signal))
                        {
                            candidates.Enqueue(Diagnostic.Create(
                                DiagnosticDescriptors.OwnSignalHandler,
                                invocation.Syntax.GetLocation(),
                                "This handler for " + SignalName(signal, posixSignal)));
                        }
                    },
                    OperationKind.Invocation);
            }

            if (cancelKeyPress is not null)
            {
                start.RegisterOperationAction(
                    context =>
                    {
                        var assignment = (IEventAssignmentOperation)context.Operation;
                        if (assignment.Adds
                            && assignment.EventReference is IEventReferenceOperation reference
                            && SymbolEqualityComparer.Default.Equals(reference.Event, cancelKeyPress))
                        {
                            candidates.Enqueue(Diagnostic.Create(
                                DiagnosticDescriptors.OwnSignalHandler,
                                assignment.Syntax.GetLocation(),
                                "This Console.CancelKeyPress handler"));
                        }
                    },
                    OperationKind.EventAssignment);
            }

            // ExitRegistry.HandleSignals = false, anywhere in the compilation.
            start.RegisterOperationAction(
                context =>
                {
                    var assignment = (ISimpleAssignmentOperation)context.Operation;
                    if (assignment.Target is IPropertyReferenceOperation { Property.Name: "HandleSignals" } property
                        && SymbolEqualityComparer.Default.Equals(property.Property.ContainingType, symbols.ExitRegistry)
                        && assignment.Value.ConstantValue is { HasValue: true, Value: false })
                    {
                        Interlocked.Exchange(ref turnedOff, 1);
                    }
                },
                OperationKind.SimpleAssignment);

            // services.AddDaemonThreads(): the host's console lifetime owns the signals from then on.
            if (hostingExtensions is not null)
            {
                start.RegisterOperationAction(
                    context =>
                    {
                        var invocation = (IInvocationOperation)context.Operation;
                        if (SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, hostingExtensions)
                            && invocation.TargetMethod.Name == "AddDaemonThreads")
                        {
                            Interlocked.Exchange(ref turnedOff, 1);
                        }
                    },
                    OperationKind.Invocation);
            }

            start.RegisterCompilationEndAction(end =>
            {
                if (Volatile.Read(ref turnedOff) != 0)
                {
                    return;
                }

                foreach (Diagnostic diagnostic in candidates)
                {
                    end.ReportDiagnostic(diagnostic);
                }
            });
        });
    }

    /// <summary>Returns whether the project's <c>DaemonThreads.HandleSignals</c> runtime switch is off (see the remarks).</summary>
    private static bool IsSwitchedOff(AnalyzerConfigOptionsProvider options) =>
        options.GlobalOptions.TryGetValue("build_property.DaemonThreadsHandleSignals", out string? value)
        && string.Equals(value.Trim(), "false", StringComparison.OrdinalIgnoreCase);

    private static string SignalName(int signal, INamedTypeSymbol? posixSignal)
    {
        string? name = posixSignal?.GetMembers().OfType<IFieldSymbol>()
            .FirstOrDefault(field => field.HasConstantValue && field.ConstantValue is int value && value == signal)?.Name;
        return name ?? signal switch
        {
            1 => "SIGHUP",
            2 => "SIGINT",
            _ => "SIGTERM",
        };
    }
}
