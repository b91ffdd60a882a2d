using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers.Sync.Common;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Sync.Docker;

/// <summary>Which docker daemon holds a service's images, on the sending node and on a target.</summary>
public interface IDockerSocketLocator
{
    /// <summary>The unix socket path of the service's daemon on this node.</summary>
    string LocalSocket(ResolvedService service);

    /// <summary>The unix socket path of the service's daemon on the target, ready to receive a load.</summary>
    Task<string> TargetSocketAsync(ResolvedService serviceOnTarget, SshConnection target, CancellationToken cancellationToken);
}

/// <summary>
/// A service with <c>docker_data_dir</c> keeps its images in its own private dockerd (<see cref="AgentPaths.ServiceDockerSocket"/>,
/// the same path on every node); other services use the node's daemon (<see cref="AgentPaths.NodeDockerEndpoint"/>). Never one
/// for the other: loading a private service's images into the node's daemon would leave them where a takeover cannot see them.
/// </summary>
public sealed class ServiceDockerSocketLocator : IDockerSocketLocator
{
    static string NodeSocket => AgentPaths.NodeDockerEndpoint.AbsolutePath;

    static string ServiceSocket(string service) => SyncPaths.DockerSocket(service);

    public string LocalSocket(ResolvedService service) =>
        service.ContainerDataDir is null ? NodeSocket : ServiceSocket(service.Name);

    public async Task<string> TargetSocketAsync(ResolvedService serviceOnTarget, SshConnection target, CancellationToken cancellationToken)
    {
        if (serviceOnTarget.ContainerDataDir is null)
            return NodeSocket;
        var own = ServiceSocket(serviceOnTarget.Name);
        var probe = await target.RunAsync(["test", "-S", own], cancellationToken, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (!probe.Succeeded)
            throw new StepFailedException(
                $"the private dockerd of {serviceOnTarget.Name} is not running on {target.Node} (no socket {own}): " +
                $"the sync's prepare-receive step on {target.Node} starts it; run the whole sync rather than this step alone",
                permanent: true);
        return own;
    }
}
