using System.Reflection;

namespace DaemonThreads.ExitScenarios;

/// <summary>
/// Runs one scenario, chosen by the first argument, in a fresh process. Scenarios print marker lines with
/// <see cref="Out.Line"/> (flushed at once, so nothing is lost when the process is ended) and exit.
/// </summary>
/// <remarks>
/// Nothing here touches the library before the scenario runs: some scenarios depend on which thread touches it first.
/// </remarks>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine("usage: DaemonThreads.ExitScenarios <scenario> [args...]");
            return 64;
        }

        MethodInfo? method = typeof(Program).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .FirstOrDefault(m => m.GetCustomAttribute<ScenarioAttribute>()?.Name == args[0]);
        if (method is null)
        {
            Console.Error.WriteLine("unknown scenario: " + args[0]);
            return 64;
        }

        object?[] parameters = method.GetParameters().Length == 0 ? [] : [args[1..]];
        object? result = method.Invoke(null, parameters);
        return result switch
        {
            int code => code,
            Task<int> task => task.GetAwaiter().GetResult(),
            Task task => Await(task),
            _ => 0,
        };
    }

    private static int Await(Task task)
    {
        task.GetAwaiter().GetResult();
        return 0;
    }
}
