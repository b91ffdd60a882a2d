using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;

namespace OpenSvc.Workflows.Monitoring;

/// <summary>
/// The cluster as the planner must see it, from facts only: a node is reachable when its agent's heartbeat
/// is fresh; its instance state is what that agent last reported (down when a live agent has not reported
/// the service yet). An unreachable node's state is never guessed.
/// </summary>
public static class ClusterStates
{
    public static ClusterState From(ServiceView view, AgentRoster agents, IReadOnlyList<InstanceStatusReport> reports)
    {
        return new ClusterState(view.Peers.Select(node =>
        {
            var report = reports.FirstOrDefault(r => r.Node == node.Value);
            var reachable = agents.IsAlive(node.Value);
            var instance = report?.Avail ?? (reachable ? Status.Down : Status.Undef);
            return new KeyValuePair<NodeName, NodeState>(node, new NodeState(reachable, instance));
        }));
    }

    /// <summary>
    /// Nodes whose report may not show yet what the service's last run did there: the node's agent is alive and
    /// its report was probed before that run's last step on the node ended (agents probe again right after each
    /// step, so such a report is about to be replaced).
    /// </summary>
    public static IReadOnlyList<string> Trailing(WorkflowRun? lastRun, AgentRoster agents, IReadOnlyList<InstanceStatusReport> reports)
    {
        if (lastRun is null)
            return [];
        return lastRun.Steps
            .Where(s => s.EndedAt is not null)
            .GroupBy(s => s.Step.Node.Value)
            .Where(g =>
            {
                if (!agents.IsAlive(g.Key))
                    return false; // a silent node's state is never read from its report anyway
                var report = reports.FirstOrDefault(r => r.Node == g.Key);
                return report is null || report.UpdatedAt < g.Max(s => s.EndedAt!.Value);
            })
            .Select(g => g.Key)
            .ToList();
    }
}
