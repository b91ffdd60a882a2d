using Marten;
using MediatR;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Infrastructure.Client;

/// <summary>The cluster client that talks to PostgreSQL directly, through the same MediatR handlers the agents use.</summary>
public sealed class DirectClusterClient(IMediator mediator, IDocumentStore store) : IClusterClient
{
    public Task<SubmitResult> SubmitAsync(SubmitRun request, CancellationToken cancellationToken) => mediator.Send(request, cancellationToken);

    public Task<Guid> RecordRefusalAsync(RecordRefusal refusal, CancellationToken cancellationToken) => mediator.Send(refusal, cancellationToken);

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

    public async Task<IReadOnlyList<AgentHeartbeat>> AgentsAsync(CancellationToken cancellationToken)
    {
        await using var session = store.QuerySession();
        return await session.Query<AgentHeartbeat>().OrderBy(a => a.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
    }
}
