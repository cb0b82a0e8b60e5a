using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;

namespace DaemonThreads.Analyzers.Tests.Infrastructure;

/// <summary>An analyzer test whose compilation references the running framework and DaemonThreads.</summary>
public sealed class DaemonThreadsAnalyzerTest<TAnalyzer> : CSharpAnalyzerTest<TAnalyzer, DefaultVerifier>
    where TAnalyzer : DiagnosticAnalyzer, new()
{
    /// <summary>Creates a test of <paramref name="source"/>, compiled as a program when <paramref name="outputKind"/> says so.</summary>
    public DaemonThreadsAnalyzerTest(string source, OutputKind outputKind = OutputKind.DynamicallyLinkedLibrary, bool withDaemonThreads = true)
    {
        TestCode = source;
        ReferenceAssemblies = TestReferences.None;
        TestState.OutputKind = outputKind;
        TestReferences.AddTo(TestState, withDaemonThreads);
    }
}

/// <summary>A code fix test whose compilation references the running framework and DaemonThreads.</summary>
public sealed class DaemonThreadsCodeFixTest<TAnalyzer, TCodeFix> : CSharpCodeFixTest<TAnalyzer, TCodeFix, DefaultVerifier>
    where TAnalyzer : DiagnosticAnalyzer, new()
    where TCodeFix : CodeFixProvider, new()
{
    /// <summary>Creates a test that fixes <paramref name="source"/> into <paramref name="fixedSource"/>.</summary>
    public DaemonThreadsCodeFixTest(string source, string fixedSource, OutputKind outputKind = OutputKind.DynamicallyLinkedLibrary)
    {
        TestCode = source;
        FixedCode = fixedSource;
        ReferenceAssemblies = TestReferences.None;
        TestState.OutputKind = outputKind;
        FixedState.OutputKind = outputKind;
        TestReferences.AddTo(TestState);
        TestReferences.AddTo(FixedState);
    }
}
