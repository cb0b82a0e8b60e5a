using System.Collections.Immutable;
using System.Composition;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Simplification;

namespace DaemonThreads.Analyzers;

/// <summary>DT0001's fix: <c>Environment.Exit(code)</c> becomes <c>ExitRegistry.Exit(code)</c>, with <c>using DaemonThreads;</c> added when needed.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(EnvironmentExitCodeFixProvider)), Shared]
public sealed class EnvironmentExitCodeFixProvider : CodeFixProvider
{
    private const string Title = "Use ExitRegistry.Exit";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.EnvironmentExit.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span, getInnermostNodeForTie: true) is not ExpressionSyntax reported)
        {
            return;
        }

        // A call is reported whole; a method group (Action<int> exit = Environment.Exit;) is the name itself.
        ExpressionSyntax name = reported is InvocationExpressionSyntax invocation ? invocation.Expression : reported;
        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            context.RegisterCodeFix(
                CodeAction.Create(Title, cancellationToken => ReplaceAsync(context.Document, root, name, cancellationToken), equivalenceKey: Title),
                diagnostic);
        }
    }

    private static Task<Document> ReplaceAsync(Document document, SyntaxNode root, ExpressionSyntax name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // Fully qualified and annotated: the code action's clean-up adds the using directive (unless the name is already
        // in scope) and reduces the name to ExitRegistry.Exit, or keeps it qualified where ExitRegistry means something else.
        ExpressionSyntax replacement = SyntaxFactory.ParseExpression("global::DaemonThreads.ExitRegistry.Exit")
            .WithTriviaFrom(name)
            .WithAdditionalAnnotations(Simplifier.Annotation, Simplifier.AddImportsAnnotation);
        return Task.FromResult(document.WithSyntaxRoot(root.ReplaceNode(name, replacement)));
    }
}
