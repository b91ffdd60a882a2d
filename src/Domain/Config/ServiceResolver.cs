namespace OpenSvc.Domain.Config;

/// <summary>
/// Turns a parsed configuration into the typed service one node sees: scopes, DEFAULT inheritance,
/// defaults, references, converters, standby rule, container networks and sync targets.
/// Never throws on a parsed document; what cannot be resolved becomes a problem.
/// </summary>
public static class ServiceResolver
{
    public static ResolvedService Resolve(
        ConfigDocument doc,
        string serviceName,
        NodeName node,
        IReadOnlyDictionary<string, string>? environment = null,
        ConfigBudget? budget = null)
    {
        var problems = new List<ConfigProblem>(doc.Problems);
        problems.AddRange(ConfigValidator.DocumentProblems(doc));
        var nodeProblems = new List<ConfigProblem>();
        var service = ResolveForNode(doc, ServicePath.Parse(serviceName), node, environment, nodeProblems, budget ?? new ConfigBudget());
        // A value the document check already reports as written is not reported again for this node.
        problems.AddRange(nodeProblems.Distinct().Where(p => !problems.Contains(p with { Node = null })));
        return service with { Problems = problems };
    }

    /// <summary>
    /// The service as seen from a node that is none of its peers: its peer lists (<c>nodes</c>, <c>drpnodes</c>), topology
    /// and other unscoped facts do not depend on the node reading them once <c>nodes</c> is set. How callers learn the
    /// node list before resolving for each node.
    /// </summary>
    public static ResolvedService ResolveAnyNode(ConfigDocument doc, string serviceName, IReadOnlyDictionary<string, string>? environment = null) =>
        Resolve(doc, serviceName, new NodeName("opensvc-planner"), environment);

    /// <summary>Resolves for one node; adds only the problems found while resolving (tagged with the node).</summary>
    internal static ResolvedService ResolveForNode(
        ConfigDocument doc,
        ServicePath path,
        NodeName node,
        IReadOnlyDictionary<string, string>? environment,
        List<ConfigProblem> problems,
        ConfigBudget budget)
    {
        budget.Check();
        var reader = new ConfigReader(doc, path, node, environment, budget);
        var values = new ValueReader(reader, problems);

        // Membership first: scopes depend on it, and these keywords cannot be scoped.
        var nodes = values.DefaultList("nodes");
        var nodesDeclared = nodes.Count > 0;
        // OpenSVC's default: the host reading the file. Resolving still works that way (config print shows what OpenSVC
        // would do there), but validation and the planner refuse it: see ConfigValidator.NoNodes.
        if (!nodesDeclared)
            nodes = [node.Value];
        var drpnodes = values.DefaultList("drpnodes").Select(n => n.ToLowerInvariant()).ToList();
        var drpnode = values.DefaultString("drpnode")?.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(drpnode) && !drpnodes.Contains(drpnode))
            drpnodes.Insert(0, drpnode);
        var encapnodes = values.DefaultList("encapnodes");
        var flexPrimary = NullIfEmpty(values.DefaultString("flex_primary")?.Trim().ToLowerInvariant()) ?? nodes.FirstOrDefault();
        var drpFlexPrimary = NullIfEmpty(values.DefaultString("drp_flex_primary")?.Trim().ToLowerInvariant()) ?? drpnodes.FirstOrDefault();
        reader.Nodes = nodes;
        reader.DrpNodes = drpnodes;
        reader.EncapNodes = encapnodes;
        reader.Membership = (nodes.Contains(node.Value), drpnodes.Contains(node.Value), encapnodes.Contains(node.Value));
        reader.FlexPrimary = flexPrimary;
        reader.DrpFlexPrimary = drpFlexPrimary;

        var nodeNames = values.NodeNames(nodes, "nodes");
        var drpNodeNames = values.NodeNames(drpnodes, "drpnodes");
        var encapNodeNames = values.NodeNames(encapnodes, "encapnodes");
        var role = reader.Membership.InNodes ? NodeRole.PrimaryNode
            : reader.Membership.InDrpNodes ? NodeRole.DrpNode
            : NodeRole.NotMember;

        var topology = values.DefaultString("topology")?.Trim().ToLowerInvariant() == "flex" ? Topology.Flex : Topology.Failover;
        var allNodes = nodes.Union(drpnodes).Count();
        var peers = role == NodeRole.DrpNode ? drpnodes.Count : nodes.Count;
        var flexMin = Math.Clamp(values.DefaultInt("flex_min") ?? 1, 0, allNodes);
        var flexMax = Math.Max(Math.Min(values.DefaultInt("flex_max") ?? peers, peers), flexMin);
        var flexTarget = values.DefaultInt("flex_target") ?? flexMin;
        var orchestrate = values.DefaultString("orchestrate")?.Trim().ToLowerInvariant() switch
        {
            "start" => Orchestrate.Start,
            "ha" => Orchestrate.Ha,
            _ => Orchestrate.No,
        };
        var containerDataDir = NullIfEmpty(values.DefaultString("container_data_dir")?.Trim());
        var autostart = values.NodeNames(values.DefaultList("autostart_node"), "autostart_node");
        if (autostart.Count > 0 && orchestrate == Orchestrate.No && doc.Default.Get("orchestrate") is null)
            orchestrate = Orchestrate.Start;
        var syncScheduleEntry = reader.ReadRaw(doc.Default, KeywordTable.Find(ConfigDocument.DefaultSection, null, "sync_schedule")!).Entry;

        foreach (var keyword in KeywordTable.For(ConfigDocument.DefaultSection, null))
            if (values.Get(doc.Default, keyword) is { } read)
                values.CheckExpanded(doc.Default, keyword, read);

        var serviceDisabled = values.DefaultBool("disable") ?? false;
        var context = new ResourceContext(reader, values, path, nodes, drpnodes, nodeNames, drpNodeNames, problems) { ServiceDisabled = serviceDisabled };
        var resources = new List<ServiceResource>();
        foreach (var section in OrderedResourceSections(doc))
        {
            var resource = context.Build(section);
            if (resource is not null)
                resources.Add(resource);
        }
        resources = context.Finish(resources, containerDataDir);

        return new ResolvedService
        {
            Path = path,
            Id = NullIfEmpty(values.DefaultString("id")?.Trim()),
            Node = node,
            Role = role,
            Topology = topology,
            Nodes = nodeNames,
            NodesDeclared = nodesDeclared,
            DrpNodes = drpNodeNames,
            EncapNodes = encapNodeNames,
            FlexPrimary = NodeName.TryParse(flexPrimary, out var fp) ? fp : null,
            DrpFlexPrimary = NodeName.TryParse(drpFlexPrimary, out var dfp) ? dfp : null,
            FlexMin = flexMin,
            FlexMax = flexMax,
            FlexTarget = flexTarget,
            Orchestrate = orchestrate,
            AutostartNodes = autostart,
            Rollback = values.DefaultBool("rollback") ?? true,
            Disabled = serviceDisabled,
            ContainerDataDir = containerDataDir,
            BwLimitKbps = values.DefaultSpeed("bwlimit"),
            SyncSchedule = syncScheduleEntry is null ? null : values.DefaultString("sync_schedule"),
            SyncMaxDelaySeconds = values.DefaultDuration("sync_max_delay") ?? 97200,
            Resources = resources,
            Problems = problems,
            ConfigSyncKeywords = doc.Sections.FirstOrDefault(s => s.Name == ConfigSync.Section) is { } i0
                ? [.. i0.Entries.Select(e => new KeyValuePair<string, string>(e.Key, e.Value))]
                : null,
        };
    }

    /// <summary>Resource sections in OpenSVC build order (group order), then by rid.</summary>
    internal static IEnumerable<ConfigSection> OrderedResourceSections(ConfigDocument doc) =>
        doc.Sections
            .Where(s => s.Index is not null && KeywordTable.ResourceGroups.Contains(s.Group) && s.Name != ConfigSync.Section)
            .OrderBy(s => KeywordTable.ResourceGroups.IndexOf(s.Group))
            .ThenBy(s => s.Name, StringComparer.Ordinal);

    static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    static int IndexOf(this IReadOnlyList<string> list, string item)
    {
        for (var i = 0; i < list.Count; i++)
            if (list[i] == item)
                return i;
        return -1;
    }
}
