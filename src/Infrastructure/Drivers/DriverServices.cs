using Microsoft.Extensions.DependencyInjection;
using OpenSvc.Infrastructure.Drivers.Container.Docker;
using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Infrastructure.Drivers.Ip.Docker;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Infrastructure.Drivers;

public static class DriverServices
{
    /// <summary>The real resource drivers of this node: fs, container.docker (with private dockerds), ip.docker.</summary>
    public static IServiceCollection AddResourceDrivers(this IServiceCollection services)
    {
        services.AddSingleton(_ => AgentPaths.FromEnvironment());
        services.AddSingleton<PrivateDockerDaemon>();
        services.AddSingleton<ServiceDocker>();
        services.AddSingleton<IResourceDriver, FsDriver>();
        services.AddSingleton<IResourceDriver, DockerContainerDriver>();
        services.AddSingleton<IResourceDriver, DockerIpDriver>();
        return services;
    }
}
