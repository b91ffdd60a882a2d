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
        var runs = await RunsAsync(query, request.Service, records, cancellationToken).ConfigureAwait(false);
        return Evaluate(service, request.Node, roster, reports, records, runs);
    }

    /// <summary>The runs the drill and image checks read: the service's drills, and the runs of its last successful syncs.</summary>
    public static async Task<IReadOnlyList<WorkflowRun>> RunsAsync(IQuerySession query, string? service, IReadOnlyList<Syncs.SyncRecord> records, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(records);
        IQueryable<WorkflowRun> drills = query.Query<WorkflowRun>().Where(r => r.Action == ServiceAction.Drill && r.Status == RunStatus.Completed);
        if (service is not null)
            drills = drills.Where(r => r.Service == service);
        var runs = (await drills.ToListAsync(ct).ConfigureAwait(false)).ToList();
        var syncRuns = records.Select(r => r.RunId).Distinct().ToArray();
        if (syncRuns.Length > 0)
            runs.AddRange(await query.LoadManyAsync<WorkflowRun>(ct, syncRuns).ConfigureAwait(false));
        return runs;
    }

    /// <summary>The checks of one service on one node (default: its first DR node), from facts already read.</summary>
    public static Readiness Evaluate(ServiceActivity service, NodeName? at, AgentRoster roster, IReadOnlyList<InstanceStatusReport> reports,
        IReadOnlyList<Syncs.SyncRecord> records, IReadOnlyList<WorkflowRun>? runs = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(roster);
        var doc = ConfigParser.Parse(service.ConfigText!, service.Service + ".conf");
        var probe = ServiceResolver.ResolveAnyNode(doc, service.Service);
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
        checks.AddRange(Images(resolved, records.Where(r => r.Service == service.Service).ToList(), runs ?? [], node));
        checks.Add(Config(doc, service.Service, node, service));
        checks.Add(Drill(service, runs ?? [], node, roster.Now));
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

    /// <summary>
    /// The images the containers need, in the DR node's daemon: a sync.docker send completes only once the target's daemon
    /// holds every image of the config it ran with, so the images of the config of the last successful one are there; an
    /// image the config names since then is not, until the next sync.
    /// </summary>
    static IEnumerable<ReadinessCheck> Images(ResolvedService resolved, IReadOnlyList<Syncs.SyncRecord> records, IReadOnlyList<WorkflowRun> runs, NodeName node)
    {
        var needed = resolved.Resources.OfType<DockerContainer>().Where(c => !c.Disabled && c.Image is not null).Select(c => c.Image!).Distinct().Order(StringComparer.Ordinal).ToList();
        if (needed.Count == 0)
            yield break;
        var syncs = resolved.Resources.OfType<DockerSync>().Where(s => !s.Disabled && s.Targets.Contains(node)).ToList();
        if (syncs.Count == 0)
        {
            yield return new("images", CheckLevel.Warn,
                $"no sync.docker sends {string.Join(", ", needed)} to {node}: make sure they are in its dockerd (docker load), or add a docker sync resource");
            yield break;
        }
        var last = records.Where(r => syncs.Any(s => s.Id.ToString() == r.Rid) && r.Target == node.Value).MaxBy(r => r.At);
        if (last is null)
        {
            yield return new("images", CheckLevel.Fail, $"the images ({string.Join(", ", needed)}) were never sent to {node}: a takeover there cannot start the containers; run a sync");
            yield break;
        }
        var run = runs.FirstOrDefault(r => r.Id == last.RunId);
        var sent = run is null ? null
            : ServiceResolver.Resolve(ConfigParser.Parse(run.ConfigText, resolved.Name + ".conf"), resolved.Name, node).Resources.OfType<DockerContainer>()
                .Where(c => !c.Disabled && c.Image is not null).Select(c => c.Image!).ToHashSet(StringComparer.Ordinal);
        var missing = sent is null ? [] : needed.Where(i => !sent.Contains(i)).ToList();
        yield return missing.Count == 0
            ? new("images", CheckLevel.Ok, $"{string.Join(", ", needed)} are in the dockerd of {resolved.Name} on {node} (checked by the sync of {last.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z)")
            : new("images", CheckLevel.Fail, $"{string.Join(", ", missing)} named by the config since the last image sync to {node}: not there yet; run a sync before relying on a takeover");
    }

    /// <summary>The last successful drill on the node: when, and whether the config changed since (then it proves an older service).</summary>
    static ReadinessCheck Drill(ServiceActivity service, IReadOnlyList<WorkflowRun> runs, NodeName node, DateTimeOffset now)
    {
        var last = Drills.LastSuccessful(runs, service.Service, node);
        if (last is null)
            return new("drill", CheckLevel.Warn,
                $"{service.Service} was never drilled on {node}: nothing proves its DR copy starts there; run opensvc svc drill {service.Service} --node {node}");
        var when = $"the last successful drill on {node} ({RunTimeline.Short(last.Id)}) was {RunTimeline.Duration(now - (last.EndedAt ?? last.RequestedAt))} ago";
        return last.ConfigVersion == service.VersionLabel
            ? new("drill", CheckLevel.Ok, $"{when}, with the current config ({service.VersionLabel})")
            : new("drill", CheckLevel.Warn, $"{when}, with config {last.ConfigVersion}; it is now {service.VersionLabel}: needs a new drill (opensvc svc drill {service.Service} --node {node})");
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
