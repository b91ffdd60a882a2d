using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers.Sync.Common;
using OpenSvc.Infrastructure.Execution.Ssh;

namespace OpenSvc.Infrastructure.Drivers.Sync.Docker;

/// <summary>
/// Which docker daemon holds a service's images on a node. The plain answer is here; the container driver's
/// private daemon (docker_data_dir) plugs in behind this interface, including starting the target's daemon
/// before a load (model §12.3).
/// </summary>
public interface IDockerSocketLocator
{
    /// <summary>The unix socket path of the service's daemon on this node.</summary>
    string LocalSocket(ResolvedService service);

    /// <summary>The unix socket path of the service's daemon on the target, ready to receive a load.</summary>
    Task<string> TargetSocketAsync(ResolvedService serviceOnTarget, SshConnection target, CancellationToken cancellationToken);
}

/// <summary>The node's daemon at /run/docker.sock, or the service's own at &lt;var&gt;/svc/&lt;name&gt;/docker.sock when that socket exists.</summary>
public sealed class PlainDockerSocketLocator : IDockerSocketLocator
{
    public const string NodeSocket = "/run/docker.sock";

    public static string ServiceSocket(string service) => $"{SyncPaths.Service(service)}/docker.sock";

    public string LocalSocket(ResolvedService service) =>
        File.Exists(ServiceSocket(service.Name)) ? ServiceSocket(service.Name) : NodeSocket;

    public async Task<string> TargetSocketAsync(ResolvedService serviceOnTarget, SshConnection target, CancellationToken cancellationToken)
    {
        var own = ServiceSocket(serviceOnTarget.Name);
        var probe = await target.RunAsync(["test", "-S", own], cancellationToken, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return probe.Succeeded ? own : NodeSocket;
    }
}
