using BenchmarkDotNet.Running;

namespace DaemonThreads.Benchmarks;

/// <summary>Runs the benchmarks chosen on the command line, e.g. <c>--filter '*' --job Short</c>.</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
