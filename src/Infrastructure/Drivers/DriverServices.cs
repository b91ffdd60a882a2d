using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers.Container.Docker;
using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Infrastructure.Drivers.Ip.Docker;
using OpenSvc.Infrastructure.Drivers.Sync.Btrfs;
using OpenSvc.Infrastructure.Drivers.Sync.Docker;
using OpenSvc.Infrastructure.Drivers.Sync.Rsync;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers;

public static class DriverServices
{
    /// <summary>
    /// The real drivers of this node, one registration for all six catalog entries (<see cref="DriverCatalog"/>), with
    /// what they share: the node's paths, the service dockerds, the SSH client.
    /// </summary>
    public static IServiceCollection AddNodeDrivers(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(_ => AgentPaths.FromEnvironment());
        services.TryAddSingleton(_ => SshRunner.FromEnvironment());
        services.TryAddSingleton<PrivateDockerDaemon>();
        services.TryAddSingleton<ServiceDocker>();
        services.TryAddSingleton<IDockerSocketLocator, ServiceDockerSocketLocator>();
        services.TryAddSingleton<ResolvedServices>();
        services.TryAddSingleton<DriverRegistry>();
        return services
            .AddResourceDriver<FsResource, FsDriver>("fs")
            .AddResourceDriver<DockerContainer, DockerContainerDriver>("container.docker")
            .AddResourceDriver<DockerIp, DockerIpDriver>("ip.docker")
            .AddSyncDriver<DockerSync, DockerSyncDriver>("sync.docker")
            .AddSyncDriver<BtrfsSync, BtrfsSyncDriver>("sync.btrfs")
            .AddSyncDriver<RsyncSync, RsyncSyncDriver>("sync.rsync");
    }
}
