using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Simplification;

namespace DaemonThreads.Analyzers;

/// <summary>DT0001's fix: <c>Environment.Exit(code)</c> becomes <c>ExitRegistry.Exit(code)</c>, with <c>using DaemonThreads;</c> added when needed.</summary>
/// <remarks>
/// Where the name <c>ExitRegistry</c> already means something else, the call stays qualified
/// (<c>DaemonThreads.ExitRegistry.Exit</c>) and no using directive is added for it. Fix-all rewrites a document's
/// calls in one edit, so that the using directive is added once.
/// </remarks>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(EnvironmentExitCodeFixProvider)), Shared]
public sealed class EnvironmentExitCodeFixProvider : CodeFixProvider
{
    private const string Title = "Use ExitRegistry.Exit";

    /// <inheritdoc/>
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticDescriptors.EnvironmentExit.Id);

    /// <inheritdoc/>
    public override FixAllProvider GetFixAllProvider() => FixAllProvider.Create(
        async (fixAllContext, document, diagnostics) =>
        {
            SyntaxNode? root = await document.GetSyntaxRootAsync(fixAllContext.CancellationToken).ConfigureAwait(false);
            if (root is null)
            {
                return null;
            }

            ImmutableArray<ExpressionSyntax> names = diagnostics
                .Select(diagnostic => NameToReplace(root, diagnostic.Location.SourceSpan))
                .OfType<ExpressionSyntax>()
                .ToImmutableArray();
            return await ReplaceAsync(document, root, names, fixAllContext.CancellationToken).ConfigureAwait(false);
        });

    /// <inheritdoc/>
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || NameToReplace(root, context.Span) is not ExpressionSyntax name)
        {
            return;
        }

        foreach (Diagnostic diagnostic in context.Diagnostics)
        {
            context.RegisterCodeFix(
                CodeAction.Create(Title, cancellationToken => ReplaceAsync(context.Document, root, ImmutableArray.Create(name), cancellationToken), equivalenceKey: Title),
                diagnostic);
        }
    }

    /// <summary>Returns the expression that names <c>Environment.Exit</c>: a call is reported whole, a method group (<c>Action&lt;int&gt; exit = Environment.Exit;</c>) as the name itself.</summary>
    private static ExpressionSyntax? NameToReplace(SyntaxNode root, Microsoft.CodeAnalysis.Text.TextSpan span) =>
        root.FindNode(span, getInnermostNodeForTie: true) switch
        {
            InvocationExpressionSyntax invocation => invocation.Expression,
            ExpressionSyntax name => name,
            _ => null,
        };

    private static async Task<Document> ReplaceAsync(Document document, SyntaxNode root, ImmutableArray<ExpressionSyntax> names, CancellationToken cancellationToken)
    {
        SemanticModel? model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        bool addImport = false;
        var replacements = new Dictionary<ExpressionSyntax, ExpressionSyntax>();
        foreach (ExpressionSyntax name in names)
        {
            // Written fully qualified; the code action's clean-up reduces it as far as the scope allows: to
            // ExitRegistry.Exit where DaemonThreads is imported (or is about to be), else to DaemonThreads.ExitRegistry.Exit.
            ExpressionSyntax replacement = SyntaxFactory.ParseExpression("global::DaemonThreads.ExitRegistry.Exit")
                .WithTriviaFrom(name)
                .WithAdditionalAnnotations(Simplifier.Annotation);
            if (model is not null && model.LookupNamespacesAndTypes(name.SpanStart, name: "ExitRegistry").IsEmpty)
            {
                // Nothing called ExitRegistry is in scope here: importing DaemonThreads makes the short name mean ours.
                replacement = replacement.WithAdditionalAnnotations(Simplifier.AddImportsAnnotation);
                addImport = true;
            }

            replacements[name] = replacement;
        }

        Document changed = document.WithSyntaxRoot(root.ReplaceNodes(replacements.Keys, (original, _) => replacements[original]));
        return addImport
            ? await ImportAdder.AddImportsAsync(changed, Simplifier.AddImportsAnnotation, cancellationToken: cancellationToken).ConfigureAwait(false)
            : changed;
    }
}
