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
    /// <summary>The Generic Host's default <c>HostOptions.ShutdownTimeout</c>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultJoinTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long the exit sequence waits, in total, for non-daemon threads once the host begins to stop;
    /// copied to <see cref="ExitRegistry.JoinTimeout"/> when the host starts.
    /// </summary>
    /// <value>
    /// Default <see cref="DefaultJoinTimeout"/> (30 s, the host's default <c>HostOptions.ShutdownTimeout</c>). Set it to the
    /// same value as <c>HostOptions.ShutdownTimeout</c> when you change that: the host stops waiting at its timeout, and
    /// the runtime lets the process end once this deadline has also passed (the non-daemon threads still running
    /// are then abandoned and logged). <see cref="Timeout.InfiniteTimeSpan"/> waits for ever, as Python does.
    /// </value>
    public TimeSpan JoinTimeout { get; set; } = DefaultJoinTimeout;

    /// <summary>
    /// Gets or sets how long daemon threads get to finish after the join; copied to
    /// <see cref="ExitRegistry.DaemonGracePeriod"/> when the host starts, unless it is <see langword="null"/>.
    /// </summary>
    /// <value>Default <see langword="null"/>: the registry's value (zero unless the application changed it) is kept.</value>
    public TimeSpan? DaemonGracePeriod { get; set; }
}
