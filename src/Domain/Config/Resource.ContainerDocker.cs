using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Config;

/// <summary>A docker container.</summary>
public sealed record DockerContainer : ServiceResource
{
    /// <summary>The catalog entry: type docker (oci is read as docker: the only engine here), its keywords, its builder.</summary>
    public static DriverKind Kind { get; } = new DriverKind("container", "docker", "container.docker", ["docker", "oci"],
        new StepPolicy(TimeSpan.FromMinutes(5), 3, TimeSpan.FromSeconds(10)))
    {
        Keywords =
        [
            new("image", "container", "docker", ValueKind.String, Scopable: true, Required: true, Aliases: ["run_image"]),
            new("command", "container", "docker", ValueKind.Shlex, Scopable: true, Aliases: ["run_command"]),
            new("run_args", "container", "docker", ValueKind.Shlex, Scopable: true),
            new("netns", "container", "docker", ValueKind.String, Scopable: true, Aliases: ["container_rid"]),
            new("name", "container", "docker", ValueKind.String, Inheritance: Inheritance.Leaf),
            new("hostname", "container", "docker", ValueKind.String, Scopable: true, Inheritance: Inheritance.Leaf),
            new("rm", "container", "docker", ValueKind.Bool, Scopable: true, Default: "false"),
            new("detach", "container", "docker", ValueKind.Bool, Scopable: true, Default: "true"),
            new("image_pull_policy", "container", "docker", ValueKind.String, Scopable: true, Default: "once",
                Candidates: ["once", "always"]),
            new("start_timeout", "container", "docker", ValueKind.Duration, Scopable: true, Default: "5"),
            new("stop_timeout", "container", "docker", ValueKind.Duration, Scopable: true, Default: "120"),
            new("pull_timeout", "container", "docker", ValueKind.Duration, Scopable: true, Default: "2m"),
            new("environment", "container", "docker", ValueKind.Shlex, Scopable: true),
            new("volume_mounts", "container", "docker", ValueKind.Shlex, Scopable: true),
            // This agent's: the command a drill runs in the drill container's network namespace on the DR node to check the
            // service answers (argv; DEFAULT's is inherited by every container).
            new("drill_check", "container", "docker", ValueKind.Shlex, Scopable: true),
        ],
    }.Builds(Build);

    public required string? Image { get; init; }
    public required IReadOnlyList<string> Command { get; init; }
    public required IReadOnlyList<string> RunArgs { get; init; }

    /// <summary>The container name: the <c>name</c> keyword, else <c>&lt;svc&gt;.container.&lt;index&gt;</c>.</summary>
    public required string Name { get; init; }

    public required string? Hostname { get; init; }

    /// <summary>The <c>netns</c> keyword as written: a container rid, <c>host</c>, or null.</summary>
    public required string? NetNs { get; init; }

    /// <summary>
    /// The network argument the agent adds: <c>--net=container:&lt;name&gt;</c>, <c>--net=host</c>,
    /// <c>--net=none</c>, or null when <see cref="RunArgs"/> already chooses the network.
    /// </summary>
    public required string? NetworkArg { get; init; }

    /// <summary>The network that takes effect (<see cref="NetworkArg"/>, else the one in <see cref="RunArgs"/>).</summary>
    public required string? EffectiveNetwork { get; init; }

    /// <summary>The container of this service whose network this one joins, if any.</summary>
    public required ResourceId? JoinsNetworkOf { get; init; }

    /// <summary>What run_args, environment and volume_mounts ask of docker run, with what this agent refuses.</summary>
    public required DockerRunOptions RunOptions { get; init; }

    public required bool Rm { get; init; }
    public required bool Detach { get; init; }

    static DockerContainer Build(ResourceContext context, ConfigSection section, ResourceCommon c)
    {
        var runArgs = context.Values.Shlex(section, "run_args");
        var netnsRead = context.Values.Get(section, "netns");
        var netns = string.IsNullOrWhiteSpace(netnsRead?.Value) ? null : netnsRead!.Value.Trim();
        string? netnsNetwork = null;
        ResourceId? joins = null;
        if (netns == "host")
            netnsNetwork = "host";
        else if (netns is not null && context.ContainerSection(netns) is { } other && ResourceId.TryParse(other.Name, out var otherRid))
        {
            if (other == section)
                context.Values.Error(section, "netns", $"{section.Name} cannot join its own network namespace",
                    "remove netns (the container gets no network), or name another container or host");
            else
            {
                netnsNetwork = $"container:{context.ContainerName(other)}";
                joins = otherRid;
            }
        }
        else if (netns is not null)
            context.ReportNoContainer(section, netns);

        var hostname = context.Values.String(section, "hostname");
        var options = DockerRunOptions.Parse(section.Name, runArgs, context.Values.Shlex(section, "environment"), context.Values.Shlex(section, "volume_mounts"),
            hostname?.Trim(), netnsNetwork);
        // A disabled container is never run: what its options say does not matter until it is enabled.
        if (!c.Disabled)
        {
            foreach (var problem in options.Problems)
                context.Values.Error(section, problem.Keyword, problem.Reason, problem.Fix);
            foreach (var risk in options.HostAccess())
                context.Add(section, context.Values.Get(section, risk.Keyword)?.Entry, risk.Keyword, Severity.Warning, risk.Reason, risk.Fix);
        }

        if (joins is null && options.Network.StartsWith("container:", StringComparison.Ordinal))
        {
            var name = options.Network["container:".Length..];
            var joined = context.Doc.Sections.FirstOrDefault(s => s.Group == "container" && s.Index is not null && context.ContainerName(s) == name);
            if (joined == section)
                context.Values.Error(section, "run_args", $"--net=container:{name} is {section.Name} itself: a container cannot join its own network namespace",
                    "remove the --net option, or name another container");
            else if (joined is not null && ResourceId.TryParse(joined.Name, out var joinedRid))
                joins = joinedRid;
        }
        if (joins is { } j && !c.Disabled && context.Doc.Section(j.ToString()) is { } owner && (context.Values.Bool(owner, "disable") ?? false))
            context.Values.Error(section, netnsNetwork is not null ? "netns" : "run_args",
                $"{section.Name} joins the network namespace of {owner.Name}, which is disabled{context.OnNode(owner)}: docker cannot start it",
                $"enable {owner.Name}, or let {section.Name} own its network (remove {(netnsNetwork is not null ? "netns" : "--net")})");

        return new DockerContainer
        {
            Id = c.Id, Driver = c.Driver, Line = c.Line, Standby = c.Standby, Disabled = c.Disabled, Optional = c.Optional,
            Tags = c.Tags, Keywords = c.Keywords,
            Image = context.Values.String(section, "image"),
            Command = context.Values.Shlex(section, "command"),
            RunArgs = runArgs,
            Name = context.ContainerName(section),
            Hostname = hostname,
            NetNs = netns,
            NetworkArg = netnsNetwork is not null ? "--net=" + netnsNetwork : options.RunArgsNetwork is null ? "--net=none" : null,
            EffectiveNetwork = "--net=" + options.Network,
            JoinsNetworkOf = joins,
            RunOptions = options,
            Rm = context.Values.Bool(section, "rm") ?? false,
            Detach = context.Values.Bool(section, "detach") ?? true,
        };
    }
}
