using DaemonThreads.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace DaemonThreads.Analyzers.Tests;

public class EnvironmentExitCodeFixTests
{
    [Fact]
    public async Task Fix_WithoutUsing_AddsUsingAndCallsExitRegistryExit()
    {
        const string source = """
            using System;

            class Program
            {
                static void Stop(int code)
                {
                    Console.WriteLine("stopping");
                    {|DT0001:Environment.Exit(code + 1)|};
                }
            }
            """;
        const string fixedSource = """
            using System;
            using DaemonThreads;

            class Program
            {
                static void Stop(int code)
                {
                    Console.WriteLine("stopping");
                    ExitRegistry.Exit(code + 1);
                }
            }
            """;

        await new DaemonThreadsCodeFixTest<EnvironmentExitAnalyzer, EnvironmentExitCodeFixProvider>(source, fixedSource).RunAsync();
    }

    [Fact]
    public async Task Fix_WithUsing_CallsExitRegistryExit()
    {
        const string source = """
            using DaemonThreads;

            class Program
            {
                static void Stop() => {|DT0001:System.Environment.Exit(3)|};
            }
            """;
        const string fixedSource = """
            using DaemonThreads;

            class Program
            {
                static void Stop() => ExitRegistry.Exit(3);
            }
            """;

        await new DaemonThreadsCodeFixTest<EnvironmentExitAnalyzer, EnvironmentExitCodeFixProvider>(source, fixedSource).RunAsync();
    }

    [Fact]
    public async Task Fix_TopLevelStatementsAndMethodGroup_FixesEach()
    {
        const string source = """
            using System;

            Action<int> exit = {|DT0001:Environment.Exit|};
            {|DT0001:Environment.Exit(2)|};
            """;
        const string fixedSource = """
            using System;
            using DaemonThreads;

            Action<int> exit = ExitRegistry.Exit;
            ExitRegistry.Exit(2);
            """;

        await new DaemonThreadsCodeFixTest<EnvironmentExitAnalyzer, EnvironmentExitCodeFixProvider>(source, fixedSource, OutputKind.ConsoleApplication).RunAsync();
    }

    [Fact]
    public async Task Fix_InFileWithoutUsings_AddsTheUsingDirective()
    {
        const string source = """
            namespace App;

            static class Failure
            {
                public static void Stop() => {|DT0001:System.Environment.Exit(3)|};
            }
            """;
        const string fixedSource = """
            using DaemonThreads;

            namespace App;

            static class Failure
            {
                public static void Stop() => ExitRegistry.Exit(3);
            }
            """;

        await new DaemonThreadsCodeFixTest<EnvironmentExitAnalyzer, EnvironmentExitCodeFixProvider>(source, fixedSource).RunAsync();
    }

    [Fact]
    public async Task Fix_WhereExitRegistryNamesAnotherType_KeepsTheNameQualified()
    {
        const string source = """
            class ExitRegistry
            {
            }

            class Program
            {
                static void Stop() => {|DT0001:System.Environment.Exit(3)|};
            }
            """;
        const string fixedSource = """
            class ExitRegistry
            {
            }

            class Program
            {
                static void Stop() => DaemonThreads.ExitRegistry.Exit(3);
            }
            """;

        await new DaemonThreadsCodeFixTest<EnvironmentExitAnalyzer, EnvironmentExitCodeFixProvider>(source, fixedSource).RunAsync();
    }
}
