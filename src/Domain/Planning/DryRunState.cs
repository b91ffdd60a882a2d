namespace OpenSvc.Domain.Planning;

/// <summary>
/// The cluster a dry run assumes when no database is asked: every peer reachable, and the service up only
/// where the action implies it (stopped, switched from, synced from, reprotected or given back from <c>--node</c>; a giveback also assumes the protection reversed from there; for a drill, the first primary node). Operators explore
/// guards by overriding: <c>--up-on</c> and <c>--unreachable</c>.
/// </summary>
public static class DryRunState
{
    public static ClusterState For(ServiceView view, ActionRequest request, IReadOnlyCollection<NodeName>? upOn = null, IReadOnlyCollection<NodeName>? unreachable = null)
    {
        var up = upOn ?? (request.Action switch
        {
            ServiceAction.Stop or ServiceAction.Switch or ServiceAction.Sync or ServiceAction.Reprotect or ServiceAction.Giveback => [request.Node],
            // A drill runs while production does: the service up on its first node.
            ServiceAction.Drill or ServiceAction.DrillCleanup => [view.Nodes[0]],
            _ => [],
        });
        var down = unreachable ?? [];
        return new ClusterState(view.Peers.Select(n => new KeyValuePair<NodeName, NodeState>(n,
            new NodeState(!down.Contains(n), down.Contains(n) ? Status.Undef : up.Contains(n) ? Status.Up : Status.Down))))
        {
            // A giveback follows a reprotect: its dry run assumes the protection reversed from --node (a DR node) to the preferred primary.
            Reversal = request.Action == ServiceAction.Giveback && view.IsDrpNode(request.Node)
                ? new ProtectionReversal(request.Node, [view.Nodes[0]], DateTimeOffset.UnixEpoch, Guid.Empty, "dry run")
                : null,
        };
    }
}
