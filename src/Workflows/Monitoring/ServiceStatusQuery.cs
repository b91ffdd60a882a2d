using Marten;
using MediatR;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Workflows.Monitoring;

/// <summary>One node's view in a service status: its role, whether its agent answers, and what it last reported.</summary>
public sealed record InstanceView(string Node, string Role, bool Reachable, InstanceStatusReport? Report)
{
    /// <summary>The service's instance on this node is frozen (<c>svc freeze NAME --node N</c>).</summary>
    public FreezeMark? Frozen { get; init; }

    /// <summary>The whole node is frozen (<c>node freeze --node N</c>): no service starts there by itself.</summary>
    public FreezeMark? NodeFrozen { get; init; }
}

/// <summary>How stale one sync resource's copy on one target is (from the last successful sync run).</summary>
public sealed record SyncLagView(string Rid, string Target, Status Status, string Message, DateTimeOffset? LastSyncAt, Guid? LastRun);

/// <summary>A service's status across the cluster, aggregated with OpenSVC's rules, with its sync lag per resource and target.</summary>
public sealed record ServiceStatusView(
    string Service, string Topology, string ConfigVersion, Status Avail, Status Overall, IReadOnlyList<InstanceView> Instances, IReadOnlyList<SyncLagView> Syncs)
{
    /// <summary>The reversed protection a reprotect recorded (until a giveback), or null in the normal direction.</summary>
    public ProtectionReversal? Reversal { get; init; }

    /// <summary>The whole service is frozen: the orchestrator starts it nowhere by itself.</summary>
    public FreezeMark? Frozen { get; init; }
}

public sealed record GetServiceStatus(string Service) : IRequest<ServiceStatusView?>;

public sealed class GetServiceStatusHandler(IDocumentStore store, IDatabaseClock clock, LivenessOptions liveness) : IRequestHandler<GetServiceStatus, ServiceStatusView?>
{
    public async Task<ServiceStatusView?> Handle(GetServiceStatus request, CancellationToken cancellationToken)
    {
        await using var query = store.QuerySession();
        var service = await query.LoadAsync<ServiceActivity>(ServiceActivity.StreamId(request.Service), cancellationToken).ConfigureAwait(false);
        if (service is not { Exists: true, ConfigText: not null })
            return null;
        var roster = await AgentRoster.ReadAsync(query, clock, liveness, cancellationToken).ConfigureAwait(false);
        var reports = await query.Query<InstanceStatusReport>().Where(r => r.Service == request.Service).ToListAsync(cancellationToken).ConfigureAwait(false);
        var doc = ConfigParser.Parse(service.ConfigText, request.Service + ".conf");
        var (view, _) = ServiceViewBuilder.From(doc, request.Service);
        var now = roster.Now;
        var peers = view?.Peers.ToList() ?? [];
        var frozenNodes = (await query.LoadManyAsync<Services.NodeFreeze>(cancellationToken, peers.Select(n => n.Value)).ConfigureAwait(false))
            .ToDictionary(f => f.Id, StringComparer.Ordinal);
        var instances = peers.Select(n => new InstanceView(
            n.Value,
            view!.IsDrpNode(n) ? "drpnode" : "node",
            roster.IsAlive(n.Value),
            reports.FirstOrDefault(r => r.Node == n.Value))
        {
            Frozen = service.FrozenNodes?.GetValueOrDefault(n.Value),
            NodeFrozen = frozenNodes.GetValueOrDefault(n.Value)?.Mark,
        }).ToList();
        var resolved = peers.Count > 0 ? ServiceResolver.Resolve(doc, request.Service, peers[0]) : null;
        var aggregate = ServiceStatus.Of(view?.Topology ?? Topology.Failover,
            instances.Where(i => i.Report is not null).Select(i => new InstanceStatus(i.Report!.Avail, i.Report.Overall)).ToList(),
            resolved?.FlexMin ?? 1, resolved?.FlexMax ?? int.MaxValue);
        var lastSyncs = await query.Query<Syncs.SyncRecord>().Where(l => l.Service == request.Service).ToListAsync(cancellationToken).ConfigureAwait(false);
        var lags = new List<SyncLagView>();
        foreach (var sync in resolved?.Resources.OfType<SyncResource>().Where(x => !x.Disabled) ?? [])
        {
            // While reversed, the copies that matter are the ones the reversal's receivers get.
            var reversed = service.Reversal is { } r && sync.Targets.Contains(r.From);
            foreach (var target in reversed ? service.Reversal!.To : sync.Targets)
            {
                var last = lastSyncs.FirstOrDefault(l => l.Rid == sync.Id.ToString() && l.Target == target.Value);
                var lag = new SyncLag(last?.At, TimeSpan.FromSeconds(sync.SyncMaxDelaySeconds), now);
                lags.Add(new SyncLagView(sync.Id.ToString(), target.Value, lag.Status, lag.Describe(), last?.At, last?.RunId));
            }
        }
        return new ServiceStatusView(request.Service, (view?.Topology ?? Topology.Failover).ToString().ToLowerInvariant(), service.VersionLabel,
            aggregate.Avail, aggregate.Overall, instances, lags) { Reversal = service.Reversal, Frozen = service.Frozen };
    }
}
