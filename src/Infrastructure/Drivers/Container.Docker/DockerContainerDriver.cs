using System.Security.Cryptography;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Drivers.Drill;
using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Infrastructure.Execution;
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

    /// <summary>
    /// drill: a copy of the container under its drill name (<see cref="DrillNames.Container"/>), from the image in the DR
    /// node's daemon (never pulled), with binds under a cloned fs moved to its drill mount, and no network but its own
    /// (<c>none</c>) or its drill peer's: a container on the host network, or binding data the drill has no clone of, is
    /// refused. A stopped drill container left by an earlier attempt is recreated.
    /// </summary>
    public async Task<StepResult> DrillStartAsync(StepContext<DockerContainer> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        var (service, container, node) = (step.Resolved, step.Resource, step.LocalNode);
        var spec = DockerRunArgs.Translate(container, Labels(service));
        if (!spec.Ok)
            throw new StepFailedException(string.Join("; ", spec.Errors), permanent: true);
        var p = spec.Parameters;
        var name = DrillNames.Container(container.Name);
        p.Name = name;
        p.Labels[DrillNames.Label] = step.RunId.ToString();
        p.Labels["com.opensvc.id"] += ".drill";
        var mode = p.HostConfig.NetworkMode ?? "";
        if (mode.StartsWith("container:", StringComparison.Ordinal))
        {
            var peer = container.JoinsNetworkOf is { } rid ? service.Resource<DockerContainer>(rid.ToString()) : null;
            if (peer is null)
                throw new StepFailedException($"{container.Id}: joins the network of {mode["container:".Length..]}, which is not a container of {service.Name}: the drill cannot isolate it", permanent: true);
            p.HostConfig.NetworkMode = "container:" + DrillNames.Container(peer.Name);
        }
        else if (mode is "" or "none")
        {
            p.HostConfig.NetworkMode = "none";
        }
        else
        {
            throw new StepFailedException(
                $"{container.Id}: its network is {mode}{(mode == "host" ? " (the node's own)" : "")}: a drill container must not reach production, so it runs only with --net=none or in another container's network", permanent: true);
        }
        var varDir = Sync.Common.SyncPaths.Var();
        var mounts = MountTable.Parse(await File.ReadAllTextAsync("/proc/self/mountinfo", cancellationToken).ConfigureAwait(false));
        var filesystems = service.Resources.OfType<FsResource>().Where(f => !f.Disabled).ToList();
        var cloned = filesystems.Where(f => MountTable.At(mounts, DrillNames.Mount(varDir, service.Name, f.Id.ToString())) is not null).Select(f => f.Id.ToString()).ToHashSet();
        var binds = new List<string>();
        var moved = new List<string>();
        foreach (var bind in p.HostConfig.Binds ?? [])
        {
            var (source, holder) = DrillNames.BindSource(DrillNames.SourceOf(bind), filesystems, cloned, varDir, service.Name);
            if (source is null)
                throw new StepFailedException(
                    $"{container.Id}: binds {DrillNames.SourceOf(bind)}, on {holder!.Id} ({holder.Mnt}), which has no drill clone on {node}: the drill would use the DR copy itself", permanent: true);
            if (holder is not null)
                moved.Add($"{DrillNames.SourceOf(bind)} → {source}");
            binds.Add(DrillNames.WithSource(bind, source));
        }
        p.HostConfig.Binds = binds;

        var output = new List<string>();
        await step.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
        if (service.ContainerDataDir is { } dataDir)
        {
            await ServiceDocker.RequireDataDirMountedAsync(service, dataDir, node, cancellationToken).ConfigureAwait(false);
            if (await docker.Daemon.EnsureStartedAsync(service.Name, dataDir, cancellationToken).ConfigureAwait(false))
                output.Add($"started the private dockerd of {service.Name} on {dataDir}");
        }
        var endpoint = docker.Endpoint(service);
        using var client = docker.Client(service);
        try
        {
            var existing = await ServiceDocker.InspectAsync(client, name, cancellationToken).ConfigureAwait(false);
            if (existing?.State?.Running == true)
                return StepResult.Unchanged($"{name} is already running");
            if (existing is not null)
            {
                await client.Containers.RemoveContainerAsync(existing.ID, new ContainerRemoveParameters { Force = true }, cancellationToken).ConfigureAwait(false);
                output.Add($"removed the stopped {name} left by an earlier attempt");
            }
            try
            {
                await client.Images.InspectImageAsync(container.Image!, cancellationToken).ConfigureAwait(false);
            }
            catch (DockerImageNotFoundException)
            {
                throw new StepFailedException($"{container.Id}: image {container.Image} is not in the dockerd of {service.Name} on {node} ({endpoint}): a drill runs only from synced images", permanent: true);
            }
            var created = await client.Containers.CreateContainerAsync(p, cancellationToken).ConfigureAwait(false);
            output.Add($"created {name} ({created.ID[..12]}) from {container.Image}, network {p.HostConfig.NetworkMode}{(moved.Count > 0 ? $", binds {string.Join(", ", moved)}" : "")}");
            await client.Containers.StartContainerAsync(name, new ContainerStartParameters(), cancellationToken).ConfigureAwait(false);
            var after = await ServiceDocker.InspectAsync(client, name, cancellationToken).ConfigureAwait(false);
            if (after?.State?.Running != true)
                throw new StepFailedException($"{container.Id}: {name} exited right after start on {node} (exit code {after?.State?.ExitCode})");
            output.Add($"started {name} (pid {after.State.Pid})");
            return new StepResult(true, string.Join('\n', output));
        }
        catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
        {
            throw ServiceDocker.Failure($"{container.Id}: cannot start {name} on {node}", e, endpoint);
        }
    }

    /// <summary>
    /// drill-cleanup: stops and removes the drill container; once no drill container of the service is left, removes the
    /// drill's isolated link. Production's containers and the daemon (which receives syncs) are left as they are.
    /// </summary>
    public async Task<StepResult> DrillStopAsync(StepContext<DockerContainer> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        var (service, container, node) = (step.Resolved, step.Resource, step.LocalNode);
        var name = DrillNames.Container(container.Name);
        var output = new List<string>();
        var left = 0;
        if (await docker.DaemonAnswersAsync(service, cancellationToken).ConfigureAwait(false))
        {
            var endpoint = docker.Endpoint(service);
            using var client = docker.Client(service);
            try
            {
                var existing = await ServiceDocker.InspectAsync(client, name, cancellationToken).ConfigureAwait(false);
                if (existing is not null)
                {
                    await step.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
                    if (existing.State?.Running == true)
                    {
                        var grace = Converters.TryDuration(container.Keywords.GetValueOrDefault("stop_timeout"), out var s) ? s : 120;
                        await client.Containers.StopContainerAsync(existing.ID, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)grace }, cancellationToken).ConfigureAwait(false);
                        output.Add($"stopped {name}");
                    }
                    await client.Containers.RemoveContainerAsync(existing.ID, new ContainerRemoveParameters { Force = true }, cancellationToken).ConfigureAwait(false);
                    output.Add($"removed {name}");
                }
                var drills = await client.Containers.ListContainersAsync(new ContainersListParameters
                {
                    All = true,
                    Filters = new Dictionary<string, IDictionary<string, bool>>
                    {
                        ["label"] = new Dictionary<string, bool> { [DrillNames.Label] = true, [$"{ServiceLabels.PathLabel}={service.Path}"] = true },
                    },
                }, cancellationToken).ConfigureAwait(false);
                left = drills.Count;
            }
            catch (Exception e) when (e is DockerApiException or HttpRequestException or IOException)
            {
                throw ServiceDocker.Failure($"{container.Id}: cannot remove {name} on {node}", e, endpoint);
            }
        }
        var link = DrillNames.Link(service.Path.ToString());
        if (left == 0 && (await ProcessRunner.RunAsync("ip", ["-o", "link", "show", "dev", link], new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false)).Succeeded)
        {
            var r = await ProcessRunner.RunAsync("ip", ["link", "del", "dev", link], new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
            if (!r.Succeeded)
                throw new StepFailedException($"{container.Id}: ip link del {link} failed on {node}: {r.Tail(300)}");
            output.Add($"removed the drill's isolated link {link}");
        }
        return output.Count == 0 ? StepResult.Unchanged($"no drill container {name} on {node}") : new StepResult(true, string.Join('\n', output));
    }

    /// <summary>
    /// drill-check: every drill container of the service runs, then each container's <c>drill_check</c> command, run on this
    /// node in that drill container's network namespace (where the drill's addresses are), exits 0. A failure is retried
    /// by the step's policy: the service may need a few seconds to answer.
    /// </summary>
    public async Task<StepResult> DrillCheckAsync(StepContext<DockerContainer> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        var (service, node) = (step.Resolved, step.LocalNode);
        var containers = service.Resources.OfType<DockerContainer>().Where(c => !c.Disabled).ToList();
        var output = new List<string>();
        var pids = new Dictionary<string, long>();
        var down = new List<string>();
        foreach (var c in containers)
        {
            if (await docker.RunningPidAsync(service, c with { Name = DrillNames.Container(c.Name) }, cancellationToken).ConfigureAwait(false) is { } pid)
                pids[c.Id.ToString()] = pid;
            else
                down.Add(DrillNames.Container(c.Name));
        }
        if (down.Count > 0)
            throw new StepFailedException($"drill check on {node}: {string.Join(", ", down)} not running");
        output.Add($"every drill container runs: {string.Join(", ", containers.Select(c => DrillNames.Container(c.Name)))}");
        foreach (var c in containers.Where(c => c.Keywords.ContainsKey("drill_check")))
        {
            var argv = Shlex.Split(c.Keywords["drill_check"]);
            if (argv.Count == 0)
                continue;
            var r = await ProcessRunner.RunAsync("nsenter", [$"--net=/proc/{pids[c.Id.ToString()]}/ns/net", "--", .. argv],
                new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
            var what = $"drill_check of {c.Id} ({string.Join(' ', argv)}) in the network of {DrillNames.Container(c.Name)}";
            if (!r.Succeeded)
                throw new StepFailedException($"drill check on {node}: {what} {(r.TimedOut ? "timed out" : $"exited {r.ExitCode}")}: {r.Tail(300)}", r.Tail());
            output.Add($"{what}: ok{(r.StdOut.Trim() is { Length: > 0 } said ? $": {said[..Math.Min(said.Length, 200)]}" : "")}");
        }
        return StepResult.Unchanged(string.Join('\n', output));
    }

    /// <summary>OpenSVC labels; the service id is DEFAULT.id, else a stable name-based id of the service path.</summary>
    static ServiceLabels Labels(ResolvedService service) => new(service.Id ?? NameBasedId(service.Path.ToString()), service.Path);

    /// <summary>A UUID derived from the service path: the same on every node (see <see cref="ServicePath.NameBasedId"/>).</summary>
    public static string NameBasedId(string path) => ServicePath.Parse(path).NameBasedId();
}
