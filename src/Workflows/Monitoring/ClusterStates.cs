using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Workflows.Agents;

namespace OpenSvc.Workflows.Monitoring;

/// <summary>
/// The cluster as the planner must see it, from facts only: a node is reachable when its agent's heartbeat
/// is fresh; its instance state is what that agent last reported (down when a live agent has not reported
/// the service yet). An unreachable node's state is never guessed.
/// </summary>
public static class ClusterStates
{
    public static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(15);

    public static ClusterState From(ServiceView view, IReadOnlyList<AgentHeartbeat> agents, IReadOnlyList<InstanceStatusReport> reports, DateTimeOffset now)
    {
        return new ClusterState(view.Peers.Select(node =>
        {
            var agent = agents.FirstOrDefault(a => a.Id == node.Value);
            var report = reports.FirstOrDefault(r => r.Node == node.Value);
            var reachable = agent is not null && agent.IsFresh(now, DeadAfter);
            var instance = report?.Avail ?? (reachable ? Status.Down : Status.Undef);
            return new KeyValuePair<NodeName, NodeState>(node, new NodeState(reachable, instance));
        }));
    }
}
