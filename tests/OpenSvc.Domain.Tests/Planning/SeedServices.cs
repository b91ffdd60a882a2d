using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Tests.Planning;

/// <summary>
/// Hand-built views of the seed's three configurations (OpenSVC doc "Service sync resources"), as the
/// config resolver will hand them to the planner. Sync resources are optional, as in OpenSVC.
/// </summary>
static class SeedServices
{
    public static readonly NodeName N1 = new("n1");
    public static readonly NodeName N2 = new("n2");
    public static readonly NodeName N3 = new("n3");

    public static ResourceId Rid(string text) => ResourceId.Parse(text);

    /// <summary>Case 1: failover, nodes n1 n2, drpnodes n3, both fs always_on = drpnodes, docker + btrfs syncs.</summary>
    public static ServiceView FailoverDockerBtrfs(bool rollback = true) => new(
        "svc1", Topology.Failover, [N1, N2], [N3],
        new Dictionary<NodeName, IReadOnlyList<ResourceView>>
        {
            [N1] = Case1Resources(standbyFs: false),
            [N2] = Case1Resources(standbyFs: false),
            [N3] = Case1Resources(standbyFs: true),
        },
        rollback: rollback);

    static ResourceView[] Case1Resources(bool standbyFs) =>
    [
        new(Rid("ip#0"), "ip.docker") { Netns = Rid("container#0") },
        new(Rid("container#0"), "container.docker"),
        new(Rid("container#1"), "container.docker"),
        new(Rid("fs#0"), "fs") { MountPoint = "/srv/svc1/docker", Standby = standbyFs },
        new(Rid("fs#1"), "fs") { MountPoint = "/srv/svc1/data", Standby = standbyFs },
        new(Rid("sync#0"), "sync.docker") { Targets = SyncTargets.DrpNodes, Optional = true },
        new(Rid("sync#1"), "sync.btrfs") { Targets = SyncTargets.DrpNodes, Optional = true },
    ];

    /// <summary>Case 2: flex on n1 n2 n3, flex_primary n2, no drpnodes, a docker sync targeting drpnodes.</summary>
    public static ServiceView FlexDocker()
    {
        ResourceView[] resources =
        [
            new(Rid("ip#0"), "ip.docker") { Netns = Rid("container#0") },
            new(Rid("container#0"), "container.docker"),
            new(Rid("container#1"), "container.docker"),
            new(Rid("fs#0"), "fs") { MountPoint = "/srv/svc1/docker" },
            new(Rid("fs#1"), "fs") { MountPoint = "/srv/svc1/data" },
            new(Rid("sync#0"), "sync.docker") { Targets = SyncTargets.DrpNodes, Optional = true },
        ];
        return new ServiceView("svc1", Topology.Flex, [N1, N2, N3], [],
            new Dictionary<NodeName, IReadOnlyList<ResourceView>> { [N1] = resources, [N2] = resources, [N3] = resources },
            flexPrimary: N2);
    }

    /// <summary>Case 3: flex on n1 n2 with flex_primary n2, failover site n3 (fs standby there), docker + rsync syncs.</summary>
    public static ServiceView FlexWithFailoverSite() => new(
        "svc1", Topology.Flex, [N1, N2], [N3],
        new Dictionary<NodeName, IReadOnlyList<ResourceView>>
        {
            [N1] = Case3Resources(standbyFs: false),
            [N2] = Case3Resources(standbyFs: false),
            [N3] = Case3Resources(standbyFs: true),
        },
        flexPrimary: N2);

    static ResourceView[] Case3Resources(bool standbyFs) =>
    [
        new(Rid("ip#0"), "ip.docker") { Netns = Rid("container#0") },
        new(Rid("container#0"), "container.docker"),
        new(Rid("container#1"), "container.docker"),
        new(Rid("fs#0"), "fs") { MountPoint = "/srv/svc1/docker", Standby = standbyFs },
        new(Rid("fs#1"), "fs") { MountPoint = "/srv/svc1/data", Standby = standbyFs },
        new(Rid("sync#0"), "sync.docker") { Targets = SyncTargets.DrpNodes, Optional = true },
        new(Rid("sync#1"), "sync.rsync") { Targets = SyncTargets.DrpNodes, Optional = true },
    ];

    /// <summary>Every node reachable; the given instance statuses, others down.</summary>
    public static ClusterState Cluster(params (NodeName Node, Status Instance)[] up)
    {
        var states = new Dictionary<NodeName, NodeState> { [N1] = new(true, Status.Down), [N2] = new(true, Status.Down), [N3] = new(true, Status.Down) };
        foreach (var (node, instance) in up)
            states[node] = new NodeState(true, instance);
        return new ClusterState(states);
    }

    public static ClusterState Unreachable(this ClusterState cluster, NodeName node, Status lastKnown = Status.Undef) =>
        new(cluster.Known.ToDictionary(n => n, n => n == node ? new NodeState(false, lastKnown) : cluster[n]));

    public static ActionRequest Request(ServiceAction action, NodeName node) => new("svc1", action, node, "alice");

    public static AcceptedPlan Accepted(this PlanResult result) =>
        result as AcceptedPlan ?? throw new Xunit.Sdk.XunitException($"expected a plan, got {result}");

    public static Refusal Refused(this PlanResult result) =>
        result as Refusal ?? throw new Xunit.Sdk.XunitException($"expected a refusal, got a plan:\n{PlanPrinter.ToText(((AcceptedPlan)result).Plan)}");

    /// <summary>"n1 start fs#0" per step, to compare whole sequences readably.</summary>
    public static string[] Lines(this Plan plan) =>
        plan.Steps.Select(s => $"{s.Node} {ActionWords.Of(s.Action)} {s.Rid}" + (s.Target is { } t ? $" {t}" : "")).ToArray();
}
