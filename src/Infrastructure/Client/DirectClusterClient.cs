using Marten;
using MediatR;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;

namespace OpenSvc.Infrastructure.Client;

/// <summary>The cluster client that talks to PostgreSQL, through the same MediatR handlers the agents use. The API serves it.</summary>
public sealed class DirectClusterClient(IMediator mediator, IDocumentStore store, IDatabaseClock clock, LivenessOptions liveness) : IClusterClient
{
    public Task<ConfigureResult> ConfigureAsync(ConfigureService request, CancellationToken cancellationToken) => mediator.Send(request, cancellationToken);

    public Task<DeleteResult> DeleteServiceAsync(DeleteService request, CancellationToken cancellationToken) => mediator.Send(request, cancellationToken);

    public async Task<IReadOnlyList<ServiceActivity>> ServicesAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var all = await session.Query<ServiceActivity>().Where(s => s.ConfigVersion > 0).ToListAsync(cancellationToken).ConfigureAwait(false);
        return all.Where(s => s.Exists).OrderBy(s => s.Service, StringComparer.Ordinal).ToList();
    }

    public async Task<ServiceActivity?> ServiceAsync(string service, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var s = await session.LoadAsync<ServiceActivity>(ServiceActivity.StreamId(service), cancellationToken).ConfigureAwait(false);
        return s is { Exists: true } ? s : null;
    }

    public async Task<IReadOnlyList<ServiceConfigured>> ConfigHistoryAsync(string service, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var events = await session.Events.FetchStreamAsync(ServiceActivity.StreamId(service), token: cancellationToken).ConfigureAwait(false);
        return events.Select(e => e.Data).OfType<ServiceConfigured>().ToList();
    }

    public Task<ServiceStatusView?> StatusAsync(string service, CancellationToken cancellationToken) => mediator.Send(new GetServiceStatus(service), cancellationToken);

    public Task<Readiness?> ReadinessAsync(GetReadiness request, CancellationToken cancellationToken) => mediator.Send(request, cancellationToken);

    public Task<ActionResult> PlanAsync(ActionRequest request, CancellationToken cancellationToken) => mediator.Send(new PlanAction(request), cancellationToken);

    public Task<ActionResult> RequestActionAsync(ActionRequest request, CancellationToken cancellationToken) => mediator.Send(new RequestAction(request), cancellationToken);

    public async Task<IReadOnlyList<WorkflowRun>> ListRunsAsync(RunFilter filter, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await RunQueries.ListAsync(session, filter, cancellationToken).ConfigureAwait(false);
    }

    public async Task<(WorkflowRun? Run, string? Problem)> FindRunAsync(string idOrPrefix, CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await RunQueries.FindAsync(session, idOrPrefix, cancellationToken).ConfigureAwait(false);
    }

    public Task<CancelResult> CancelAsync(CancelRun request, CancellationToken cancellationToken) => mediator.Send(request, cancellationToken);

    public Task<IReadOnlyList<RecoveryReportRow>> RecoveryReportAsync(Workflows.Reports.GetRecoveryReport request, CancellationToken cancellationToken) =>
        mediator.Send(request, cancellationToken);

    public async Task<IReadOnlyList<AgentStatus>> AgentsAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        var roster = await AgentRoster.ReadAsync(session, clock, liveness, cancellationToken).ConfigureAwait(false);
        return roster.Agents.OrderBy(a => a.Id, StringComparer.Ordinal).Select(a => AgentStatus.Of(a, roster)).ToList();
    }

    public Task<FreezeResult> FreezeAsync(FreezeService request, CancellationToken cancellationToken) => mediator.Send(request, cancellationToken);

    public Task<FreezeResult> FreezeNodeAsync(FreezeNode request, CancellationToken cancellationToken) => mediator.Send(request, cancellationToken);
}
