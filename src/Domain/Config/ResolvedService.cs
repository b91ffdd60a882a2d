namespace OpenSvc.Domain.Config;

public enum Orchestrate
{
    No,
    Start,
    Ha,
}

/// <summary>What a node is to a service: listed in <c>nodes</c>, in <c>drpnodes</c>, or neither.</summary>
public enum NodeRole
{
    PrimaryNode,
    DrpNode,
    NotMember,
}

/// <summary>A service's configuration as one node sees it, with the problems that concern that node.</summary>
public sealed record ResolvedService
{
    public required ServicePath Path { get; init; }
    public string Name => Path.Name;

    /// <summary>DEFAULT.id as written (OpenSVC's service uuid), or null: the container driver derives one from the path then.</summary>
    public string? Id { get; init; }
    public required NodeName Node { get; init; }
    public required NodeRole Role { get; init; }
    public required Topology Topology { get; init; }
    public required IReadOnlyList<NodeName> Nodes { get; init; }

    /// <summary>
    /// False when DEFAULT names no node: <see cref="Nodes"/> is then the resolving node alone (OpenSVC's default, the
    /// local host), which no cluster-wide action can use (see <see cref="ConfigValidator.NoNodes"/>).
    /// </summary>
    public required bool NodesDeclared { get; init; }
    public required IReadOnlyList<NodeName> DrpNodes { get; init; }
    public required IReadOnlyList<NodeName> EncapNodes { get; init; }
    public required NodeName? FlexPrimary { get; init; }
    public required NodeName? DrpFlexPrimary { get; init; }
    public required int FlexMin { get; init; }
    public required int FlexMax { get; init; }
    public required int FlexTarget { get; init; }
    public required Orchestrate Orchestrate { get; init; }

    /// <summary>The 2015 <c>autostart_node</c> list (empty when unset): read as <c>orchestrate = start</c> on these nodes only.</summary>
    public IReadOnlyList<NodeName> AutostartNodes { get; init; } = [];
    public required bool Rollback { get; init; }

    /// <summary>DEFAULT.disable on this node: the whole service is disabled (every resource too), start and stop do nothing.</summary>
    public bool Disabled { get; init; }
    public required string? ContainerDataDir { get; init; }
    public required long? BwLimitKbps { get; init; }

    /// <summary>DEFAULT.sync_schedule when set explicitly; sync resources carry their effective schedule.</summary>
    public required string? SyncSchedule { get; init; }

    /// <summary>A user's <c>[sync#i0]</c> section (OpenSVC's config sync), accepted and ignored: its keywords as written, or null.</summary>
    public IReadOnlyList<KeyValuePair<string, string>>? ConfigSyncKeywords { get; init; }

    public required long SyncMaxDelaySeconds { get; init; }

    /// <summary>Resources of the drivers this agent implements, in OpenSVC build order then rid order.</summary>
    public required IReadOnlyList<ServiceResource> Resources { get; init; }

    /// <summary>Problems of the whole configuration plus those that concern this node.</summary>
    public required IReadOnlyList<ConfigProblem> Problems { get; init; }

    public ServiceResource? Resource(string rid) => Resources.FirstOrDefault(r => r.Id.ToString() == rid);

    public T? Resource<T>(string rid) where T : ServiceResource => Resource(rid) as T;
}
