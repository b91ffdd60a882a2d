using System.ComponentModel;
using Hangfire;
using Marten;
using MediatR;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Workflows.Syncs;

/// <summary>
/// A scheduled sync of one resource: sent from where the service is up (flex: its flex primary), as a
/// normal workflow run; when it cannot be sent the refusal is recorded, never silently skipped.
/// </summary>
public sealed record ScheduledSync(string Service, string Rid) : IRequest<ActionResult>;

public sealed class ScheduledSyncHandler(IDocumentStore store, RequestActionHandler actions) : IRequestHandler<ScheduledSync, ActionResult>
{
    public async Task<ActionResult> Handle(ScheduledSync request, CancellationToken cancellationToken)
    {
        NodeName sender;
        await using (var query = store.QuerySession())
        {
            var reports = await query.Query<InstanceStatusReport>().Where(r => r.Service == request.Service).ToListAsync(cancellationToken).ConfigureAwait(false);
            var service = await query.LoadAsync<ServiceActivity>(ServiceActivity.StreamId(request.Service), cancellationToken).ConfigureAwait(false);
            if (service is not { Exists: true, ConfigText: not null })
                return new ActionResult(false, $"service {request.Service} does not exist", null, [], null, null, NotFound: true);
            var (view, _) = ServiceViewBuilder.From(Domain.Config.ConfigParser.Parse(service.ConfigText, request.Service + ".conf"), request.Service);
            var up = reports.Where(r => r.Avail == Status.Up).Select(r => new NodeName(r.Node)).ToList();
            sender = view?.Topology == Topology.Flex ? view.FlexPrimary
                : up.FirstOrDefault(n => view?.Nodes.Contains(n) == true) is { Value: not null } primary ? primary
                : up.FirstOrDefault() is { Value: not null } any ? any
                : view?.Nodes.FirstOrDefault() ?? new NodeName("unknown");
        }
        // The planner refuses (and the refusal is recorded) when the service is not up on the chosen node.
        return await actions.Handle(new RequestAction(new ActionRequest(request.Service, ServiceAction.Sync, sender, "scheduler",
            SyncRid: Domain.ResourceId.Parse(request.Rid))), cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The recurring job of a sync resource: ids in, one Send out.</summary>
public sealed class SyncScheduleJob(IMediator mediator)
{
    [DisplayName("scheduled sync {0} {1}")]
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(string service, string rid, CancellationToken cancellationToken) => mediator.Send(new ScheduledSync(service, rid), cancellationToken);
}
