using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace DaemonThreads.Benchmarks;

/// <summary>Runs the benchmarks chosen on the command line, e.g. <c>--filter '*' --job Short</c>.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks; returns 1 when any benchmark failed or a validation error stopped a run (for CI).</summary>
    public static int Main(string[] args)
    {
        IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}
