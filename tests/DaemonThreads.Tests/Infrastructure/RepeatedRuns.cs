using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace DaemonThreads.Tests.Infrastructure;

/// <summary>
/// Runs one child-process check many times, a few children at a time, and collects the figures (runs, failures,
/// timings) that the stress tests write to their output. Counts come from environment variables so that the same
/// tests run longer on demand (tests/stress/*.sh).
/// </summary>
public static class RepeatedRuns
{
    /// <summary>How many children run at once unless <c>DAEMONTHREADS_STRESS_PARALLEL</c> says otherwise (2-4 suits the 2-core machine).</summary>
    public const int DefaultParallelism = 3;

    /// <summary>Gets the parallelism: <c>DAEMONTHREADS_STRESS_PARALLEL</c>, or <see cref="DefaultParallelism"/>.</summary>
    public static int Parallelism => FromEnvironment("DAEMONTHREADS_STRESS_PARALLEL", DefaultParallelism);

    /// <summary>Reads a positive count from the environment, or returns <paramref name="fallback"/>.</summary>
    public static int FromEnvironment(string name, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 ? value : fallback;

    /// <summary>
    /// Runs <paramref name="run"/> for indices 0 .. <paramref name="runs"/> - 1, <paramref name="parallelism"/> at a time.
    /// A run returns <see langword="null"/> when it passed and a description when it failed; an exception it throws
    /// (a child killed at its ceiling) is a failure too.
    /// </summary>
    public static async Task<RunFigures> RunAsync(int runs, int parallelism, Func<int, Task<string?>> run)
    {
        var failures = new ConcurrentBag<(int Index, string Failure)>();
        long slowestTicks = 0;
        var wall = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, runs), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (index, _) =>
        {
            var clock = Stopwatch.StartNew();
            string? failure;
            try
            {
                failure = await run(index);
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                failure = ex.GetType().Name + ": " + ex.Message;
            }

            long ticks = clock.Elapsed.Ticks;
            long seen;
            while (ticks > (seen = Interlocked.Read(ref slowestTicks)) && Interlocked.CompareExchange(ref slowestTicks, ticks, seen) != seen)
            {
                // Another run recorded a time meanwhile; compare again.
            }

            if (failure is not null)
            {
                failures.Add((index, failure));
            }
        });

        return new RunFigures(runs, parallelism, [.. failures.OrderBy(f => f.Index)], wall.Elapsed, TimeSpan.FromTicks(slowestTicks));
    }
}

/// <summary>What <see cref="RepeatedRuns.RunAsync"/> measured.</summary>
/// <param name="Runs">How many runs.</param>
/// <param name="Parallelism">How many ran at once.</param>
/// <param name="Failures">The failed runs, by index, with what went wrong.</param>
/// <param name="Wall">Wall time of all runs.</param>
/// <param name="Slowest">The slowest single run (child start-up included).</param>
public sealed record RunFigures(int Runs, int Parallelism, IReadOnlyList<(int Index, string Failure)> Failures, TimeSpan Wall, TimeSpan Slowest)
{
    /// <inheritdoc/>
    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Runs} runs, {Failures.Count} failures, {Parallelism} at a time, wall {Wall.TotalSeconds:F1} s, slowest run {Slowest.TotalSeconds:F2} s");

    /// <summary>The first few failures, for an assertion message.</summary>
    public string FirstFailures(int count = 5)
        => string.Join(Environment.NewLine + "----" + Environment.NewLine, Failures.Take(count).Select(f => $"run {f.Index}: {f.Failure}"));
}
