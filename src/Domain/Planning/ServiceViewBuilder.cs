using OpenSvc.Domain.Config;

namespace OpenSvc.Domain.Planning;

/// <summary>Builds the planner's view of a service from its parsed config: every peer node's resolved resources.</summary>
public static class ServiceViewBuilder
{
    /// <summary>
    /// The view, with the config's errors (the planner refuses a plan that touches a node they concern). Returns null
    /// with a reason when the config cannot describe a service at all (no nodes).
    /// </summary>
    public static (ServiceView? View, string? Problem) From(ConfigDocument doc, string serviceName, IReadOnlyDictionary<string, string>? environment = null)
    {
        // Peer lists do not depend on the node resolving them (once nodes is set): read them from any node's view.
        var probe = ServiceResolver.ResolveAnyNode(doc, serviceName, environment);
        if (!probe.NodesDeclared || probe.Nodes.Count == 0)
            return (null, ConfigValidator.NoNodes(doc).ToString());
        var overlap = probe.Nodes.Intersect(probe.DrpNodes).ToList();
        if (overlap.Count > 0)
            return (null, $"{doc.File}: {string.Join(", ", overlap)} listed in both nodes and drpnodes: keep each node in one of them");
        var byNode = new List<KeyValuePair<NodeName, IReadOnlyList<ResourceView>>>();
        var disabledOn = new HashSet<NodeName>();
        var rollback = new Dictionary<NodeName, bool>();
        foreach (var node in probe.Nodes.Concat(probe.DrpNodes))
        {
            var resolved = ServiceResolver.Resolve(doc, serviceName, node, environment);
            byNode.Add(new(node, resolved.Resources.Select(r => View(r, resolved)).ToList()));
            if (resolved.Disabled)
                disabledOn.Add(node);
            rollback[node] = resolved.Rollback;
        }
        var flexPrimary = probe.FlexPrimary is { } fp && probe.Nodes.Contains(fp) ? fp : (NodeName?)null;
        return (new ServiceView(probe.Name, probe.Topology, probe.Nodes, probe.DrpNodes, byNode, flexPrimary, probe.Rollback)
        {
            ConfigErrors = ConfigValidator.Validate(doc, serviceName).Where(p => p.Severity == Severity.Error).ToList(),
            DisabledOn = disabledOn,
            RollbackByNode = rollback,
        }, null);
    }

    static ResourceView View(ServiceResource r, ResolvedService service) => new(r.Id, r.Driver)
    {
        Standby = r.Standby,
        Disabled = r.Disabled,
        Optional = r.Optional,
        MountPoint = (r as FsResource)?.Mnt,
        Netns = r is DockerIp { NetNs: { } ns } && ResourceId.TryParse(ns, out var rid) ? rid : null,
        Targets = r is SyncResource s ? Targets(s.TargetTokens) : SyncTargets.None,
        // The target's agent has something to prepare only for a service with a private dockerd.
        PreparesTarget = DriverCatalog.Named(r.Driver)?.PreparesTarget == true && service.ContainerDataDir is not null,
    };

    static SyncTargets Targets(IEnumerable<string> tokens) => tokens.Aggregate(SyncTargets.None, (acc, t) => acc | t switch
    {
        "nodes" => SyncTargets.Nodes,
        "drpnodes" => SyncTargets.DrpNodes,
        _ => SyncTargets.None,
    });
}
