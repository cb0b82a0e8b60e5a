using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DaemonThreads.Hosting.Internal;

/// <summary>
/// Makes the host's <see cref="HostOptions.ShutdownTimeout"/> the default of <see cref="DaemonThreadsHostingOptions.JoinTimeout"/>,
/// so that the exit sequence and the host give up at the same moment unless the application chose otherwise.
/// </summary>
/// <remarks>
/// A post-configure step, so it runs after every <c>Configure</c> call (and configuration binding) of the application:
/// whether <see cref="DaemonThreadsHostingOptions.JoinTimeout"/> was set is known by then. Read through a typed
/// <see cref="IOptions{TOptions}"/>, which the trimmer and NativeAOT see statically.
/// </remarks>
internal sealed class JoinTimeoutFromHostOptions(IOptions<HostOptions> hostOptions) : IPostConfigureOptions<DaemonThreadsHostingOptions>
{
    public void PostConfigure(string? name, DaemonThreadsHostingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.IsJoinTimeoutSet)
        {
            options.UseHostShutdownTimeout(hostOptions.Value.ShutdownTimeout);
        }
    }
}
