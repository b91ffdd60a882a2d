using Docker.DotNet.Models;
using OpenSvc.Domain.Config;

namespace OpenSvc.Infrastructure.Drivers.Container.Docker;

/// <summary>OpenSVC's identity labels for a service's containers (<c>com.opensvc.*</c>).</summary>
public sealed record ServiceLabels(string ServiceId, ServicePath Path, string Kind = "svc")
{
    public const string PathLabel = "com.opensvc.path";
    public const string RidLabel = "com.opensvc.rid";

    public IDictionary<string, string> For(DockerContainer container) => new Dictionary<string, string>
    {
        ["com.opensvc.id"] = $"{ServiceId}.{container.Id}",
        [PathLabel] = Path.ToString(),
        ["com.opensvc.namespace"] = Path.Namespace ?? "root",
        ["com.opensvc.name"] = Path.Name,
        ["com.opensvc.kind"] = Kind,
        [RidLabel] = container.Id.ToString(),
    };
}

/// <summary>A container resource translated to the Docker API, or the reasons it cannot be.</summary>
public sealed record DockerRunSpec(CreateContainerParameters Parameters, IReadOnlyList<string> Errors)
{
    public bool Ok => Errors.Count == 0;
}

/// <summary>
/// Translates a container resource into the Docker API's <see cref="CreateContainerParameters"/>. What run_args,
/// environment and volume_mounts mean is decided once, in the domain (<see cref="DockerRunOptions"/>), where validation
/// reports the same problems with their line and fix; this only maps the result, and refuses a container that has any
/// problem left. Pure, table-tested.
/// </summary>
public static class DockerRunArgs
{
    public static DockerRunSpec Translate(DockerContainer container, ServiceLabels labels)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(container.Image))
            errors.Add($"{container.Id}: image is not set");
        var o = container.RunOptions;
        errors.AddRange(o.Problems.Select(x => $"{container.Id}: {x.Keyword} {x.Reason} (fix: {x.Fix})"));

        var p = new CreateContainerParameters
        {
            Name = container.Name,
            Image = container.Image,
            Labels = new Dictionary<string, string>(),
            Env = [.. o.Env],
            Hostname = o.Hostname,
            User = o.User,
            WorkingDir = o.WorkingDir,
            Tty = o.Tty,
            OpenStdin = o.Interactive,
            HostConfig = new HostConfig
            {
                Binds = [.. o.Binds],
                NetworkMode = o.Network,
                Privileged = o.Privileged,
            },
        };
        if (o.Init)
            p.HostConfig.Init = true;
        if (o.Entrypoint is { } entrypoint)
            p.Entrypoint = [entrypoint];
        if (o.CapAdd.Count > 0)
            p.HostConfig.CapAdd = [.. o.CapAdd];
        if (o.CapDrop.Count > 0)
            p.HostConfig.CapDrop = [.. o.CapDrop];
        if (o.Volumes.Count > 0)
            p.Volumes = o.Volumes.Distinct().ToDictionary(v => v, _ => default(EmptyStruct));
        if (container.Command.Count > 0)
            p.Cmd = [.. container.Command];
        foreach (var (k, v) in o.Labels)
            p.Labels[k] = v;
        // Labels of run_args must not hide the agent's identity labels.
        foreach (var (k, v) in labels.For(container))
            p.Labels[k] = v;
        return new DockerRunSpec(p, errors);
    }
}
