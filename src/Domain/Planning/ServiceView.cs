namespace OpenSvc.Domain.Planning;

/// <summary>The sync <c>target</c> keyword (and the <c>sync nodes|drp|all</c> filter): which peer groups receive.</summary>
[Flags]
public enum SyncTargets
{
    None = 0,
    Nodes = 1,
    DrpNodes = 2,
    All = Nodes | DrpNodes,
}

/// <summary>
/// One resource as one node sees it, after scope resolution. <see cref="Driver"/> is the full driver name
/// (<c>fs</c>, <c>container.docker</c>, <c>ip.docker</c>, <c>sync.docker</c>, <c>sync.btrfs</c>, <c>sync.rsync</c>,
/// <c>app</c>, ...); its part before the first '.' is the ordering group.
/// </summary>
public sealed record ResourceView
{
    public ResourceView(ResourceId rid, string driver)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(driver);
        Rid = rid;
        Driver = driver;
    }

    public ResourceId Rid { get; }
    public string Driver { get; }

    /// <summary>Standby on this node: started by startstandby, left up by stop, never rolled back.</summary>
    public bool Standby { get; init; }
    public bool Disabled { get; init; }
    /// <summary>A failing optional step is logged, not fatal (OpenSVC: default true for sync resources).</summary>
    public bool Optional { get; init; }
    /// <summary>fs mount point: fs resources start ascending by (dirname(mnt), rid).</summary>
    public string? MountPoint { get; init; }
    /// <summary>For ip.docker: the container whose network namespace holds the address.</summary>
    public ResourceId? Netns { get; init; }
    /// <summary>For sync resources: the <c>target</c> keyword.</summary>
    public SyncTargets Targets { get; init; }
    /// <summary>
    /// For sync resources: the receiving node's agent must get ready first (sync.docker into a service's private
    /// dockerd, which the target's agent starts on the service's standby fs).
    /// </summary>
    public bool PreparesTarget { get; init; }

    /// <summary>The driver group: <c>fs</c>, <c>container</c>, <c>ip</c>, <c>sync</c>, <c>app</c>, ...</summary>
    public string Group => Driver.Split('.')[0];

    public bool IsSync => Group == "sync";

    /// <summary>An ip living in a container's network namespace: started and stopped with its container.</summary>
    public bool IsNetnsIp => Config.DriverCatalog.Named(Driver)?.InContainerNetns == true;
}

/// <summary>
/// What the planner needs to know about a service: its topology, peer groups and, per node, the resources
/// as that node sees them (standby and disabled flags are per node). Built from the resolved config.
/// Immutable: the constructor copies every collection.
/// </summary>
public sealed record ServiceView
{
    readonly Dictionary<NodeName, IReadOnlyList<ResourceView>> resources;

    public ServiceView(
        string name,
        Topology topology,
        IEnumerable<NodeName> nodes,
        IEnumerable<NodeName> drpNodes,
        IEnumerable<KeyValuePair<NodeName, IReadOnlyList<ResourceView>>> resourcesByNode,
        NodeName? flexPrimary = null,
        bool rollback = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(drpNodes);
        ArgumentNullException.ThrowIfNull(resourcesByNode);
        Name = name;
        Topology = topology;
        Nodes = nodes.Distinct().ToArray();
        DrpNodes = drpNodes.Distinct().ToArray();
        if (Nodes.Count == 0)
            throw new ArgumentException($"service {name} has no nodes", nameof(nodes));
        var both = Nodes.Intersect(DrpNodes).ToArray();
        if (both.Length > 0)
            throw new ArgumentException($"{string.Join(", ", both)} cannot be both in nodes and drpnodes", nameof(drpNodes));
        if (flexPrimary is { } fp && !Nodes.Contains(fp))
            throw new ArgumentException($"flex_primary {fp} is not in nodes", nameof(flexPrimary));
        FlexPrimary = flexPrimary ?? Nodes[0];
        Rollback = rollback;
        resources = [];
        foreach (var (node, list) in resourcesByNode)
        {
            if (!IsPeer(node))
                throw new ArgumentException($"resources given for {node}, which is in neither nodes nor drpnodes", nameof(resourcesByNode));
            var copy = list.ToArray();
            var duplicate = copy.GroupBy(r => r.Rid).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new ArgumentException($"{duplicate.Key} is listed twice for {node}", nameof(resourcesByNode));
            resources[node] = copy;
        }
    }

    public string Name { get; }
    public Topology Topology { get; }
    public IReadOnlyList<NodeName> Nodes { get; }
    public IReadOnlyList<NodeName> DrpNodes { get; }
    /// <summary>The flex primary; OpenSVC's default is the first of <c>nodes</c>.</summary>
    public NodeName FlexPrimary { get; }
    /// <summary>DEFAULT.rollback: false turns off compensation of a failed start.</summary>
    public bool Rollback { get; }

    /// <summary>The config's error-level problems: a plan that touches a node one of them concerns (or every node) is refused.</summary>
    public IReadOnlyList<Config.ConfigProblem> ConfigErrors { get; init; } = [];

    /// <summary>Nodes where DEFAULT.disable disables the whole service: start, stop and the like plan nothing there.</summary>
    public IReadOnlySet<NodeName> DisabledOn { get; init; } = new HashSet<NodeName>();

    /// <summary>DEFAULT.rollback as each node reads it (OpenSVC lets it be scoped: <c>rollback@n3 = false</c>).</summary>
    public IReadOnlyDictionary<NodeName, bool> RollbackByNode { get; init; } = new Dictionary<NodeName, bool>();

    /// <summary>Whether a plan run on <paramref name="node"/> rolls back on failure.</summary>
    public bool RollbackFor(NodeName node) => RollbackByNode.TryGetValue(node, out var rollback) ? rollback : Rollback;

    /// <summary>The errors that concern any of these nodes, or every node.</summary>
    public IReadOnlyList<Config.ConfigProblem> ErrorsFor(IEnumerable<NodeName> nodes)
    {
        var set = nodes.ToHashSet();
        return ConfigErrors.Where(p => p.Node is null || set.Contains(p.Node.Value)).ToList();
    }

    /// <summary>nodes then drpnodes, in config order.</summary>
    public IEnumerable<NodeName> Peers => Nodes.Concat(DrpNodes);

    public bool IsPeer(NodeName node) => Nodes.Contains(node) || DrpNodes.Contains(node);

    public bool IsDrpNode(NodeName node) => DrpNodes.Contains(node);

    /// <summary>The resources as <paramref name="node"/> sees them; empty for a node with none.</summary>
    public IReadOnlyList<ResourceView> ResourcesOn(NodeName node) =>
        resources.TryGetValue(node, out var list) ? list : [];
}
