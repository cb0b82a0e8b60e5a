using DaemonThreads.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace DaemonThreads.Analyzers.Tests;

public class SignalHandlerAnalyzerTests
{
    [Fact]
    public async Task PosixSignalRegistration_ForTheThreeSignals_Reports()
    {
        const string source = """
            using System.Runtime.InteropServices;

            class Program
            {
                static void Install()
                {
                    using var term = {|#0:PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => context.Cancel = true)|};
                    using var interrupt = {|#1:PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => { })|};
                    using var hangUp = {|#2:PosixSignalRegistration.Create(PosixSignal.SIGHUP, _ => { })|};
                }
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<SignalHandlerAnalyzer>(source);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.OwnSignalHandler).WithLocation(0).WithArguments("This handler for SIGTERM"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.OwnSignalHandler).WithLocation(1).WithArguments("This handler for SIGINT"));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.OwnSignalHandler).WithLocation(2).WithArguments("This handler for SIGHUP"));

        await test.RunAsync();
    }

    [Fact]
    public async Task PosixSignalRegistration_WithRawSignalNumber_Reports()
    {
        const string source = """
            using System.Runtime.InteropServices;

            class Program
            {
                static PosixSignalRegistration Install() => {|#0:PosixSignalRegistration.Create((PosixSignal)15, _ => { })|};
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<SignalHandlerAnalyzer>(source);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.OwnSignalHandler).WithLocation(0).WithArguments("This handler for SIGTERM"));

        await test.RunAsync();
    }

    [Fact]
    public async Task CancelKeyPressSubscription_Reports()
    {
        const string source = """
            using System;

            class Program
            {
                static void Install() => {|#0:Console.CancelKeyPress += (_, e) => e.Cancel = true|};
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<SignalHandlerAnalyzer>(source);
        test.ExpectedDiagnostics.Add(new DiagnosticResult(DiagnosticDescriptors.OwnSignalHandler).WithLocation(0).WithArguments("This Console.CancelKeyPress handler"));

        await test.RunAsync();
    }

    [Fact]
    public async Task OtherSignalsAndUnsubscription_DoNotReport()
    {
        const string source = """
            using System;
            using System.Runtime.InteropServices;

            class Program
            {
                static void Install(ConsoleCancelEventHandler handler, PosixSignal chosen)
                {
                    using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, _ => { });
                    using var window = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => { });
                    using var notConstant = PosixSignalRegistration.Create(chosen, _ => { });
                    Console.CancelKeyPress -= handler;
                }
            }
            """;

        await new DaemonThreadsAnalyzerTest<SignalHandlerAnalyzer>(source).RunAsync();
    }

    [Fact]
    public async Task HandleSignalsSetToFalseAnywhereInTheCompilation_DoesNotReport()
    {
        const string program = """
            using System;
            using System.Runtime.InteropServices;

            class Program
            {
                static void Install()
                {
                    using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => { });
                    Console.CancelKeyPress += (_, e) => e.Cancel = true;
                }
            }
            """;
        const string startup = """
            using DaemonThreads;

            static class Startup
            {
                public static void Configure() => ExitRegistry.HandleSignals = false;
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<SignalHandlerAnalyzer>(program);
        test.TestState.Sources.Add(("Startup.cs", startup));

        await test.RunAsync();
    }

    [Fact]
    public async Task HandleSignalsSetToTrue_StillReports()
    {
        const string source = """
            using System;
            using DaemonThreads;

            class Program
            {
                static void Install()
                {
                    ExitRegistry.HandleSignals = true;
                    {|DT0002:Console.CancelKeyPress += (_, e) => e.Cancel = true|};
                }
            }
            """;

        await new DaemonThreadsAnalyzerTest<SignalHandlerAnalyzer>(source).RunAsync();
    }

    [Fact]
    public async Task AddDaemonThreadsCalled_DoesNotReport()
    {
        const string source = """
            using System;
            using Microsoft.Extensions.DependencyInjection;

            class Program
            {
                static void Configure(IServiceCollection services)
                {
                    services.AddDaemonThreads();
                    Console.CancelKeyPress += (_, e) => e.Cancel = true;
                }
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<SignalHandlerAnalyzer>(source);
        test.TestState.AdditionalReferences.AddRange(TestReferences.Hosting);

        await test.RunAsync();
    }

    [Fact]
    public async Task RuntimeSwitchOffInProjectFile_DoesNotReport()
    {
        const string source = """
            using System;

            class Program
            {
                static void Install() => Console.CancelKeyPress += (_, e) => e.Cancel = true;
            }
            """;
        var test = new DaemonThreadsAnalyzerTest<SignalHandlerAnalyzer>(source);

        // What the package's buildTransitive targets write for <RuntimeHostConfigurationOption Include="DaemonThreads.HandleSignals" Value="false" />.
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", """
            is_global = true
            build_property.DaemonThreadsHandleSignals = false
            """));

        await test.RunAsync();
    }

    [Fact]
    public async Task WithoutDaemonThreadsReference_DoesNotReport()
    {
        const string source = """
            using System;

            class Program
            {
                static void Install() => Console.CancelKeyPress += (_, e) => e.Cancel = true;
            }
            """;

        await new DaemonThreadsAnalyzerTest<SignalHandlerAnalyzer>(source, withDaemonThreads: false).RunAsync();
    }
}
