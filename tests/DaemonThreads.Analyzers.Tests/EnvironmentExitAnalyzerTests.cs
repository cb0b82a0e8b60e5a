using DaemonThreads.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace DaemonThreads.Analyzers.Tests;

public class EnvironmentExitAnalyzerTests
{
    [Fact]
    public async Task EnvironmentExit_InProjectReferencingDaemonThreads_Reports()
    {
        const string source = """
            using System;

            class Program
            {
                static void Stop() => {|DT0001:Environment.Exit(3)|};
            }
            """;

        await new DaemonThreadsAnalyzerTest<EnvironmentExitAnalyzer>(source).RunAsync();
    }

    [Fact]
    public async Task EnvironmentExit_FullyQualifiedAndAsMethodGroup_Reports()
    {
        const string source = """
            class Program
            {
                static void Stop()
                {
                    {|DT0001:System.Environment.Exit(1)|};
                    System.Action<int> exit = {|DT0001:System.Environment.Exit|};
                }
            }
            """;

        await new DaemonThreadsAnalyzerTest<EnvironmentExitAnalyzer>(source).RunAsync();
    }

    [Fact]
    public async Task EnvironmentExit_WithoutDaemonThreadsReference_DoesNotReport()
    {
        const string source = """
            using System;

            class Program
            {
                static void Stop() => Environment.Exit(3);
            }
            """;

        await new DaemonThreadsAnalyzerTest<EnvironmentExitAnalyzer>(source, withDaemonThreads: false).RunAsync();
    }

    [Fact]
    public async Task ExitRegistryExitAndOtherEnvironmentMembers_DoNotReport()
    {
        const string source = """
            using System;
            using DaemonThreads;

            class Program
            {
                static void Stop()
                {
                    Environment.ExitCode = 2;
                    Environment.FailFast("unrecoverable");
                    ExitRegistry.Exit(3);
                }
            }
            """;

        await new DaemonThreadsAnalyzerTest<EnvironmentExitAnalyzer>(source).RunAsync();
    }

    [Fact]
    public async Task Severity_SetToNoneInEditorConfig_DoesNotReport()
    {
        const string source = """
            class Program
            {
                static void Stop() => System.Environment.Exit(3);
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<EnvironmentExitAnalyzer>(source);
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", """
            root = true

            [*.cs]
            dotnet_diagnostic.DT0001.severity = none
            """));

        await test.RunAsync();
    }

    [Fact]
    public async Task Severity_SetToSuggestionInEditorConfig_ReportsInfo()
    {
        const string source = """
            class Program
            {
                static void Stop() => {|#0:System.Environment.Exit(3)|};
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<EnvironmentExitAnalyzer>(source);
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", """
            root = true

            [*.cs]
            dotnet_diagnostic.DT0001.severity = suggestion
            """));
        test.ExpectedDiagnostics.Add(new DiagnosticResult("DT0001", DiagnosticSeverity.Info).WithLocation(0));

        await test.RunAsync();
    }
}
