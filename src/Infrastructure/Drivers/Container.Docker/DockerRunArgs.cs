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
/// Translates a container resource (image, command, run_args, keywords) into the Docker API's
/// <see cref="CreateContainerParameters"/>, the way OpenSVC builds its <c>docker run</c>: <c>-d</c>, <c>--rm</c> and
/// <c>--name</c> are taken out of run_args (detach and rm are keywords, the name is the agent's), <c>-h</c>/<c>--hostname</c>
/// and <c>-v</c>/<c>--volume</c> are handled, the network comes from netns (else run_args, else none).
/// Options that need a daemon feature this agent does not manage (<c>-p</c>: containers have no bridge network) are
/// refused with a message, as is anything unknown: never silently dropped. Pure, table-tested.
/// </summary>
public static class DockerRunArgs
{
    /// <summary>Options that take a value; "--opt value" and "--opt=value" are both accepted.</summary>
    static readonly Dictionary<string, string> ValueOptions = new(StringComparer.Ordinal)
    {
        ["--name"] = "name", ["--net"] = "net", ["--network"] = "net", ["-v"] = "volume", ["--volume"] = "volume",
        ["-e"] = "env", ["--env"] = "env", ["-h"] = "hostname", ["--hostname"] = "hostname", ["--entrypoint"] = "entrypoint",
        ["-u"] = "user", ["--user"] = "user", ["-w"] = "workdir", ["--workdir"] = "workdir", ["-l"] = "label", ["--label"] = "label",
        ["--cap-add"] = "cap-add", ["--cap-drop"] = "cap-drop", ["-p"] = "publish", ["--publish"] = "publish",
    };

    static readonly Dictionary<string, string> FlagOptions = new(StringComparer.Ordinal)
    {
        ["-d"] = "detach", ["--detach"] = "detach", ["--rm"] = "rm", ["-t"] = "tty", ["--tty"] = "tty",
        ["-i"] = "interactive", ["--interactive"] = "interactive", ["--privileged"] = "privileged", ["--init"] = "init",
    };

    public static DockerRunSpec Translate(DockerContainer container, ServiceLabels labels)
    {
        var errors = new List<string>();
        var p = new CreateContainerParameters
        {
            Name = container.Name,
            Image = container.Image,
            Labels = labels.For(container),
            Env = [],
            HostConfig = new HostConfig { Binds = [] },
        };
        if (string.IsNullOrWhiteSpace(container.Image))
            errors.Add($"{container.Id}: image is not set");
        string? runArgsNetwork = null;
        string? hostname = null;

        var args = container.RunArgs;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-")
            {
                errors.Add($"{container.Id}: run_args '{arg}' is not an option (the image goes in 'image', its arguments in 'command')");
                continue;
            }
            var eq = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=') : -1;
            var name = eq > 0 ? arg[..eq] : arg;
            // "-e=X" is docker's short form with '=' too.
            if (eq < 0 && arg.Length > 2 && arg[1] != '-' && arg[2] == '=')
            {
                name = arg[..2];
                eq = 2;
            }
            if (FlagOptions.TryGetValue(name, out var flag) && eq < 0)
            {
                ApplyFlag(flag, p);
                continue;
            }
            if (eq < 0 && arg.Length > 2 && arg[1] != '-' && arg[1..].All(c => FlagOptions.ContainsKey("-" + c)))
            {
                foreach (var c in arg[1..])
                    ApplyFlag(FlagOptions["-" + c], p);
                continue;
            }
            if (!ValueOptions.TryGetValue(name, out var option))
            {
                errors.Add($"{container.Id}: run_args option {name} is not supported by this agent (supported: {string.Join(' ', ValueOptions.Keys.Concat(FlagOptions.Keys).Where(k => k is not "-p" and not "--publish"))})");
                continue;
            }
            string value;
            if (eq > 0)
                value = arg[(eq + 1)..];
            else if (i + 1 < args.Count)
                value = args[++i];
            else
            {
                errors.Add($"{container.Id}: run_args option {name} needs a value");
                continue;
            }
            switch (option)
            {
                case "name":
                    break; // The agent names its containers (OpenSVC drops --name too).
                case "net":
                    runArgsNetwork = value;
                    break;
                case "volume":
                    AddVolume(value, p);
                    break;
                case "env":
                    if (value.Contains('='))
                        p.Env.Add(value);
                    else
                        errors.Add($"{container.Id}: run_args -e {value} has no value; write -e {value}=VALUE (the agent does not copy its own environment into containers)");
                    break;
                case "hostname":
                    hostname = value;
                    break;
                case "entrypoint":
                    p.Entrypoint = value.Length == 0 ? [""] : [value];
                    break;
                case "user":
                    p.User = value;
                    break;
                case "workdir":
                    p.WorkingDir = value;
                    break;
                case "label":
                    var leq = value.IndexOf('=');
                    p.Labels[leq < 0 ? value : value[..leq]] = leq < 0 ? "" : value[(leq + 1)..];
                    break;
                case "cap-add":
                    (p.HostConfig.CapAdd ??= []).Add(value);
                    break;
                case "cap-drop":
                    (p.HostConfig.CapDrop ??= []).Add(value);
                    break;
                case "publish":
                    errors.Add($"{container.Id}: run_args {name} {value} is not supported: containers get no bridge network here; give the container an address with an ip.docker resource (netns = {container.Id}) instead");
                    break;
            }
        }

        foreach (var e in Shlex.Split(container.Keywords.GetValueOrDefault("environment")))
        {
            if (e.Contains('='))
                p.Env.Add(e);
            else
                errors.Add($"{container.Id}: environment entry '{e}' has no value (write {e}=VALUE)");
        }
        foreach (var v in Shlex.Split(container.Keywords.GetValueOrDefault("volume_mounts")))
            AddVolume(v, p);

        p.Hostname = container.Hostname ?? hostname;
        var network = container.NetworkArg is { } netArg ? netArg["--net=".Length..] : runArgsNetwork ?? "none";
        p.HostConfig.NetworkMode = network;
        if (p.Hostname is not null && (network == "host" || network.StartsWith("container:", StringComparison.Ordinal)))
            errors.Add($"{container.Id}: a hostname cannot be set on a container sharing the network of {network} (docker refuses it)");
        if (container.Command.Count > 0)
            p.Cmd = [.. container.Command];
        // Labels of run_args must not hide the agent's identity labels.
        foreach (var (k, v) in labels.For(container))
            p.Labels[k] = v;
        return new DockerRunSpec(p, errors);
    }

    static void ApplyFlag(string flag, CreateContainerParameters p)
    {
        switch (flag)
        {
            case "tty":
                p.Tty = true;
                break;
            case "interactive":
                p.OpenStdin = true;
                break;
            case "privileged":
                p.HostConfig.Privileged = true;
                break;
            case "init":
                p.HostConfig.Init = true;
                break;
            // detach: containers always run detached; rm: the rm keyword decides (OpenSVC drops both from run_args).
        }
    }

    /// <summary><c>/host:/ctr[:opts]</c> and <c>name:/ctr</c> are binds; a lone <c>/ctr</c> is an anonymous volume.</summary>
    static void AddVolume(string value, CreateContainerParameters p)
    {
        if (value.Contains(':'))
            p.HostConfig.Binds.Add(value);
        else
            (p.Volumes ??= new Dictionary<string, EmptyStruct>())[value] = default;
    }
}
