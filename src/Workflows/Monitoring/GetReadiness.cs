using Marten;
using MediatR;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Workflows.Monitoring;

public enum CheckLevel { Ok, Warn, Fail }

/// <summary>One readiness check: what was checked, how it stands, and a sentence a non-expert can act on.</summary>
public sealed record ReadinessCheck(string Check, CheckLevel Level, string Sentence);

/// <summary>Whether a service can be activated on a node now, and what a takeover there would lose.</summary>
public sealed record Readiness(string Service, string Node, bool Ready, IReadOnlyList<ReadinessCheck> Checks);

/// <summary>"Can svc1 be activated on n3 now, and what would it lose?" Node: the service's first DR node when not given.</summary>
public sealed record GetReadiness(string Service, NodeName? Node) : IRequest<Readiness?>;

public sealed class GetReadinessHandler(IDocumentStore store, IDatabaseClock clock, LivenessOptions liveness) : IRequestHandler<GetReadiness, Readiness?>
{
    public async Task<Readiness?> Handle(GetReadiness request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var query = store.QuerySession();
        var service = await query.LoadAsync<ServiceActivity>(ServiceActivity.StreamId(request.Service), cancellationToken).ConfigureAwait(false);
        if (service is not { Exists: true, ConfigText: not null })
            return null;
        var roster = await AgentRoster.ReadAsync(query, clock, liveness, cancellationToken).ConfigureAwait(false);
        var reports = await query.Query<InstanceStatusReport>().Where(r => r.Service == request.Service).ToListAsync(cancellationToken).ConfigureAwait(false);
        var records = await query.Query<Syncs.SyncRecord>().Where(r => r.Service == request.Service).ToListAsync(cancellationToken).ConfigureAwait(false);
        return Evaluate(service, request.Node, roster, reports, records);
    }

    /// <summary>The checks of one service on one node (default: its first DR node), from facts already read.</summary>
    public static Readiness Evaluate(ServiceActivity service, NodeName? at, AgentRoster roster, IReadOnlyList<InstanceStatusReport> reports,
        IReadOnlyList<Syncs.SyncRecord> records)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(roster);
        var doc = ConfigParser.Parse(service.ConfigText!, service.Service + ".conf");
        var probe = ServiceResolver.Resolve(doc, service.Service, new NodeName("opensvc-readiness"));
        var node = at ?? probe.DrpNodes.FirstOrDefault();
        if (node == default)
            return new Readiness(service.Service, "-", false,
                [new ReadinessCheck("dr node", CheckLevel.Fail, $"{service.Service} has no drpnodes: name the node to check with --node")]);
        var resolved = ServiceResolver.Resolve(doc, service.Service, node);
        var checks = new List<ReadinessCheck>();
        if (resolved.Role == NodeRole.NotMember)
            checks.Add(new ReadinessCheck("dr node", CheckLevel.Fail, $"{node} is in neither nodes nor drpnodes of {service.Service}"));
        checks.Add(Agent(roster, node));
        checks.AddRange(Standby(resolved, reports.FirstOrDefault(r => r.Service == service.Service && r.Node == node.Value), node));
        checks.AddRange(Copies(resolved, records.Where(r => r.Service == service.Service).ToList(), node, roster.Now));
        checks.Add(Config(doc, service.Service, node, service));
        return new Readiness(service.Service, node.Value, checks.All(c => c.Level != CheckLevel.Fail), checks);
    }

    static ReadinessCheck Agent(AgentRoster roster, NodeName node) => roster.Of(node.Value) switch
    {
        null => new("agent", CheckLevel.Fail, $"no agent has ever run on {node}: install and start it there (opensvc agent)"),
        { } a when roster.IsAlive(node.Value) => new("agent", CheckLevel.Ok, $"the agent on {node} answers (last heartbeat {RunTimeline.Duration(roster.Now - a.LastSeen)} ago)"),
        { } a => new("agent", CheckLevel.Fail,
            $"the agent on {node} has not answered for {RunTimeline.Duration(roster.Now - a.LastSeen)}: start it, or check that {node} is up and reaches the database"),
    };

    /// <summary>The receiving filesystems (always_on): mounted on the DR node, so syncs land on them and a takeover starts from them.</summary>
    static IEnumerable<ReadinessCheck> Standby(ResolvedService resolved, InstanceStatusReport? report, NodeName node)
    {
        var standby = resolved.Resources.Where(r => r.Standby && !r.Disabled).ToList();
        if (standby.Count == 0)
            yield break;
        if (report is null)
        {
            yield return new("standby", CheckLevel.Warn, $"{node} has not reported {resolved.Name}'s status yet: its standby resources could not be checked");
            yield break;
        }
        foreach (var r in standby)
        {
            var line = report.Resources.FirstOrDefault(l => l.Rid == r.Id.ToString());
            var what = r is FsResource { Mnt: { } mnt } ? $"{r.Id} ({mnt})" : r.Id.ToString();
            yield return line?.Status == Status.StandbyUp
                ? new ReadinessCheck("standby", CheckLevel.Ok, $"{what} is up on {node}, ready to receive and to start from")
                : new ReadinessCheck("standby", CheckLevel.Fail,
                    $"{what} is {line?.Status.ToDisplay() ?? "not reported"} on {node}: bring the standby resources up (opensvc svc startstandby {resolved.Name} --node {node})");
        }
    }

    /// <summary>Per sync resource sending to the node: the age of its copy there (the RPO a takeover would have now), in bands.</summary>
    static IEnumerable<ReadinessCheck> Copies(ResolvedService resolved, IReadOnlyList<Syncs.SyncRecord> records, NodeName node, DateTimeOffset now)
    {
        foreach (var sync in resolved.Resources.OfType<SyncResource>().Where(s => !s.Disabled && s.Targets.Contains(node)))
        {
            var last = records.FirstOrDefault(r => r.Rid == sync.Id.ToString() && r.Target == node.Value);
            var lag = new SyncLag(last?.At, TimeSpan.FromSeconds(sync.SyncMaxDelaySeconds), now);
            var max = RunTimeline.Duration(lag.MaxDelay);
            var name = $"copy {sync.Id}";
            yield return lag.Band switch
            {
                LagBand.Never => new(name, CheckLevel.Fail, $"{sync.Id} was never synced to {node}: a takeover would start without this data; run opensvc svc sync {resolved.Name} --node <primary>"),
                LagBand.Within => new(name, CheckLevel.Ok, $"{sync.Id} on {node} is {RunTimeline.Duration(lag.Age)} old (allowed {max}): a takeover now loses at most the last {RunTimeline.Duration(lag.Age)} of changes"),
                LagBand.UpTo2x => new(name, CheckLevel.Warn, $"{sync.Id} on {node} is {RunTimeline.Duration(lag.Age)} old, more than the {max} allowed: a takeover now loses {RunTimeline.Duration(lag.Age)} of changes; check the recurring sync"),
                LagBand.UpTo4x => new(name, CheckLevel.Warn, $"{sync.Id} on {node} is {RunTimeline.Duration(lag.Age)} old, over twice the {max} allowed: syncs are failing or not scheduled; see opensvc runs --service {resolved.Name} --action sync"),
                _ => new(name, CheckLevel.Fail, $"{sync.Id} on {node} is {RunTimeline.Duration(lag.Age)} old, over four times the {max} allowed: a takeover would lose that much; fix the sync first"),
            };
        }
    }

    static ReadinessCheck Config(ConfigDocument doc, string service, NodeName node, ServiceActivity stored)
    {
        var errors = ConfigValidator.Validate(doc, service).Where(p => p.Severity == Severity.Error && (p.Node is null || p.Node == node)).ToList();
        return errors.Count == 0
            ? new("config", CheckLevel.Ok, $"the config ({stored.VersionLabel}) is valid for {node}")
            : new("config", CheckLevel.Fail, $"the config ({stored.VersionLabel}) has {errors.Count} error(s) for {node}: " +
                string.Join("; ", errors.Select(e => $"[{e.Section}] {e.Keyword}: {e.Reason}")));
    }
}
