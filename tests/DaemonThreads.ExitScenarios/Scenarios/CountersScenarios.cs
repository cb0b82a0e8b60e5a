namespace DaemonThreads.ExitScenarios;

/// <summary>A process that keeps DaemonThreads alive for <c>dotnet-counters</c> to read from outside (.ci/counters-check).</summary>
internal static class CountersScenarios
{
    // Two non-daemon threads and one daemon thread stay alive; each "start N" line on stdin starts (and joins) N more
    // short-lived daemon threads and answers "started N". SIGTERM ends it: the two idle workers watch ShuttingDown, are
    // joined, and the process exits with 143.
    [Scenario("counters")]
    public static int KeepThreadsAlive()
    {
        using var never = new ManualResetEventSlim();
        for (int i = 1; i <= 2; i++)
        {
            // Deliberately infinite: the exit sequence cancels ShuttingDown.
            new DaemonThread(() => ExitRegistry.ShuttingDown.WaitHandle.WaitOne(), name: "idle-" + i, isDaemon: false).Start();
        }

        new DaemonThread(() => never.Wait(), name: "idle-daemon", isDaemon: true).Start();
        Out.Line("pid " + Environment.ProcessId);
        Out.Ready();

        while (Console.ReadLine() is string line)
        {
            if (line.StartsWith("start ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(6), out int count))
            {
                for (int i = 0; i < count; i++)
                {
                    var shortLived = new DaemonThread(() => { }, name: "short-" + i, isDaemon: true);
                    shortLived.Start();
                    shortLived.Join();
                }

                Out.Line("started " + count);
            }
        }

        // stdin closed: wait for the signal. Deliberately infinite, as a service would.
        never.Wait();
        return 0;
    }
}
