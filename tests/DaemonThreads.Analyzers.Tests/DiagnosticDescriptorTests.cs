using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace DaemonThreads.Analyzers.Tests;

public class DiagnosticDescriptorTests
{
    public static TheoryData<string, DiagnosticSeverity> Rules => new()
    {
        { "DT0001", DiagnosticSeverity.Warning },
        { "DT0002", DiagnosticSeverity.Warning },
        { "DT0003", DiagnosticSeverity.Info },
        { "DT0004", DiagnosticSeverity.Warning },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Rule_HasItsSeverityAndLinksToItsDocsPage(string id, DiagnosticSeverity severity)
    {
        DiagnosticDescriptor descriptor = AllDescriptors().Should().ContainSingle(d => d.Id == id, "each rule has one analyzer").Subject;

        descriptor.DefaultSeverity.Should().Be(severity);
        descriptor.IsEnabledByDefault.Should().BeTrue("every rule is on unless .editorconfig turns it off");
        descriptor.HelpLinkUri.Should().Be($"https://github.com/daemonthreads/daemonthreads/blob/main/docs/analyzers/{id}.md");
        File.Exists(Path.Combine(RepositoryRoot(), "docs", "analyzers", id + ".md")).Should().BeTrue("the help link points at a page in the repository");
    }

    [Fact]
    public void Analyzers_ReportOnlyTheFourRules()
    {
        AllDescriptors().Select(d => d.Id).Should().BeEquivalentTo(Rules.Select(row => (string)row[0]));
    }

    private static IEnumerable<DiagnosticDescriptor> AllDescriptors() =>
        typeof(EnvironmentExitAnalyzer).Assembly.GetTypes()
            .Where(type => type.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .SelectMany(type => ((DiagnosticAnalyzer)Activator.CreateInstance(type)!).SupportedDiagnostics);

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "DaemonThreads.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("DaemonThreads.sln not found above " + AppContext.BaseDirectory);
    }
}
