using System.Security.Cryptography;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Container.Docker;

/// <summary>
/// The <c>container.docker</c> driver, through the Docker API. Start: the service's private dockerd first (when
/// <c>docker_data_dir</c> is set), then start the existing container or create it (image must be present, unless
/// <c>image_pull_policy = always</c>). Stop: stop (and remove with <c>rm</c>), then stop the private dockerd when no
/// container runs on it any more. Status: up when running.
/// </summary>
public sealed class DockerContainerDriver(ServiceDocker docker, ILogger<DockerContainerDriver> logger) : IResourceDriver<DockerContainer>
{
    public Task<StepResult> StartAsync(StepContext<DockerContainer> step, CancellationToken cancellationToken) =>
        StartAsync(step.Resolved, step.Resource, step, cancellationToken);

    public Task<StepResult> StopAsync(StepContext<DockerContainer> step, CancellationToken cancellationToken) =>
        StopAsync(step.Resolved, step.Resource, step, cancellationToken);

    public async Task<ResourceProbe> ProbeAsync(ProbeContext<DockerContainer> probe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var (service, container) = (probe.Resolved, probe.Resource);
        if (!await docker.DaemonAnswersAsync(service, cancellationToken).ConfigureAwait(false))
            return new ResourceProbe(Status.Down, $"the private dockerd of {service.Name} is not running");
        using var client = docker.Client(service);
        try
        {
            var c = await ServiceDocker.InspectAsync(client, container.Name, cancellationToken).ConfigureAwait(false);
            return c switch
            {
                null => new ResourceProbe(Status.Down, $"{container.Name} does not exist"),
                { State.Running: true } => new ResourceProbe(Status.Up, $"{container.Name} running"),
                _ => new ResourceProbe(Status.Down, $"{container.Name} {c.State?.Status ?? "not running"}"),
            };
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
        {
            return new ResourceProbe(Status.Undef, $"cannot inspect {container.Name}: {e.Message}");
        }
    }

    async Task<StepResult> StartAsync(ResolvedService service, DockerContainer container, StepContext<DockerContainer> context, CancellationToken ct)
    {
        var spec = DockerRunArgs.Translate(container, Labels(service));
        if (!spec.Ok)
            throw new StepFailedException(string.Join("; ", spec.Errors));
        var output = new List<string>();
        await context.EnsureCurrentAsync(ct).ConfigureAwait(false);
        if (service.ContainerDataDir is { } dataDir)
        {
            await ServiceDocker.RequireDataDirMountedAsync(service, dataDir, context.LocalNode, ct).ConfigureAwait(false);
            if (await docker.Daemon.EnsureStartedAsync(service.Name, dataDir, ct).ConfigureAwait(false))
                output.Add($"started the private dockerd of {service.Name} on {dataDir} ({docker.Daemon.SocketPath(service.Name)})");
        }
        var endpoint = docker.Endpoint(service);
        using var client = docker.Client(service);
        try
        {
            var existing = await ServiceDocker.InspectAsync(client, container.Name, ct).ConfigureAwait(false);
            if (existing?.State?.Running == true)
            {
                output.Add($"{container.Name} is already running");
                return new StepResult(output.Count > 1, string.Join('\n', output));
            }
            if (existing is not null && container.Rm)
            {
                await client.Containers.RemoveContainerAsync(existing.ID, new ContainerRemoveParameters { Force = true }, ct).ConfigureAwait(false);
                output.Add($"removed the stopped {container.Name} (rm = true)");
                existing = null;
            }
            if (existing is null)
            {
                await EnsureImageAsync(client, container, service, context.LocalNode, endpoint, ct).ConfigureAwait(false);
                var created = await client.Containers.CreateContainerAsync(spec.Parameters, ct).ConfigureAwait(false);
                output.Add($"created {container.Name} ({created.ID[..12]}) from {container.Image}, network {spec.Parameters.HostConfig.NetworkMode}");
            }
            await client.Containers.StartContainerAsync(container.Name, new ContainerStartParameters(), ct).ConfigureAwait(false);
            var after = await ServiceDocker.InspectAsync(client, container.Name, ct).ConfigureAwait(false);
            if (after?.State?.Running != true)
                throw new StepFailedException(
                    $"{container.Id}: {container.Name} exited right after start on {context.LocalNode} (exit code {after?.State?.ExitCode}{(after?.State?.Error is { Length: > 0 } err ? ", " + err : "")}): its command must keep running");
            output.Add($"started {container.Name} (pid {after.State.Pid})");
            logger.LogInformation("run {RunId} service {Service} node {Node}: {Rid} started {Name}", context.RunId, context.Service, context.LocalNode, container.Id, container.Name);
            return new StepResult(true, string.Join('\n', output));
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
        {
            throw ServiceDocker.Failure($"{container.Id}: cannot start {container.Name} on {context.LocalNode}", e, endpoint);
        }
    }

    static async Task EnsureImageAsync(DockerClient client, DockerContainer container, ResolvedService service, NodeName node, Uri endpoint, CancellationToken ct)
    {
        var image = container.Image!;
        var policy = container.Keywords.GetValueOrDefault("image_pull_policy") ?? "once";
        if (policy != "always")
        {
            try
            {
                await client.Images.InspectImageAsync(image, ct).ConfigureAwait(false);
                return;
            }
            catch (DockerImageNotFoundException)
            {
                var where = ServiceDocker.IsPrivate(service) ? $"the private dockerd of {service.Name} ({endpoint})" : $"the node's dockerd ({endpoint})";
                throw new StepFailedException(
                    $"{container.Id}: image {image} is not present on node {node} in {where}. This agent does not pull missing images " +
                    "(no registry is assumed reachable): load it there (docker load, or a sync.docker resource), or set image_pull_policy = always to pull it",
                    permanent: true);
            }
        }
        var (name, tag) = SplitImage(image);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromMinutes(2));
            await client.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = name, Tag = tag }, null, new Progress<JSONMessage>(), timeout.Token).ConfigureAwait(false);
            await client.Images.InspectImageAsync(image, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw new StepFailedException($"{container.Id}: image_pull_policy = always, and pulling {image} on node {node} failed: {e.Message}", e.ToString());
        }
    }

    /// <summary><c>repo[:tag]</c> (a registry host may have a port: the tag is after the last '/').</summary>
    static (string Name, string Tag) SplitImage(string image)
    {
        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    async Task<StepResult> StopAsync(ResolvedService service, DockerContainer container, StepContext<DockerContainer> context, CancellationToken ct)
    {
        if (!await docker.DaemonAnswersAsync(service, ct).ConfigureAwait(false))
            return StepResult.Unchanged($"{container.Name} is not running: the private dockerd of {service.Name} is stopped");
        var endpoint = docker.Endpoint(service);
        var output = new List<string>();
        var changed = false;
        using (var client = docker.Client(service))
        {
            try
            {
                var existing = await ServiceDocker.InspectAsync(client, container.Name, ct).ConfigureAwait(false);
                if (existing?.State?.Running == true)
                {
                    await context.EnsureCurrentAsync(ct).ConfigureAwait(false);
                    var grace = Converters.TryDuration(container.Keywords.GetValueOrDefault("stop_timeout"), out var s) ? s : 120;
                    await client.Containers.StopContainerAsync(existing.ID, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)grace }, ct).ConfigureAwait(false);
                    output.Add($"stopped {container.Name}");
                    changed = true;
                }
                else
                {
                    output.Add(existing is null ? $"{container.Name} does not exist" : $"{container.Name} is already stopped");
                }
                if (existing is not null && container.Rm)
                {
                    await client.Containers.RemoveContainerAsync(existing.ID, new ContainerRemoveParameters { Force = true }, ct).ConfigureAwait(false);
                    output.Add($"removed {container.Name} (rm = true)");
                    changed = true;
                }
                var after = await ServiceDocker.InspectAsync(client, container.Name, ct).ConfigureAwait(false);
                if (after?.State?.Running == true)
                    throw new StepFailedException($"{container.Id}: {container.Name} is still running after stop on {context.LocalNode}");

                if (ServiceDocker.IsPrivate(service))
                {
                    var running = await client.Containers.ListContainersAsync(new ContainersListParameters { All = false }, ct).ConfigureAwait(false);
                    if (running.Count > 0)
                    {
                        output.Add($"the private dockerd of {service.Name} keeps running for {string.Join(", ", running.SelectMany(r => r.Names).Select(n => n.TrimStart('/')))}");
                        return new StepResult(changed, string.Join('\n', output));
                    }
                }
            }
            catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
            {
                throw ServiceDocker.Failure($"{container.Id}: cannot stop {container.Name} on {context.LocalNode}", e, endpoint);
            }
        }
        if (ServiceDocker.IsPrivate(service) && await docker.Daemon.StopAsync(service.Name, ct).ConfigureAwait(false))
        {
            output.Add($"stopped the private dockerd of {service.Name}: no container runs on it any more");
            changed = true;
        }
        logger.LogInformation("run {RunId} service {Service} node {Node}: {Rid} stop: {Output}", context.RunId, context.Service, context.LocalNode, container.Id, string.Join("; ", output));
        return new StepResult(changed, string.Join('\n', output));
    }

    /// <summary>OpenSVC labels; the service id is DEFAULT.id, else a stable name-based id of the service path.</summary>
    static ServiceLabels Labels(ResolvedService service) => new(service.Id ?? NameBasedId(service.Path.ToString()), service.Path);

    /// <summary>A UUID derived from the service path: the same on every node (see <see cref="ServicePath.NameBasedId"/>).</summary>
    public static string NameBasedId(string path) => ServicePath.Parse(path).NameBasedId();
}
