namespace DaemonThreads.ExitScenarios.Scenarios;

/// <summary>Issue 11: what the library's own start-up and exit cost a short program, seen from inside the process.</summary>
internal static class StartupScenarios
{
    // The diagnostics assemblies that only a listener needs: the library must not load them itself.
    private static readonly string[] s_watched = ["System.Diagnostics.DiagnosticSource", "System.Diagnostics.Tracing"];

    // The short program of issue 11 (RunMain, one DaemonThread started and joined), then, after the whole exit sequence,
    // which of the watched assemblies are loaded.
    [Scenario("short-program-loads")]
    public static int ShortProgramLoads()
    {
        int code = ExitRegistry.RunMain(() =>
        {
            int ran = 0;
            var thread = new DaemonThread(() => ran = 1);
            thread.Start();
            thread.Join();
            Out.Line(ran == 1 ? "ok" : "not run");
            return 0;
        });

        var loaded = new List<string>();
        foreach (System.Reflection.Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            string? name = assembly.GetName().Name;
            if (name is not null && Array.IndexOf(s_watched, name) >= 0)
            {
                loaded.Add(name);
            }
        }

        loaded.Sort(StringComparer.Ordinal);
        Out.Line("loaded: " + string.Join(", ", loaded));
        return code;
    }
}
