namespace OpenSvc.Domain.Planning;

/// <summary>
/// What the cluster says about one node: whether its agent heartbeats (reachable), and this service's
/// instance avail there. The status of an unreachable node is its last known one and is not trusted.
/// </summary>
public sealed record NodeState(bool Reachable, Status Instance)
{
    /// <summary>A node the cluster has never heard of: unreachable, state unknown.</summary>
    public static readonly NodeState Unknown = new(false, Status.Undef);
}

/// <summary>The cluster as the planner sees it. A node missing from it counts as unreachable.</summary>
public sealed record ClusterState
{
    readonly Dictionary<NodeName, NodeState> nodes;

    public ClusterState(IEnumerable<KeyValuePair<NodeName, NodeState>> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        this.nodes = new Dictionary<NodeName, NodeState>(nodes);
    }

    public NodeState this[NodeName node] => nodes.TryGetValue(node, out var state) ? state : NodeState.Unknown;

    public IEnumerable<NodeName> Known => nodes.Keys;

    /// <summary>The service's protection while reprotect has reversed it (recorded on its stream); null in the normal direction.</summary>
    public ProtectionReversal? Reversal { get; init; }
}
