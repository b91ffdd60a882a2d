namespace OpenSvc.Domain.Config;

/// <summary>What every resource has, read before its catalog entry's builder makes the typed record.</summary>
internal sealed record ResourceCommon(ResourceId Id, string Driver, int Line, bool Standby, bool Disabled, bool Optional,
    IReadOnlyList<string> Tags, IReadOnlyDictionary<string, string> Keywords);

/// <summary>
/// Builds the typed resources of one service for one node and reports per-node problems. What each resource type reads
/// is its catalog entry's builder (<see cref="DriverKind"/>, next to its record); this holds what they share.
/// </summary>
internal sealed class ResourceContext(
    ConfigReader reader,
    ValueReader values,
    ServicePath path,
    IReadOnlyList<string> nodes,
    IReadOnlyList<string> drpnodes,
    IReadOnlyList<NodeName> nodeNames,
    IReadOnlyList<NodeName> drpNodeNames,
    List<ConfigProblem> problems)
{
    internal ConfigDocument Doc => reader.Document;
    internal NodeName Node => reader.Node;
    internal ValueReader Values => values;
    internal IReadOnlyList<NodeName> NodeNames => nodeNames;
    internal IReadOnlyList<NodeName> DrpNodeNames => drpNodeNames;

    /// <summary>DEFAULT.disable: OpenSVC's resources are all disabled when their service is.</summary>
    public bool ServiceDisabled { get; init; }

    public ServiceResource? Build(ConfigSection section)
    {
        var (group, type) = ConfigReader.SectionType(section);
        if (DriverCatalog.Find(group, type) is not { } kind || !ResourceId.TryParse(section.Name, out var rid))
            return null;

        CheckRequired(section, group, type);

        var tags = values.List(section, "tags").Distinct().ToList();
        var explicitOptional = values.Bool(section, "optional");
        var common = new ResourceCommon(
            rid,
            kind.Name,
            section.Line,
            Standby(section),
            ServiceDisabled || (values.Bool(section, "disable") ?? false),
            explicitOptional ?? (group is "sync" or "task" || tags.Contains("noaction")),
            tags,
            ResolvedKeywords(section, group, type));
        return kind.Build?.Invoke(this, section, common);
    }

    /// <summary>After every resource is built: the docker sync's receiving fs and the data dir check.</summary>
    public List<ServiceResource> Finish(List<ServiceResource> resources, string? containerDataDir)
    {
        var mounts = resources.OfType<FsResource>().Select(f => f.Mnt).OfType<string>().ToList();
        var dstfs = containerDataDir is null
            ? null
            : mounts.Where(m => PosixPath.IsUnder(containerDataDir, m)).OrderByDescending(m => PosixPath.Depth(m)).FirstOrDefault();
        if (containerDataDir is not null && dstfs is null)
        {
            var entry = Doc.Default.Get("container_data_dir") ?? Doc.Default.Get("docker_data_dir");
            var fix = mounts.Count == 0
                ? "add an fs resource mounted on it or on a parent directory"
                : $"put it under an fs mount, e.g. {mounts[0].TrimEnd('/')}/{LastSegment(containerDataDir)}";
            Add(Doc.Default, entry, entry?.Key ?? "container_data_dir", Severity.Warning,
                $"'{containerDataDir}' lies inside no fs resource's mount ({(mounts.Count == 0 ? "none" : string.Join(", ", mounts))}): images stay on the node's root fs and do not follow a failover",
                fix);
        }
        CheckNetworkCycles(resources.OfType<DockerContainer>().ToList());
        return resources.Select(r => r is DockerSync sync ? sync with { DstFs = dstfs } : r).ToList();
    }

    /// <summary>Containers that join each other's network namespace in a ring: none of them can start first.</summary>
    void CheckNetworkCycles(IReadOnlyList<DockerContainer> containers)
    {
        var joins = containers.Where(c => c.JoinsNetworkOf is not null).ToDictionary(c => c.Id, c => c.JoinsNetworkOf!.Value);
        foreach (var container in containers)
        {
            var path = new List<ResourceId> { container.Id };
            var current = container.Id;
            while (joins.TryGetValue(current, out var next) && !path.Contains(next))
            {
                path.Add(next);
                current = next;
            }
            if (!joins.TryGetValue(current, out var last) || last != container.Id)
                continue; // no ring, or a ring this container only leads into: reported on the ring's members
            var section = Doc.Section(container.Id.ToString())!;
            var keyword = container.NetNs is not null ? "netns" : "run_args";
            values.Error(section, keyword,
                $"{string.Join(" -> ", path.Append(container.Id))}: these containers join each other's network namespace, so none can start first",
                $"let one of them own its network: remove {(keyword == "netns" ? "netns" : "--net")} from {container.Id}, or from another of them");
        }
    }

    void CheckRequired(ConfigSection section, string group, string? type)
    {
        foreach (var keyword in KeywordTable.For(group, type).Where(k => k.Required))
        {
            var (value, _, _) = reader.ReadRaw(section, keyword);
            if (!string.IsNullOrWhiteSpace(value))
                continue;
            var scoped = section.Entries.Any(e => e.Scope is not null && (e.Keyword == keyword.Name || keyword.DeprecatedAliases.Contains(e.Keyword)));
            if (!scoped)
            {
                // Missing on every node alike: one finding about the file, not one per node.
                Add(section, null, keyword.Name, Severity.Error,
                    $"{section.Name}.{keyword.Name} is mandatory and has no value: the resource cannot run", $"add {keyword.Name} = ...");
                continue;
            }
            string fix;
            if (drpnodes.Contains(Node.Value) && !nodes.Contains(Node.Value))
                fix = $"add {keyword.Name}@drpnodes = ... (or {keyword.Name}@{Node} = ...)";
            else if (nodes.Contains(Node.Value))
                fix = $"add {keyword.Name}@nodes = ... (or {keyword.Name}@{Node} = ...)";
            else
                fix = $"add {keyword.Name}@{Node} = ...";
            Add(section, null, keyword.Name, Severity.Error,
                $"{section.Name}.{keyword.Name} is mandatory and has no value on node {Node}: the resource cannot run there", fix);
        }
    }

    bool Standby(ConfigSection section)
    {
        var standby = values.Bool(section, "standby");
        if (standby is not null && values.Get(section, "standby")?.Entry is not null)
            return standby.Value;
        var alwaysOn = Converters.List(section.Get("always_on")?.Value);
        var node = Node.Value;
        return alwaysOn.Contains(node)
            || (alwaysOn.Contains("nodes") && nodes.Contains(node))
            || (alwaysOn.Contains("drpnodes") && drpnodes.Contains(node));
    }

    IReadOnlyDictionary<string, string> ResolvedKeywords(ConfigSection section, string group, string? type)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyword in KeywordTable.For(group, type))
        {
            if (values.Get(section, keyword) is { } read)
            {
                result[keyword.Name] = read.Value;
                values.CheckExpanded(section, keyword, read);
            }
        }
        return result;
    }

    internal ConfigSection? ContainerSection(string rid) =>
        Doc.Section(rid) is { Group: "container", Index: not null } section ? section : null;

    internal string ContainerName(ConfigSection section) =>
        NullIfBlank(section.Get("name")?.Value) is { } name ? reader.Expand(name, section)
        : ResourceId.TryParse(section.Name, out var rid) ? path.ContainerName(rid) : section.Name;

    /// <summary>" on n3" when the section is disabled by a scoped value, "" when it is disabled everywhere.</summary>
    internal string OnNode(ConfigSection section) =>
        values.Get(section, "disable")?.Entry?.Scope is null ? "" : $" on {Node}";

    internal void ReportNoContainer(ConfigSection section, string netns)
    {
        var containers = Doc.Sections.Where(s => s.Group == "container" && s.Index is not null && s != section).Select(s => s.Name).ToList();
        values.Error(section, "netns",
            $"'{netns}' names no container section of this service",
            containers.Count == 0 ? "add the container section or remove the keyword" : $"use one of: {string.Join(", ", containers)}");
    }

    internal void Add(ConfigSection section, ConfigEntry? entry, string? keyword, Severity severity, string reason, string? fix) =>
        problems.Add(new ConfigProblem(Doc.File, entry?.Line ?? section.Line, section.Name, entry?.Key ?? keyword,
            severity, reason, fix, Node));

    internal static string? NullIfBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    internal static string LastSegment(string path)
    {
        var trimmed = path.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return slash < 0 ? trimmed : trimmed[(slash + 1)..];
    }
}
