using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>Issue 11: what the library makes the runtime do in a short program, checked as facts, not timings.</summary>
public class StartupCostTests
{
    [Fact]
    public async Task ShortProgram_WithNoListener_NeverLoadsTheDiagnosticsAssemblies()
    {
        // A loaded DiagnosticSource is what the library reads as "a listener can exist"; loading it itself (a method of
        // the sequence that names Activity) made it create an ActivitySource and an event source: 20 ms CPU per process.
        ScenarioResult result = await ScenarioProcess.RunAsync("short-program-loads");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["ok", "loaded: "], "neither System.Diagnostics.DiagnosticSource nor System.Diagnostics.Tracing is needed without a listener");
    }

    [Fact]
    public async Task ShortProgram_LoadsNoCollectionOrSpanFacadeWhileRunMainRuns()
    {
        // Each facade load cost the short program 0.25-0.6 ms (System.Memory through a string-to-span conversion in the
        // meter's assembly check and the naming code, System.Collections through Join's step check); its raw twin loads
        // neither.
        ScenarioResult result = await ScenarioProcess.RunAsync("short-program-facades");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["ok", "loaded during RunMain: "], "the library's short-program path needs neither System.Collections nor System.Memory");
    }

    [Fact]
    public async Task DiagnosticSourceLoadedAfterTheLibrary_ListenerMadeThenReceivesTheMeter()
    {
        // The meter is created when System.Diagnostics.DiagnosticSource loads, seen through AssemblyLoad: the check that
        // tells that assembly (by its manifest module's name since wave 8) must recognise it.
        ScenarioResult result = await ScenarioProcess.RunAsync("meter-late-listener");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(
            "DiagnosticSource loaded before the listener: no",
            "the listener received the DaemonThreads instruments");
    }

    [Fact]
    public async Task FirstStartOfAProcess_PoolCodeInTheBodyBelongsToTheThreadAndTheStarterKeepsItsContext()
    {
        // The cold starts (the first DaemonThread.ColdStarts of a process, which every test process has long passed) add
        // the owner on the new thread instead of flowing it from the starter's context.
        ScenarioResult result = await ScenarioProcess.RunAsync("cold-start-owner");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(
            "pool code in the body belongs to: cold",
            "flowed from the starter: from main",
            "pool code in main after the start belongs to: MainThread");
    }
}
