using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DaemonThreads.Hosting.Tests;

public class AddDaemonThreadsTests
{
    [Fact]
    public void AddDaemonThreads_CalledTwice_RegistersOneHostedService()
    {
        var services = new ServiceCollection();

        services.AddDaemonThreads().AddDaemonThreads(o => o.JoinTimeout = TimeSpan.FromSeconds(5));

        services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(1, "a second call must not run the exit sequence twice");
    }

    [Fact]
    public void AddDaemonThreads_NullServices_ThrowsArgumentNullException()
    {
        Action act = () => DaemonThreadsServiceCollectionExtensions.AddDaemonThreads(null!);

        act.Should().Throw<ArgumentNullException>().WithParameterName("services");
    }
}
