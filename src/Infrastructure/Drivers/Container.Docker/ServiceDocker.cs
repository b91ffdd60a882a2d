using Docker.DotNet;
using Docker.DotNet.Models;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Container.Docker;

/// <summary>
/// Which dockerd a service's containers live on: its private daemon when <c>docker_data_dir</c> is set, else the
/// node's (<see cref="AgentPaths.NodeDockerEndpoint"/>). Shared by the container and ip.docker drivers.
/// </summary>
public sealed class ServiceDocker(PrivateDockerDaemon daemon)
{
    public PrivateDockerDaemon Daemon => daemon;

    public static bool IsPrivate(ResolvedService service) => service.ContainerDataDir is not null;

    public Uri Endpoint(ResolvedService service) => IsPrivate(service) ? daemon.Endpoint(service.Name) : AgentPaths.NodeDockerEndpoint;

    public DockerClient Client(ResolvedService service) => new DockerClientConfiguration(Endpoint(service)).CreateClient();

    /// <summary>Whether the daemon holding the service's containers answers (a private one may simply be stopped).</summary>
    public async Task<bool> DaemonAnswersAsync(ResolvedService service, CancellationToken ct)
    {
        if (IsPrivate(service))
            return await daemon.AnswersAsync(service.Name, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>The container, or null when it does not exist.</summary>
    public static async Task<ContainerInspectResponse?> InspectAsync(DockerClient client, string name, CancellationToken ct)
    {
        try
        {
            return await client.Containers.InspectContainerAsync(name, ct).ConfigureAwait(false);
        }
        catch (DockerContainerNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The service's container rid → its running container's pid, or a clear failure.</summary>
    public async Task<long?> RunningPidAsync(ResolvedService service, DockerContainer container, CancellationToken ct)
    {
        if (!await DaemonAnswersAsync(service, ct).ConfigureAwait(false))
            return null;
        using var client = Client(service);
        var c = await InspectAsync(client, container.Name, ct).ConfigureAwait(false);
        return c?.State is { Running: true, Pid: > 0 } s ? s.Pid : null;
    }

    /// <summary>
    /// The private daemon's data root must be on the service's filesystem when one of its fs holds it: starting it
    /// on the bare mount point would put images on the node's root disk, invisible after a failover. Mounting is the
    /// fs step's job, so waiting here cannot help: the failure is permanent.
    /// </summary>
    public static async Task RequireDataDirMountedAsync(ResolvedService service, string dataDir, NodeName node, CancellationToken ct)
    {
        var holder = service.Resources.OfType<FsResource>()
            .Where(f => !f.Disabled && f.Mnt is not null && IsUnder(dataDir, f.Mnt))
            .OrderByDescending(f => f.Mnt!.Length)
            .FirstOrDefault();
        if (holder?.Dev is null)
            return;
        var table = MountTable.Parse(await File.ReadAllTextAsync("/proc/self/mountinfo", ct).ConfigureAwait(false));
        var (status, message, _) = MountTable.Evaluate(holder, table, FsDriver.CanonicalDevice);
        if (status != Status.Up)
            throw new StepFailedException(
                $"docker_data_dir {dataDir} is on {holder.Id} ({holder.Mnt}), which is not mounted on {node} ({message}): start {holder.Id} first",
                permanent: true);
    }

    static bool IsUnder(string path, string dir)
    {
        var d = dir.TrimEnd('/');
        return path == d || path.StartsWith(d + "/", StringComparison.Ordinal);
    }

    /// <summary>Fails the step with the daemon named when a Docker API call fails.</summary>
    public static StepFailedException Failure(string what, Exception e, Uri endpoint) =>
        new($"{what}: {Message(e)} (dockerd at {endpoint})", e.ToString());

    static string Message(Exception e) => e switch
    {
        DockerApiException api => api.ResponseBody is { Length: > 0 } body ? body.Trim() : api.Message,
        _ => e.Message,
    };
}
