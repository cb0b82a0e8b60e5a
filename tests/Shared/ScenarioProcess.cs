using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace DaemonThreads.Testing;

/// <summary>Runs one scenario of the test project's scenario host (its <c>ScenarioHost</c> assembly metadata) in a child process and captures what it did.</summary>
/// <remarks>Shared by the test projects (linked from tests/Shared).</remarks>
public sealed class ScenarioProcess : IDisposable
{
    private static readonly string s_scenarioHost = typeof(ScenarioProcess).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "ScenarioHost").Value!;

    private static readonly string s_scenarioDll = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", s_scenarioHost, "bin",
        new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", s_scenarioHost + ".dll");

    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly object _lock = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(string Line, TaskCompletionSource Seen)> _waiters = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private ScenarioProcess(string scenario, string[] args, IDictionary<string, string>? environment, bool asPid1 = false)
    {
        var info = new ProcessStartInfo(asPid1 ? "unshare" : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (asPid1)
        {
            // A new PID namespace: the scenario host is PID 1 there, as in a container without an init.
            foreach (string a in new[] { "--fork", "--pid", "--mount-proc", "dotnet" })
            {
                info.ArgumentList.Add(a);
            }
        }

        info.ArgumentList.Add(Path.GetFullPath(s_scenarioDll));
        info.ArgumentList.Add(scenario);
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data, _stdout, _stdoutClosed, watch: true);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data, _stderr, _stderrClosed, watch: false);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Gets the scenario's stdout lines so far.</summary>
    public IReadOnlyList<string> StdoutLines
    {
        get
        {
            lock (_lock)
            {
                return _stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }
        }
    }

    /// <summary>Gets everything the scenario wrote to stderr so far.</summary>
    public string Stderr
    {
        get
        {
            lock (_lock)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Gets the process id of the child.</summary>
    public int Pid => _process.Id;

    /// <summary>Starts a scenario.</summary>
    public static ScenarioProcess Start(string scenario, params string[] args) => new(scenario, args, null);

    /// <summary>Starts a scenario with extra environment variables.</summary>
    public static ScenarioProcess Start(string scenario, IDictionary<string, string> environment, params string[] args) => new(scenario, args, environment);

    /// <summary>Starts a scenario as PID 1 of a new PID namespace (<c>unshare --fork --pid</c>, needs root on Linux).</summary>
    public static ScenarioProcess StartAsPid1(string scenario, params string[] args) => new(scenario, args, null, asPid1: true);

    /// <summary>Sends a POSIX signal to the child's own child (the scenario host under <c>unshare</c>), by its PID outside the namespace.</summary>
    public void SignalGrandchild(int signal)
    {
        string children = File.ReadAllText($"/proc/{_process.Id}/task/{_process.Id}/children").Trim();
        int pid = int.Parse(children.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException("kill() failed: " + Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>Runs a scenario to its end and returns the result (the process tree is killed if it outlives the ceiling).</summary>
    public static async Task<ScenarioResult> RunAsync(string scenario, params string[] args)
    {
        using var process = Start(scenario, args);
        return await process.WaitForExitAsync(TestTimeouts.Unexpected);
    }

    /// <summary>Waits until the scenario prints <paramref name="line"/> (a whole line), within the ceiling.</summary>
    public async Task WaitForLineAsync(string line)
    {
        TaskCompletionSource seen = new(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (StdoutLinesUnlocked().Contains(line))
            {
                return;
            }

            _waiters.Add((line, seen));
        }

        Task done = await Task.WhenAny(seen.Task, _stdoutClosed.Task, Task.Delay(TestTimeouts.Unexpected));
        if (done != seen.Task)
        {
            Kill();
            throw new TimeoutException($"the scenario never printed '{line}'. stdout:\n{string.Join('\n', StdoutLines)}\nstderr:\n{Stderr}");
        }
    }

    /// <summary>Sends a POSIX signal to the child.</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException("kill() failed: " + Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>
    /// Sends <paramref name="signal"/> every 200 ms until the child exits (POSIX signals sent back to back may merge into
    /// one), then returns as <see cref="WaitForExitAsync"/>; the repetition is bounded by <paramref name="ceiling"/>.
    /// </summary>
    public async Task<ScenarioResult> SignalUntilExitAsync(int signal, TimeSpan ceiling)
    {
        var clock = Stopwatch.StartNew();
        while (!_process.HasExited && clock.Elapsed < ceiling)
        {
            _ = Kill(_process.Id, signal);
            using var tick = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            try
            {
                await _process.WaitForExitAsync(tick.Token);
            }
            catch (OperationCanceledException)
            {
                // Not yet: signal again.
            }
        }

        return await WaitForExitAsync(ceiling);
    }

    /// <summary>Waits for the child to exit within <paramref name="ceiling"/>; kills the process tree and throws if it does not.</summary>
    public async Task<ScenarioResult> WaitForExitAsync(TimeSpan ceiling)
    {
        using var cts = new CancellationTokenSource(ceiling);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(ceiling);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"the scenario did not exit within {ceiling}. stdout:\n{string.Join('\n', StdoutLines)}\nstderr:\n{Stderr}");
        }

        return new ScenarioResult(_process.ExitCode, StdoutLines, Stderr, _clock.Elapsed);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private string[] StdoutLinesUnlocked() => _stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private void OnLine(string? line, StringBuilder buffer, TaskCompletionSource closed, bool watch)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }

        lock (_lock)
        {
            buffer.Append(line).Append('\n');
            if (watch)
            {
                foreach (var (expected, seen) in _waiters.Where(w => w.Line == line).ToList())
                {
                    seen.TrySetResult();
                    _waiters.Remove((expected, seen));
                }
            }
        }
    }
}

/// <summary>What a finished scenario did.</summary>
/// <param name="ExitCode">The process exit code.</param>
/// <param name="Stdout">The stdout lines, in order.</param>
/// <param name="Stderr">Everything written to stderr.</param>
/// <param name="Elapsed">Wall time from start to exit, including the runtime's start-up (about 0.1–0.3 s).</param>
public sealed record ScenarioResult(int ExitCode, IReadOnlyList<string> Stdout, string Stderr, TimeSpan Elapsed);
