using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DaemonThreads.Hosting.Internal;

/// <summary>
/// Ties the process-wide <see cref="ExitRegistry"/> to the host's lifetime: the host owns the signals, the exit sequence
/// starts with <c>ApplicationStopping</c>, and <see cref="StopAsync"/> waits for it within the host's shutdown timeout.
/// </summary>
/// <remarks>Registered by <c>AddDaemonThreads</c>; see its remarks for the contract.</remarks>
internal sealed partial class DaemonThreadsHostedService : IHostedLifecycleService, IDisposable
{
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger _logger;
    private readonly DaemonThreadsHostingOptions _options;
    private readonly TimeSpan _hostShutdownTimeout;

    // Completed by the shutdown thread with the sequence's report. Continuations run asynchronously so that StopAsync's
    // continuation never runs on (and delays) the thread that finishes the sequence.
    private readonly TaskCompletionSource<ShutdownReport> _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<ThreadExceptionInfo> _exceptHook;
    private readonly Action<ShutdownReport> _reportHandler;
    private CancellationTokenRegistration _stoppingRegistration;
    private int _shutdownStarted;

    public DaemonThreadsHostedService(IHostApplicationLifetime lifetime, ILoggerFactory loggerFactory, IOptions<DaemonThreadsHostingOptions> options,
        IOptions<HostOptions> hostOptions)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(hostOptions);
        _lifetime = lifetime;
        _logger = loggerFactory.CreateLogger(DaemonThreadsLogEvents.Category);
        _options = options.Value;
        _hostShutdownTimeout = hostOptions.Value.ShutdownTimeout;
        _exceptHook = OnThreadException;
        _reportHandler = OnReport;
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // The host's console lifetime owns SIGTERM/SIGINT: with both handlers installed, SIGTERM would run our sequence and
        // exit with 143 while the host was still stopping its services.
        ExitRegistry.HandleSignals = false;
        LogSignalsHandedToHost(_logger);

        ExitRegistry.JoinTimeout = _options.JoinTimeout;
        if (IsLonger(_options.JoinTimeout, _hostShutdownTimeout))
        {
            // The host's StopAsync gives up at its timeout and Main returns, but the runtime keeps the process until the
            // non-daemon threads end or the join deadline switches them to background: the process outlives the host's
            // timeout, which an orchestrator's kill deadline (Kubernetes' terminationGracePeriodSeconds) is usually set from.
            LogJoinTimeoutLongerThanShutdownTimeout(_logger, Format(_options.JoinTimeout), Format(_hostShutdownTimeout));
        }
        if (_options.DaemonGracePeriod is TimeSpan grace)
        {
            ExitRegistry.DaemonGracePeriod = grace;
        }

        DaemonThread.ExceptHook = _exceptHook;
        ExitRegistry.ReportHandler = _reportHandler;

        // ApplicationStopping fires first on every graceful path (a signal, StopApplication, Host.StopAsync), before any
        // service is stopped, so that the sequence runs alongside the other services' StopAsync.
        _stoppingRegistration = _lifetime.ApplicationStopping.Register(static state => ((DaemonThreadsHostedService)state!).BeginShutdown(), this);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        // Normally started already by ApplicationStopping; this covers a host that calls StopAsync on the services directly.
        BeginShutdown();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        BeginShutdown();
        try
        {
            // Bounded by the host: cancellationToken is cancelled when HostOptions.ShutdownTimeout passes.
            await _shutdown.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The main thread is blocked in the host's Run and is not waited for; every other live non-daemon thread is.
            DaemonThread[] running = [.. DaemonThread.Enumerate().Where(t => !t.IsDaemon && t.IsAlive && !ReferenceEquals(t, DaemonThread.Main))];
            if (running.Length > 0)
            {
                LogNonDaemonThreadsStillRunning(_logger, running.Length, new ThreadNames(running));
            }
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Hands the hook and the report back to stderr once the host (and its logger) is gone.</summary>
    public void Dispose()
    {
        _stoppingRegistration.Dispose();

        // Only if they are still ours: the application may have replaced them. A sequence still running (the host's
        // timeout passed) then reports to stderr, because the logging providers are disposed with the host.
        if (ReferenceEquals(ExitRegistry.ReportHandler, _reportHandler))
        {
            ExitRegistry.ReportHandler = null;
        }

        if (ReferenceEquals(DaemonThread.ExceptHook, _exceptHook))
        {
            DaemonThread.ExceptHook = null!;
        }
    }

    private void BeginShutdown()
    {
        if (Interlocked.Exchange(ref _shutdownStarted, 1) != 0)
        {
            return;
        }

        LogShutdownStarted(_logger);

        // A thread of its own, because the sequence blocks until the non-daemon threads end and ApplicationStopping's
        // callbacks must not block (they run on the signal thread or the caller of StopApplication). Background, so
        // that it never keeps the process alive by itself: the sequence's own deadline bounds it.
        var thread = new Thread(RunShutdown) { IsBackground = true, Name = "DaemonThreads host shutdown" };
        thread.Start();
    }

    private void RunShutdown()
    {
        try
        {
            _shutdown.TrySetResult(ExitRegistry.Shutdown(ShutdownTrigger.Host));
        }
        catch (Exception ex)
        {
            _shutdown.TrySetException(ex);
        }
    }

    // Timeout.InfiniteTimeSpan (-1 ms) is longer than every finite timeout.
    private static bool IsLonger(TimeSpan timeout, TimeSpan than) =>
        than != Timeout.InfiniteTimeSpan && (timeout == Timeout.InfiniteTimeSpan || timeout > than);

    private static string Format(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? "infinite" : timeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture);

    private void OnThreadException(ThreadExceptionInfo info) =>
        LogThreadException(_logger, info.Exception, info.Thread?.Name ?? "<unknown>");

    // CA1873: runs once per process, and ThreadNames formats the list only if the message is written.
#pragma warning disable CA1873
    private void OnReport(ShutdownReport report)
    {
        LogShutdownCompleted(_logger, report.Trigger, report.Elapsed.TotalMilliseconds, report.Joined.Count, new ThreadNames(report.Joined));
        if (report.TimedOut.Count > 0)
        {
            LogNonDaemonThreadsTimedOut(_logger, report.TimedOut.Count, new ThreadNames(report.TimedOut));
        }

        if (report.Abandoned.Count > 0)
        {
            LogDaemonThreadsAbandoned(_logger, report.Abandoned.Count, new ThreadNames(report.Abandoned));
        }

        foreach (Exception error in report.HookErrors)
        {
            LogHookFailed(_logger, error);
        }
    }
#pragma warning restore CA1873


    [LoggerMessage(EventId = DaemonThreadsLogEvents.ThreadException, EventName = nameof(DaemonThreadsLogEvents.ThreadException),
        Level = LogLevel.Error, Message = "Exception in thread {ThreadName}")]
    private static partial void LogThreadException(ILogger logger, Exception exception, string threadName);

    [LoggerMessage(EventId = DaemonThreadsLogEvents.SignalsHandedToHost, EventName = nameof(DaemonThreadsLogEvents.SignalsHandedToHost),
        Level = LogLevel.Debug, Message = "SIGTERM and SIGINT are handled by the host; DaemonThreads' own signal handlers are removed")]
    private static partial void LogSignalsHandedToHost(ILogger logger);

    [LoggerMessage(EventId = DaemonThreadsLogEvents.ShutdownStarted, EventName = nameof(DaemonThreadsLogEvents.ShutdownStarted),
        Level = LogLevel.Information, Message = "Host is stopping: DaemonThreads exit sequence started")]
    private static partial void LogShutdownStarted(ILogger logger);

    [LoggerMessage(EventId = DaemonThreadsLogEvents.NonDaemonThreadsStillRunning, EventName = nameof(DaemonThreadsLogEvents.NonDaemonThreadsStillRunning),
        Level = LogLevel.Warning, Message = "Host shutdown timeout passed with {Count} non-daemon thread(s) still running: {ThreadNames}")]
    private static partial void LogNonDaemonThreadsStillRunning(ILogger logger, int count, ThreadNames threadNames);

    [LoggerMessage(EventId = DaemonThreadsLogEvents.ShutdownCompleted, EventName = nameof(DaemonThreadsLogEvents.ShutdownCompleted),
        Level = LogLevel.Information, Message = "DaemonThreads exit sequence finished (trigger {Trigger}) in {ElapsedMilliseconds:F0} ms; joined {Count}: {ThreadNames}")]
    private static partial void LogShutdownCompleted(ILogger logger, ShutdownTrigger trigger, double elapsedMilliseconds, int count, ThreadNames threadNames);

    [LoggerMessage(EventId = DaemonThreadsLogEvents.NonDaemonThreadsTimedOut, EventName = nameof(DaemonThreadsLogEvents.NonDaemonThreadsTimedOut),
        Level = LogLevel.Warning, Message = "Stopped waiting for {Count} non-daemon thread(s); abandoned: {ThreadNames}")]
    private static partial void LogNonDaemonThreadsTimedOut(ILogger logger, int count, ThreadNames threadNames);

    [LoggerMessage(EventId = DaemonThreadsLogEvents.DaemonThreadsAbandoned, EventName = nameof(DaemonThreadsLogEvents.DaemonThreadsAbandoned),
        Level = LogLevel.Information, Message = "Abandoned {Count} daemon thread(s) at exit: {ThreadNames}")]
    private static partial void LogDaemonThreadsAbandoned(ILogger logger, int count, ThreadNames threadNames);

    [LoggerMessage(EventId = DaemonThreadsLogEvents.HookFailed, EventName = nameof(DaemonThreadsLogEvents.HookFailed),
        Level = LogLevel.Error, Message = "A DaemonThreads exit hook threw")]
    private static partial void LogHookFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = DaemonThreadsLogEvents.JoinTimeoutLongerThanShutdownTimeout, EventName = nameof(DaemonThreadsLogEvents.JoinTimeoutLongerThanShutdownTimeout),
        Level = LogLevel.Warning, Message = "DaemonThreads JoinTimeout ({JoinTimeout}) is longer than the host's ShutdownTimeout ({ShutdownTimeout}): " +
            "the host stops waiting for non-daemon threads at its timeout, but the process lives on until they end or the join timeout passes. " +
            "Leave DaemonThreadsHostingOptions.JoinTimeout unset to use the host's timeout")]
    private static partial void LogJoinTimeoutLongerThanShutdownTimeout(ILogger logger, string joinTimeout, string shutdownTimeout);

    /// <summary>Formats thread names only when the message is written (the logger may have the level disabled).</summary>
    private sealed class ThreadNames(IReadOnlyList<DaemonThread> threads)
    {
        public override string ToString() => string.Join(", ", threads.Select(t => t.Name));
    }
}
