namespace DaemonThreads.Hosting;

/// <summary>
/// Configures how DaemonThreads runs inside a Generic Host; passed to
/// <see cref="Microsoft.Extensions.DependencyInjection.DaemonThreadsServiceCollectionExtensions.AddDaemonThreads"/>.
/// </summary>
/// <remarks>
/// The values are copied to <see cref="ExitRegistry"/> when the host starts. Thread safety: configure the options
/// during service registration only; the host reads them once, on its starting thread.
/// </remarks>
public sealed class DaemonThreadsHostingOptions
{
    /// <summary>
    /// Holds the Generic Host's default <c>HostOptions.ShutdownTimeout</c>, 30 seconds: the value of <see cref="JoinTimeout"/>
    /// until the application or the host's options set another.
    /// </summary>
    public static readonly TimeSpan DefaultJoinTimeout = TimeSpan.FromSeconds(30);

    // Null until the application sets JoinTimeout: only then does the host's ShutdownTimeout stop being the default.
    private TimeSpan? _joinTimeout;
    private TimeSpan _hostShutdownTimeout = DefaultJoinTimeout;

    /// <summary>
    /// Gets or sets how long the exit sequence waits, in total, for non-daemon threads once the host begins to stop;
    /// copied to <see cref="ExitRegistry.JoinTimeout"/> when the host starts.
    /// </summary>
    /// <value>
    /// Default: the host's <c>HostOptions.ShutdownTimeout</c> (read through <c>IOptions&lt;HostOptions&gt;</c>, so it follows
    /// <c>services.Configure&lt;HostOptions&gt;</c> and the <c>shutdownTimeoutSeconds</c> configuration key; 30 s, that is
    /// <see cref="DefaultJoinTimeout"/>, unless changed). A value set here, even one equal to the default, wins over the
    /// host's. The host stops waiting at its own timeout; a longer value here is logged as a warning when the host
    /// starts (event <see cref="DaemonThreadsLogEvents.JoinTimeoutLongerThanShutdownTimeout"/>), because the process then
    /// outlives the host's timeout until this deadline passes too (the non-daemon threads still running are then
    /// abandoned and logged). <see cref="Timeout.InfiniteTimeSpan"/> waits for ever, as Python does.
    /// </value>
    public TimeSpan JoinTimeout
    {
        get => _joinTimeout ?? _hostShutdownTimeout;
        set => _joinTimeout = value;
    }

    /// <summary>Gets whether the application set <see cref="JoinTimeout"/>; if not, it follows the host's shutdown timeout.</summary>
    internal bool IsJoinTimeoutSet => _joinTimeout.HasValue;

    /// <summary>Sets the default of <see cref="JoinTimeout"/>: the host's <c>HostOptions.ShutdownTimeout</c>.</summary>
    internal void UseHostShutdownTimeout(TimeSpan shutdownTimeout) => _hostShutdownTimeout = shutdownTimeout;

    /// <summary>
    /// Gets or sets how long daemon threads get to finish after the join; copied to
    /// <see cref="ExitRegistry.DaemonGracePeriod"/> when the host starts, unless it is <see langword="null"/>.
    /// </summary>
    /// <value>Default <see langword="null"/>: the registry's value (zero unless the application changed it) is kept.</value>
    public TimeSpan? DaemonGracePeriod { get; set; }
}
