using DaemonThreads.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace DaemonThreads.Analyzers.Tests;

public class StartWithoutRunMainAnalyzerTests
{
    [Fact]
    public async Task StartInMain_WithoutRunMain_Reports()
    {
        const string source = """
            using DaemonThreads;

            class Program
            {
                static void Main()
                {
                    var writer = new DaemonThread(() => { }, name: "writer");
                    {|#0:writer.Start()|};
                    {|#1:new DaemonTimer(System.TimeSpan.FromSeconds(1), () => { }).Start()|};
                }
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<StartWithoutRunMainAnalyzer>(source, OutputKind.ConsoleApplication);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.StartWithoutRunMain).WithLocation(0).WithArguments("DaemonThread"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.StartWithoutRunMain).WithLocation(1).WithArguments("DaemonTimer"));

        await test.RunAsync();
    }

    [Fact]
    public async Task StartInTopLevelStatements_WithoutRunMain_Reports()
    {
        const string source = """
            using DaemonThreads;

            {|DT0003:new DaemonThread(() => { }).Start()|};
            await System.Threading.Tasks.Task.Yield();
            """;

        await new DaemonThreadsAnalyzerTest<StartWithoutRunMainAnalyzer>(source, OutputKind.ConsoleApplication).RunAsync();
    }

    [Fact]
    public async Task StartInAsyncMain_WithoutRunMain_Reports()
    {
        const string source = """
            using System.Threading.Tasks;
            using DaemonThreads;

            class Program
            {
                static async Task<int> Main(string[] args)
                {
                    {|DT0003:new DaemonThread(() => { }).Start()|};
                    await Task.Yield();
                    return 0;
                }
            }
            """;

        await new DaemonThreadsAnalyzerTest<StartWithoutRunMainAnalyzer>(source, OutputKind.ConsoleApplication).RunAsync();
    }

    [Fact]
    public async Task StartInsideRunMain_DoesNotReport()
    {
        const string source = """
            using DaemonThreads;

            return ExitRegistry.RunMain(() =>
            {
                new DaemonThread(() => { }, name: "writer").Start();
                return 0;
            });
            """;

        await new DaemonThreadsAnalyzerTest<StartWithoutRunMainAnalyzer>(source, OutputKind.ConsoleApplication).RunAsync();
    }

    [Fact]
    public async Task StartInMain_WithRunMainElsewhereInTheProgram_DoesNotReport()
    {
        const string source = """
            using DaemonThreads;

            class Program
            {
                static int Main()
                {
                    new DaemonThread(() => { }).Start();
                    return App.Run();
                }
            }

            static class App
            {
                public static int Run() => ExitRegistry.RunMain(() => { });
            }
            """;

        await new DaemonThreadsAnalyzerTest<StartWithoutRunMainAnalyzer>(source, OutputKind.ConsoleApplication).RunAsync();
    }

    [Fact]
    public async Task StartInGenericHostProgramWithAddDaemonThreads_DoesNotReport()
    {
        const string source = """
            using DaemonThreads;
            using Microsoft.Extensions.DependencyInjection;

            class Program
            {
                static void Main()
                {
                    IServiceCollection services = null!;
                    services.AddDaemonThreads();
                    new DaemonThread(() => { }).Start();
                }
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<StartWithoutRunMainAnalyzer>(source, OutputKind.ConsoleApplication);
        test.TestState.AdditionalReferences.AddRange(TestReferences.Hosting);

        await test.RunAsync();
    }

    [Fact]
    public async Task StartOutsideTheEntryPoint_DoesNotReport()
    {
        const string source = """
            using DaemonThreads;

            class Program
            {
                static void Main()
                {
                    Workers.StartAll();
                    System.Action later = () => new DaemonThread(() => { }).Start();
                    later();
                }
            }

            static class Workers
            {
                public static void StartAll() => new DaemonThread(() => { }).Start();
            }
            """;

        await new DaemonThreadsAnalyzerTest<StartWithoutRunMainAnalyzer>(source, OutputKind.ConsoleApplication).RunAsync();
    }

    [Fact]
    public async Task StartInLibrary_DoesNotReport()
    {
        const string source = """
            using DaemonThreads;

            public static class Program
            {
                public static void Main() => new DaemonThread(() => { }).Start();
            }
            """;

        await new DaemonThreadsAnalyzerTest<StartWithoutRunMainAnalyzer>(source, OutputKind.DynamicallyLinkedLibrary).RunAsync();
    }

    [Fact]
    public async Task ThreadStartOfAnotherType_DoesNotReport()
    {
        const string source = """
            class Program
            {
                static void Main()
                {
                    var thread = new System.Threading.Thread(() => { });
                    thread.Start();
                    thread.Join();
                }
            }
            """;

        await new DaemonThreadsAnalyzerTest<StartWithoutRunMainAnalyzer>(source, OutputKind.ConsoleApplication).RunAsync();
    }
}
