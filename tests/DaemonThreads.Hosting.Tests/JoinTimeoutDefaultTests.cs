using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DaemonThreads.Hosting.Tests;

/// <summary>
/// <see cref="DaemonThreadsHostingOptions.JoinTimeout"/> follows the host's <see cref="HostOptions.ShutdownTimeout"/> unless the
/// application sets it. In-process: only the options are resolved, no host starts and nothing touches the registry.
/// </summary>
public class JoinTimeoutDefaultTests
{
    [Fact]
    public void JoinTimeout_NotSet_IsHostShutdownTimeout()
    {
        var services = new ServiceCollection();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(7));

        services.AddDaemonThreads();

        Resolve(services).JoinTimeout.Should().Be(TimeSpan.FromSeconds(7), "the sequence gives up when the host does");
    }

    [Fact]
    public void JoinTimeout_NotSetAndHostOptionsConfiguredAfterAddDaemonThreads_IsHostShutdownTimeout()
    {
        var services = new ServiceCollection();

        services.AddDaemonThreads();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(9));

        Resolve(services).JoinTimeout.Should().Be(TimeSpan.FromSeconds(9), "the host's options are read when the options are built, not when AddDaemonThreads runs");
    }

    [Fact]
    public void JoinTimeout_NotSetAndHostOptionsNotConfigured_IsHostDefault()
    {
        var services = new ServiceCollection();

        services.AddDaemonThreads();

        Resolve(services).JoinTimeout.Should().Be(new HostOptions().ShutdownTimeout, "the host's own default applies")
            .And.Be(DaemonThreadsHostingOptions.DefaultJoinTimeout, "DefaultJoinTimeout documents that default");
    }

    [Fact]
    public void JoinTimeout_SetExplicitly_WinsOverHostShutdownTimeout()
    {
        var services = new ServiceCollection();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(7));

        services.AddDaemonThreads(o => o.JoinTimeout = TimeSpan.FromSeconds(3));

        Resolve(services).JoinTimeout.Should().Be(TimeSpan.FromSeconds(3), "a value the application chose is kept");
    }

    [Fact]
    public void JoinTimeout_SetExplicitlyToDefaultValue_IsKept()
    {
        var services = new ServiceCollection();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(7));

        services.AddDaemonThreads(o => o.JoinTimeout = DaemonThreadsHostingOptions.DefaultJoinTimeout);

        Resolve(services).JoinTimeout.Should().Be(DaemonThreadsHostingOptions.DefaultJoinTimeout, "setting a value counts, even one equal to the default");
    }

    [Fact]
    public void JoinTimeout_SetToInfinite_IsKept()
    {
        var services = new ServiceCollection();

        services.AddDaemonThreads(o => o.JoinTimeout = Timeout.InfiniteTimeSpan);

        Resolve(services).JoinTimeout.Should().Be(Timeout.InfiniteTimeSpan, "waiting for ever, as Python does, is a choice");
    }

    private static DaemonThreadsHostingOptions Resolve(ServiceCollection services)
    {
        using ServiceProvider provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<DaemonThreadsHostingOptions>>().Value;
    }
}
