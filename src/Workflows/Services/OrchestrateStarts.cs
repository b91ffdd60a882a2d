using Marten;
using MediatR;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Drivers;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Monitoring;

namespace OpenSvc.Workflows.Services;

/// <summary>
/// Which services this node's agent should start by itself now (OpenSVC's <c>orchestrate = start</c>, the 2015
/// <c>autostart_node</c>), with the reason for each: the decision only (<see cref="Orchestration.Decide"/> on the last
/// reports and the agents' heartbeats); the agent's start-up requests the starts as runs by "orchestrator@node".
/// </summary>
public sealed record OrchestrateStarts(NodeName Node) : IRequest<IReadOnlyList<OrchestratedStart>>;

public sealed record OrchestratedStart(string Service, OrchestrationDecision Decision)
{
    public static string Requester(NodeName node) => $"orchestrator@{node}";
}

public sealed class OrchestrateStartsHandler(IDocumentStore store, ResolvedServices resolver, IDatabaseClock clock, LivenessOptions liveness)
    : IRequestHandler<OrchestrateStarts, IReadOnlyList<OrchestratedStart>>
{
    public async Task<IReadOnlyList<OrchestratedStart>> Handle(OrchestrateStarts request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var query = store.QuerySession();
        var services = await query.Query<ServiceActivity>().Where(s => s.ConfigVersion > 0).ToListAsync(cancellationToken).ConfigureAwait(false);
        var roster = await AgentRoster.ReadAsync(query, clock, liveness, cancellationToken).ConfigureAwait(false);
        var live = roster.Agents.Where(a => roster.IsAlive(a.Id)).Select(a => new NodeName(a.Id)).ToHashSet();
        var nodeFreeze = await query.LoadAsync<NodeFreeze>(request.Node.Value, cancellationToken).ConfigureAwait(false);
        var result = new List<OrchestratedStart>();
        foreach (var svc in services.Where(s => s.Exists && s.ConfigText is not null))
        {
            var resolved = resolver.Resolve(svc.ConfigText!, svc.Service, request.Node);
            if (resolved.Orchestrate == Orchestrate.No || resolved.Role == NodeRole.NotMember)
                continue;
            var reports = await query.Query<InstanceStatusReport>().Where(r => r.Service == svc.Service).ToListAsync(cancellationToken).ConfigureAwait(false);
            var instanceFreeze = svc.FrozenNodes?.GetValueOrDefault(request.Node.Value);
            var facts = new OrchestrationFacts(reports.ToDictionary(r => new NodeName(r.Node), r => r.Avail), live, ServiceFrozen: svc.Frozen is not null, NodeFrozen: nodeFreeze is not null)
            {
                InstanceFrozen = instanceFreeze is not null,
                FrozenDetail = (svc.Frozen ?? instanceFreeze ?? nodeFreeze?.Mark)?.Describe() ?? "",
            };
            result.Add(new OrchestratedStart(svc.Service, Orchestration.Decide(resolved, request.Node, facts)));
        }
        return result;
    }
}
