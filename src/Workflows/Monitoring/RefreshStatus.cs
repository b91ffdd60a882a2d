using Marten;
using MediatR;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Drivers;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Workflows.Monitoring;

/// <summary>
/// Probe every resource of the services this node serves (or of the services named) and store the instance
/// status, in one read and one write for all of them.
/// </summary>
public sealed record RefreshStatus(IReadOnlyCollection<string>? Services) : IRequest<int>
{
    public RefreshStatus(string? service) : this(service is null ? null : [service])
    {
    }
}

public sealed class RefreshStatusHandler(
    IDocumentStore store, ResolvedServices resolver, DriverRegistry drivers, AgentIdentity agent, TimeProvider time, ILogger<RefreshStatusHandler> log)
    : IRequestHandler<RefreshStatus, int>
{
    public async Task<int> Handle(RefreshStatus request, CancellationToken cancellationToken)
    {
        IReadOnlyList<ServiceActivity> services;
        await using (var query = store.QuerySession())
        {
            services = request.Services is { } some
                ? await query.LoadManyAsync<ServiceActivity>(cancellationToken, some.Distinct().Select(ServiceActivity.StreamId)).ConfigureAwait(false)
                : await query.Query<ServiceActivity>().Where(s => s.ConfigVersion > 0).ToListAsync(cancellationToken).ConfigureAwait(false);
        }
        var written = 0;
        await using var session = store.LightweightSession();
        foreach (var svc in services)
        {
            using var scope = log.BeginScope(new Dictionary<string, object> { ["Service"] = svc.Service, ["Node"] = agent.Node.Value });
            var key = InstanceStatusReport.Key(svc.Service, agent.Node.Value);
            if (!svc.Exists || svc.ConfigText is null)
            {
                session.Delete<InstanceStatusReport>(key);
                continue;
            }
            var resolved = resolver.Resolve(svc.ConfigText, svc.Service, agent.Node);
            if (resolved.Role == NodeRole.NotMember)
            {
                session.Delete<InstanceStatusReport>(key);
                continue;
            }
            // Stamped before probing: the report shows the resources as they were from that instant on, so a
            // step that ended after it is not taken as reflected (the planner waits for a later report).
            var probedAt = time.GetUtcNow();
            // While the protection is reversed to this node, its filesystems are mounted to receive, as a DR node's
            // standby ones are: they count as standby, so the instance reads "stdby up", not "partly up".
            var receiving = svc.Reversal?.To.Contains(agent.Node) == true;
            var resources = resolved.Resources.Select(r => receiving && r is FsResource ? r with { Standby = true } : r).ToList();
            // Syncs last: what a sync reports depends on whether the service runs here (OpenSVC's passive-node rule).
            var lines = new ResourceStatusLine?[resources.Count];
            for (var i = 0; i < lines.Length; i++)
                if (resources[i] is not SyncResource)
                    lines[i] = await ProbeAsync(resolved, resources[i], null, cancellationToken).ConfigureAwait(false);
            var availHere = InstanceStatus.Of(lines.OfType<ResourceStatusLine>().Select(l => new ResourceStatus(
                ResourceId.Parse(l.Rid), l.Status, l.Optional, false, l.Status == Status.Warn))).Avail;
            for (var i = 0; i < lines.Length; i++)
                lines[i] ??= await ProbeAsync(resolved, resources[i], availHere, cancellationToken).ConfigureAwait(false);
            var instance = InstanceStatus.Of(lines.Select(l => l!).Select(l => new ResourceStatus(
                ResourceId.Parse(l.Rid), l.Status, l.Optional, l.Driver.StartsWith("sync.", StringComparison.Ordinal), l.Status == Status.Warn)));
            session.Store(new InstanceStatusReport(key, svc.Service, agent.Node.Value, instance.Avail, instance.Overall, [.. lines.Select(l => l!)], svc.VersionLabel, probedAt));
            written++;
        }
        await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        return written;
    }

    async Task<ResourceStatusLine> ProbeAsync(ResolvedService svc, ServiceResource r, Status? availHere, CancellationToken ct)
    {
        if (r.Disabled)
            return new ResourceStatusLine(r.Id.ToString(), r.Driver, Status.NotApplicable, r.Standby, r.Optional, "disabled");
        var driver = drivers.Find(r.Driver);
        if (driver is null)
            return new ResourceStatusLine(r.Id.ToString(), r.Driver, Status.Undef, r.Standby, r.Optional, $"no driver for {r.Driver} on this agent");
        ResourceProbe probe;
        try
        {
            probe = await driver.ProbeAsync(svc, r, availHere, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning("status of {Service} {Rid} on {Node} failed: {Error}", svc.Name, r.Id, agent.Node, ex.Message);
            probe = new ResourceProbe(Status.Warn, $"probe failed: {ex.Message}");
        }
        var status = (r.Standby, probe.Status) switch
        {
            (true, Status.Up) => Status.StandbyUp,
            (true, Status.Down) => Status.StandbyDown,
            _ => probe.Status,
        };
        return new ResourceStatusLine(r.Id.ToString(), r.Driver, status, r.Standby, r.Optional, probe.Message);
    }
}
