using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Config;

/// <summary>An ip configured inside a container's network namespace (ip type <c>netns</c>, alias <c>docker</c>).</summary>
public sealed record DockerIp : ServiceResource
{
    /// <summary>
    /// The catalog entry: OpenSVC's ip type <c>netns</c>, written <c>docker</c> in most configs; started and stopped with
    /// the container whose network namespace holds it. Its keywords, its builder.
    /// </summary>
    public static DriverKind Kind { get; } = new DriverKind("ip", "netns", "ip.docker", ["docker", "netns"],
        new StepPolicy(TimeSpan.FromMinutes(1), 3, TimeSpan.FromSeconds(2)), InContainerNetns: true)
    {
        Keywords =
        [
            new("ipname", "ip", "netns", ValueKind.String, Scopable: true),
            new("ipdev", "ip", "netns", ValueKind.String, Scopable: true, Required: true),
            new("netmask", "ip", "netns", ValueKind.String, Scopable: true),
            new("gateway", "ip", "netns", ValueKind.String, Scopable: true),
            new("netns", "ip", "netns", ValueKind.String, Scopable: true, Required: true, Aliases: ["container_rid"]),
            new("mode", "ip", "netns", ValueKind.String, Scopable: true, Default: "bridge"),
            new("nsdev", "ip", "netns", ValueKind.String, Scopable: true),
            new("macaddr", "ip", "netns", ValueKind.String, Scopable: true),
            new("del_net_route", "ip", "netns", ValueKind.Bool, Scopable: true, Default: "false"),
        ],
    }.Builds(Build);

    public required string? IpName { get; init; }
    public required string? IpDev { get; init; }
    public required string? Netmask { get; init; }
    public required string? Gateway { get; init; }

    /// <summary>The container rid whose namespace holds the ip.</summary>
    public required string? NetNs { get; init; }

    public required string Mode { get; init; }

    static DockerIp Build(ResourceContext context, ConfigSection section, ResourceCommon c)
    {
        var netnsRead = context.Values.Get(section, "netns");
        var netns = string.IsNullOrWhiteSpace(netnsRead?.Value) ? null : netnsRead!.Value.Trim();
        var owner = netns is null ? null : context.ContainerSection(netns);
        if (netns is not null && owner is null)
            context.ReportNoContainer(section, netns);
        else if (owner is not null && !c.Disabled && (context.Values.Bool(owner, "disable") ?? false))
            context.Values.Error(section, "netns", $"the address lives in the network namespace of {owner.Name}, which is disabled{context.OnNode(owner)}: it cannot be plumbed",
                $"enable {owner.Name}, or disable {section.Name} too");
        var tags = c.Tags.ToList();
        foreach (var tag in new[] { "docker", netns }.OfType<string>())
            if (!tags.Contains(tag))
                tags.Add(tag);
        var ip = new DockerIp
        {
            Id = c.Id, Driver = c.Driver, Line = c.Line, Standby = c.Standby, Disabled = c.Disabled, Optional = c.Optional,
            Tags = tags, Keywords = c.Keywords,
            IpName = context.Values.String(section, "ipname")?.Trim(),
            IpDev = context.Values.String(section, "ipdev"),
            Netmask = context.Values.String(section, "netmask")?.Trim(),
            Gateway = context.Values.String(section, "gateway")?.Trim(),
            NetNs = netns,
            Mode = context.Values.String(section, "mode")?.Trim() ?? "bridge",
        };
        // A disabled ip is never plumbed: what it says does not matter until it is enabled.
        if (!c.Disabled)
        {
            foreach (var problem in IpAddressing.Check(ip.IpName, ip.Netmask, ip.Gateway, ip.Mode))
            {
                // A value set for other nodes only: the fix names this node's scope.
                var unsetHere = context.Values.Get(section, problem.Keyword) is null;
                var scopedElsewhere = section.Entries.Any(e => e.Keyword == problem.Keyword && e.Scope is not null);
                context.Values.Error(section, problem.Keyword, problem.Reason,
                    unsetHere && scopedElsewhere ? $"add {problem.Keyword}@{context.Node} = ..." : problem.Fix);
            }
        }
        return ip;
    }
}
