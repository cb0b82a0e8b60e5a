using System.Diagnostics;

namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>The exit sequence's spans in a real process, with the <c>DaemonThreads.Tracing.IsSupported</c> switch unset and off.</summary>
internal static class TracingScenarios
{
    [Scenario("tracing-default")]
    public static int TracingDefault() => RunMainAndListSpans();

    // The switch set as a runtimeconfig.json or RuntimeHostConfigurationOption would set it, before the library is used.
    [Scenario("tracing-switch-off")]
    public static int TracingSwitchOff()
    {
        AppContext.SetSwitch("DaemonThreads.Tracing.IsSupported", false);
        return RunMainAndListSpans();
    }

    // A listener made first (so a listener can exist), RunMain, then the names of the spans the exit sequence stopped.
    private static int RunMainAndListSpans()
    {
        var stopped = new List<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "DaemonThreads",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (stopped)
                {
                    stopped.Add(activity.OperationName);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        int code = ExitRegistry.RunMain(() => 0);
        lock (stopped)
        {
            Out.Line("spans: " + string.Join(", ", stopped));
        }

        return code;
    }
}
