using DaemonThreads.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace DaemonThreads.Analyzers.Tests;

public class AsyncVoidCallbackAnalyzerTests
{
    [Fact]
    public async Task AsyncLambda_AsThreadTargetAndTimerCallback_Reports()
    {
        const string source = """
            using System;
            using System.Threading.Tasks;
            using DaemonThreads;

            class Program
            {
                static void Start()
                {
                    new DaemonThread({|#0:async () => await Task.Delay(10)|}, name: "writer").Start();
                    new DaemonTimer(TimeSpan.FromSeconds(1), {|#1:async () => await Task.Yield()|}).Start();
                }
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<AsyncVoidCallbackAnalyzer>(source);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.AsyncVoidCallback).WithLocation(0).WithArguments("lambda", "target", "new DaemonThread"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.AsyncVoidCallback).WithLocation(1).WithArguments("lambda", "callback", "new DaemonTimer"));

        await test.RunAsync();
    }

    [Fact]
    public async Task AsyncLambda_AsExitHooks_ReportsButNotForRunMainWhichHasTaskOverloads()
    {
        const string source = """
            using System.Threading.Tasks;
            using DaemonThreads;

            class Program
            {
                static int Main()
                {
                    ExitRegistry.RegisterAtExit({|#0:async () => await Task.Delay(10)|});
                    ExitRegistry.RegisterBeforeJoin(callback: {|#1:async () => await Task.Delay(10)|});
                    return ExitRegistry.RunMain(async () => await Task.Delay(10)); // binds to RunMain(Func<Task>): no async void
                }
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<AsyncVoidCallbackAnalyzer>(source, OutputKind.ConsoleApplication);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.AsyncVoidCallback).WithLocation(0).WithArguments("lambda", "callback", "ExitRegistry.RegisterAtExit"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.AsyncVoidCallback).WithLocation(1).WithArguments("lambda", "callback", "ExitRegistry.RegisterBeforeJoin"));

        await test.RunAsync();
    }

    [Fact]
    public async Task AsyncLambda_AssignedToExceptHookAndReportHandler_Reports()
    {
        const string source = """
            using System.Threading.Tasks;
            using DaemonThreads;

            class Program
            {
                static void Configure()
                {
                    DaemonThread.ExceptHook = {|#0:async info => await Task.Delay(10)|};
                    ExitRegistry.ReportHandler = {|#1:async report => await Task.Delay(10)|};
                }
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<AsyncVoidCallbackAnalyzer>(source);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.AsyncVoidCallback).WithLocation(0).WithArguments("lambda", "ExceptHook", "DaemonThread.ExceptHook"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.AsyncVoidCallback).WithLocation(1).WithArguments("lambda", "ReportHandler", "ExitRegistry.ReportHandler"));

        await test.RunAsync();
    }

    [Fact]
    public async Task AsyncVoidMethodGroup_AsThreadTarget_Reports()
    {
        const string source = """
            using System.Threading.Tasks;
            using DaemonThreads;

            class Program
            {
                static void Start() => new DaemonThread({|#0:WriteAsync|}).Start();

                static async void WriteAsync() => await Task.Delay(10);
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<AsyncVoidCallbackAnalyzer>(source);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.AsyncVoidCallback).WithLocation(0).WithArguments("method", "target", "new DaemonThread"));

        await test.RunAsync();
    }

    [Fact]
    public async Task SynchronousCallbacks_DoNotReport()
    {
        const string source = """
            using System.Threading.Tasks;
            using DaemonThreads;

            class Program
            {
                static int Main()
                {
                    new DaemonThread(() => WriteAsync().GetAwaiter().GetResult()).Start();
                    new DaemonThread(Write).Start();
                    ExitRegistry.RegisterAtExit(() => { });
                    DaemonThread.ExceptHook = info => System.Console.Error.WriteLine(info.Exception);
                    return ExitRegistry.RunMain(() => 0);
                }

                static void Write() { }

                static async Task WriteAsync() => await Task.Delay(10);
            }
            """;

        await new DaemonThreadsAnalyzerTest<AsyncVoidCallbackAnalyzer>(source, OutputKind.ConsoleApplication).RunAsync();
    }

    [Fact]
    public async Task AsyncLambda_ForOtherApis_DoesNotReport()
    {
        const string source = """
            using System;
            using System.Threading;
            using System.Threading.Tasks;

            class Program
            {
                static void Start(Action<Action> elsewhere)
                {
                    var thread = new Thread(async () => await Task.Delay(10));
                    elsewhere(async () => await Task.Delay(10));
                    Func<Task> task = async () => await Task.Delay(10);
                }
            }
            """;

        await new DaemonThreadsAnalyzerTest<AsyncVoidCallbackAnalyzer>(source).RunAsync();
    }
}
