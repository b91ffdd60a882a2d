using System.ComponentModel;
using Hangfire;
using Marten;
using MediatR;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Runs;

/// <summary>
/// Cleans up the drills that are due (<see cref="Drills.DueForCleanup"/>): kept past --keep, or left half-done by a
/// failure or a crash. Each cleanup is an ordinary drill-cleanup run requested by <see cref="Requester"/> with the reason;
/// a service busy with another run is left for the next pass. <paramref name="Service"/> limits it to one service.
/// </summary>
public sealed record CleanUpDrills(string? Service = null) : IRequest<IReadOnlyList<Guid>>
{
    /// <summary>Who the audit trail names as the requester of cleanups nobody typed.</summary>
    public const string Requester = "reconciler";
}

public sealed class CleanUpDrillsHandler(IDocumentStore store, IMediator mediator, TimeProvider time, ILogger<CleanUpDrillsHandler> log)
    : IRequestHandler<CleanUpDrills, IReadOnlyList<Guid>>
{
    public async Task<IReadOnlyList<Guid>> Handle(CleanUpDrills request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        IReadOnlyList<WorkflowRun> runs;
        Dictionary<string, ServiceActivity> services;
        await using (var query = store.QuerySession())
        {
            IQueryable<WorkflowRun> q = query.Query<WorkflowRun>()
                .Where(r => r.Action == ServiceAction.Drill || r.Action == ServiceAction.DrillCleanup);
            if (request.Service is { } only)
                q = q.Where(r => r.Service == only);
            runs = await q.ToListAsync(cancellationToken).ConfigureAwait(false);
            services = (await query.Query<ServiceActivity>().ToListAsync(cancellationToken).ConfigureAwait(false))
                .ToDictionary(s => s.Service, StringComparer.Ordinal);
        }
        var started = new List<Guid>();
        foreach (var due in Drills.DueForCleanup(runs, time.GetUtcNow()))
        {
            // A deleted service has nothing to plan from; a busy one is tried again at the next pass, not refused on record.
            if (!services.TryGetValue(due.Service, out var service) || !service.Exists || service.ActiveRun is not null)
                continue;
            var result = await mediator.Send(new RequestAction(
                new ActionRequest(due.Service, ServiceAction.DrillCleanup, due.Node, CleanUpDrills.Requester) { Reason = due.Why }), cancellationToken).ConfigureAwait(false);
            if (result is ActionAccepted { RunId: { } id })
            {
                log.LogInformation("run {RunId}: drill-cleanup of {Service} on {Node}: {Why}", id, due.Service, due.Node, due.Why);
                started.Add(id);
            }
            else
            {
                log.LogWarning("drill-cleanup of {Service} on {Node} not started: {Result}", due.Service, due.Node, (result as ActionRefused)?.Refusal ?? result.GetType().Name);
            }
        }
        return started;
    }
}

/// <summary>Hangfire adapter: the delayed job a drill with --keep schedules for the end of its keep period.</summary>
public sealed class DrillKeepJob(IMediator mediator)
{
    [DisplayName("clean up the drills of {0} kept past --keep")]
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(string service, CancellationToken cancellationToken) => mediator.Send(new CleanUpDrills(service), cancellationToken);
}
