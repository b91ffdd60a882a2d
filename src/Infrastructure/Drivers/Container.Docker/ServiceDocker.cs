using Docker.DotNet;
using Docker.DotNet.Models;
using OpenSvc.Domain.Config;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Infrastructure.Drivers.Container.Docker;

/// <summary>
/// Which dockerd a service's containers live on: its private daemon when <c>docker_data_dir</c> is set, else the
/// node's (DOCKER_HOST, else <c>/var/run/docker.sock</c>). Shared by the container and ip.docker drivers.
/// </summary>
public sealed class ServiceDocker(PrivateDockerDaemon daemon)
{
    public PrivateDockerDaemon Daemon => daemon;

    public static Uri NodeEndpoint =>
        new(Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } h ? h : "unix:///var/run/docker.sock");

    public static bool IsPrivate(ResolvedService service) => service.ContainerDataDir is not null;

    public Uri Endpoint(ResolvedService service) => IsPrivate(service) ? daemon.Endpoint(service.Name) : NodeEndpoint;

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

    /// <summary>Fails the step with the daemon named when a Docker API call fails.</summary>
    public static StepFailedException Failure(string what, Exception e, Uri endpoint) =>
        new($"{what}: {Message(e)} (dockerd at {endpoint})", e.ToString());

    static string Message(Exception e) => e switch
    {
        DockerApiException api => api.ResponseBody is { Length: > 0 } body ? body.Trim() : api.Message,
        _ => e.Message,
    };
}
