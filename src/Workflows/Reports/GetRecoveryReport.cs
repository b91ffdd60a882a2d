using Marten;
using MediatR;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Reports;

/// <summary>Takeovers, switches and drills, newest first, with who, when, result, RTO and RPO: the report after a DR exercise.</summary>
public sealed record GetRecoveryReport(string? Service, DateTimeOffset? Since, int Limit = 500) : IRequest<IReadOnlyList<RecoveryReportRow>>;

public sealed class GetRecoveryReportHandler(IDocumentStore store) : IRequestHandler<GetRecoveryReport, IReadOnlyList<RecoveryReportRow>>
{
    public async Task<IReadOnlyList<RecoveryReportRow>> Handle(GetRecoveryReport request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var session = store.QuerySession();
        IQueryable<WorkflowRun> q = session.Query<WorkflowRun>()
            .Where(r => r.Status != RunStatus.Refused && (r.Action == ServiceAction.Takeover || r.Action == ServiceAction.Switch || r.Action == ServiceAction.Drill));
        if (request.Service is { } s)
            q = q.Where(r => r.Service == s);
        if (request.Since is { } since)
            q = q.Where(r => r.RequestedAt >= since);
        var runs = await q.OrderByDescending(r => r.RequestedAt).Take(Math.Clamp(request.Limit, 1, 10_000)).ToListAsync(cancellationToken).ConfigureAwait(false);
        return runs.Select(RecoveryReportRow.Of).ToList();
    }
}
