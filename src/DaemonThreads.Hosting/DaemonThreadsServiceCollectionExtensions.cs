using DaemonThreads.Hosting;
using DaemonThreads.Hosting.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers DaemonThreads with a Generic Host.</summary>
public static class DaemonThreadsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the hosted service that ties the DaemonThreads exit sequence to the host's lifetime and routes its output to
    /// <c>ILogger</c>.
    /// </summary>
    /// <param name="services">The host's service collection.</param>
    /// <param name="configure">Optional: sets the join timeout (default: the host's <see cref="HostOptions.ShutdownTimeout"/>) and the daemon grace period.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// <para>When the host starts, the service:</para>
    /// <list type="number">
    /// <item>turns <see cref="DaemonThreads.ExitRegistry.HandleSignals"/> off, so SIGTERM and SIGINT are handled once, by
    /// the host's console lifetime (which stops the host gracefully);</item>
    /// <item>copies <see cref="DaemonThreadsHostingOptions.JoinTimeout"/> (and <see cref="DaemonThreadsHostingOptions.DaemonGracePeriod"/>
    /// when set) to the registry; unless the application set it, the join timeout is the host's <see cref="HostOptions.ShutdownTimeout"/>,
    /// and a join timeout longer than that is logged as a warning (event <see cref="DaemonThreadsLogEvents.JoinTimeoutLongerThanShutdownTimeout"/>);</item>
    /// <item>routes <see cref="DaemonThreads.DaemonThread.ExceptHook"/> and <see cref="DaemonThreads.ExitRegistry.ReportHandler"/> to
    /// the logger category <see cref="DaemonThreadsLogEvents.Category"/>, with the ids in <see cref="DaemonThreadsLogEvents"/>.</item>
    /// </list>
    /// <para>
    /// When <c>ApplicationStopping</c> fires, it starts <see cref="DaemonThreads.ExitRegistry.Shutdown(DaemonThreads.ShutdownTrigger)"/>
    /// (trigger <see cref="DaemonThreads.ShutdownTrigger.Host"/>) on a thread of its own, so
    /// <see cref="DaemonThreads.ExitRegistry.ShuttingDown"/> is cancelled and the before-join hooks run while the host stops the other
    /// services. Its <c>StopAsync</c> waits for the sequence (that is, for the non-daemon threads) until the host's
    /// shutdown timeout cancels the wait; non-daemon threads still running then are logged by name at Warning level.
    /// Register it first so that it stops last (the host stops services in reverse order).
    /// </para>
    /// <para>
    /// Exit code: the package never sets one and never calls <see cref="Environment.Exit(int)"/>. The process exits
    /// with what <c>Main</c> returns, as the host's convention is: 0 after a graceful stop, whether it began with
    /// SIGTERM, SIGINT or <c>IHostApplicationLifetime.StopApplication</c>, and also 0 when non-daemon threads had to be
    /// abandoned (that is logged as a warning instead). Without this package, the DaemonThreads signal handlers would
    /// exit with 128 + the signal number.
    /// </para>
    /// <para>Calling it more than once registers the service once; the last <paramref name="configure"/> calls all apply.</para>
    /// </remarks>
    public static IServiceCollection AddDaemonThreads(this IServiceCollection services, Action<DaemonThreadsHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<DaemonThreadsHostingOptions>, JoinTimeoutFromHostOptions>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DaemonThreadsHostedService>());
        return services;
    }
}
