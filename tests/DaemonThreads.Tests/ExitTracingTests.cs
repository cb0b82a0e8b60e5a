using System.Diagnostics;
using DaemonThreads.Internal;
using DaemonThreads.Tests.Infrastructure;

namespace DaemonThreads.Tests;

/// <summary>Issue 12 #4: the exit sequence as a trace, one span with a child per step, read with an <see cref="ActivityListener"/>.</summary>
public class ExitTracingTests
{
    [Fact]
    public void Shutdown_WithAListener_EmitsOneSpanWithAChildPerStepTaggedWithTheTriggerAndCounts()
    {
        var stopped = new List<Activity>();
        var coordinator = new ShutdownCoordinator(new ThreadRegistry(), isProcessWide: false, emitTraces: true);
        coordinator.RegisterBeforeJoin(() => { });
        coordinator.RegisterAtExit(() => { });
        coordinator.RegisterAtExit(() => { });
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "DaemonThreads",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (stopped)
                {
                    stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        coordinator.Shutdown(ShutdownTrigger.Host);

        List<Activity> mine;
        lock (stopped)
        {
            // Other tests' isolated coordinators emit nothing (emitTraces is off for them), but filter by our trigger anyway.
            Activity root = stopped.Single(a => a.OperationName == "DaemonThreads exit" && (string?)a.GetTagItem("daemonthreads.shutdown.trigger") == "Host");
            mine = stopped.Where(a => a.ParentSpanId == root.SpanId).ToList();
            root.GetTagItem("daemonthreads.shutdown.joined").Should().Be(0);
            root.GetTagItem("daemonthreads.shutdown.timed_out").Should().Be(0);
            root.Duration.Should().BeGreaterThan(TimeSpan.Zero);
        }

        mine.Select(a => a.OperationName).Should().Equal(["shutting down", "before-join hooks", "join", "at-exit hooks", "point of no return", "report"], "one child span per step, in the sequence's order");
        mine.Single(a => a.OperationName == "at-exit hooks").GetTagItem("daemonthreads.hooks").Should().Be(2);
    }

    [Fact]
    public void Shutdown_WithoutAListener_EmitsNothingAndStillCompletes()
    {
        var coordinator = new ShutdownCoordinator(new ThreadRegistry(), isProcessWide: false, emitTraces: true);

        ShutdownReport report = coordinator.Shutdown(ShutdownTrigger.Shutdown);

        report.IsComplete.Should().BeTrue();
        Activity.Current.Should().BeNull("no span is left current on the caller");
    }
}

/// <summary>Issue 11: the <c>DaemonThreads.Tracing.IsSupported</c> switch, in a real process (NativeAOT's default is checked by .ci/aot-check).</summary>
public class TracingSwitchTests
{
    [Fact]
    public async Task RunMain_SwitchUnset_TheExitSequenceEmitsItsSpans()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("tracing-default");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().ContainSingle().Which.Should().StartWith("spans: ").And.EndWith("DaemonThreads exit", "the sequence's span ends last, after its steps");
    }

    [Fact]
    public async Task RunMain_SwitchOff_TheExitSequenceEmitsNoSpan()
    {
        ScenarioResult result = await ScenarioProcess.RunAsync("tracing-switch-off");

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().Equal(["spans: "], "DaemonThreads.Tracing.IsSupported=false turns the spans off even with a listener");
    }
}
