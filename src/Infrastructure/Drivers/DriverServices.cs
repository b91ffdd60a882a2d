using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers.Container.Docker;
using OpenSvc.Infrastructure.Drivers.Sync.Docker;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers;

public static class DriverServices
{
    /// <summary>
    /// The real drivers of this node, one per catalog entry (<see cref="DriverCatalog"/>), with what they share: the
    /// node's paths, the service dockerds, the SSH client.
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
        foreach (var kind in DriverCatalog.All)
            services.AddDriverOf(kind, DriverOf(kind));
        return services;
    }

    /// <summary>
    /// The class of this assembly that implements the port of the entry's record (<c>IResourceDriver&lt;FsResource&gt;</c>,
    /// <c>ISyncDriver&lt;BtrfsSync&gt;</c>): a driver folder needs no registration line. Exactly one, or the agent does not start.
    /// </summary>
    static Type DriverOf(DriverKind kind)
    {
        var port = (kind.IsSync ? typeof(ISyncDriver<>) : typeof(IResourceDriver<>)).MakeGenericType(kind.ResourceType);
        var drivers = typeof(DriverServices).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetInterfaces().Contains(port))
            .ToList();
        return drivers is [var one]
            ? one
            : throw new InvalidOperationException(
                $"{kind.Name}: {drivers.Count} classes implement {port.Name.Split('`')[0]}<{kind.ResourceType.Name}> in {typeof(DriverServices).Assembly.GetName().Name} (want one)");
    }

    static void AddDriverOf(this IServiceCollection services, DriverKind kind, Type driver)
    {
        var register = typeof(DriverRegistration).GetMethod(
            kind.IsSync ? nameof(DriverRegistration.AddSyncDriver) : nameof(DriverRegistration.AddResourceDriver), BindingFlags.Public | BindingFlags.Static)!;
        register.MakeGenericMethod(kind.ResourceType, driver).Invoke(null, [services, kind.Name]);
    }
}
