using System.Globalization;

namespace DaemonThreads.ExitScenarios.Scenarios;

internal static class DataSafetyScenarios
{
    /// <summary>
    /// A non-daemon writer appends N numbered records to a file while the process is ended by the path named in
    /// args[1]; a daemon flusher that watches <see cref="ExitRegistry.ShuttingDown"/> finishes within the grace period.
    /// </summary>
    /// <param name="args">path, exit path, record count.</param>
    [Scenario("data-writer")]
    public static int DataWriter(string[] args)
    {
        string path = args[0];
        string mode = args[1];
        int count = int.Parse(args[2], CultureInfo.InvariantCulture);
        // Far more than the flusher's 0.2 s. On the env-exit-daemon path the whole period is spent: the blocked caller is
        // a daemon thread the library cannot identify, so the grace step waits for it too (bounded by this value).
        ExitRegistry.DaemonGracePeriod = TimeSpan.FromSeconds(5);
        using var firstRecord = new ManualResetEventSlim();
        var writer = new DaemonThread(() =>
        {
            using var file = new StreamWriter(path) { AutoFlush = true };
            for (int i = 0; i < count; i++)
            {
                file.WriteLine(i.ToString(CultureInfo.InvariantCulture));
                firstRecord.Set();

                // Simulated work per record, so that the exit comes while records are still being written.
                Thread.Sleep(2);
            }

            Out.Line("writer done");
        }, name: "writer");
        var flusher = new DaemonThread(() =>
        {
            ExitRegistry.ShuttingDown.WaitHandle.WaitOne();

            // Simulated flush work, well inside the grace period.
            Thread.Sleep(200);
            Out.Line("daemon flushed");
        }, name: "flusher", isDaemon: true);
        ExitRegistry.RegisterAtExit(() => Out.Line("atexit"));
        flusher.Start();
        writer.Start();
        firstRecord.Wait();
        switch (mode)
        {
            case "runmain":
                return ExitRegistry.RunMain(() => 0);
            case "runmain-throws":
                return ExitRegistry.RunMain((Func<int>)(() => throw new InvalidOperationException("main failed on purpose")));
            case "exit-main":
                ExitRegistry.Exit(0);
                return 0;
            case "exit-worker":
                new DaemonThread(() => ExitRegistry.Exit(0), name: "caller").Start();
                ExitPathScenarios.WaitForEver();
                return 0;
            case "env-exit-main":
                Environment.Exit(0);
                return 0;
            case "env-exit-daemon":
                new DaemonThread(() => Environment.Exit(0), name: "caller", isDaemon: true).Start();
                ExitPathScenarios.WaitForEver();
                return 0;
            case "main-returns":
                return 0;
            case "signal":
                Out.Ready();
                ExitPathScenarios.WaitForEver();
                return 0;
            default:
                throw new ArgumentException("unknown exit path: " + mode, nameof(args));
        }
    }
}
