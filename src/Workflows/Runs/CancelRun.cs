using Marten;
using MediatR;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Workflows.Runs;

/// <summary>Ask a run to stop at the next step boundary: pending steps never start, a running step finishes.</summary>
public sealed record CancelRun(Guid RunId, string By, string? Reason) : IRequest<CancelResult>;

public sealed record CancelResult(bool Found, bool Accepted, string Message);

/// <remarks>
/// Steps not started are abandoned at once; a step running on an agent that is gone (its node now runs another agent
/// process, or its lease expired) is abandoned with that reason, so a run never waits for good on a dead node.
/// </remarks>
public sealed class CancelRunHandler(IDocumentStore store, IDatabaseClock clock, LivenessOptions liveness, RunWriter writer) : IRequestHandler<CancelRun, CancelResult>
{
    public async Task<CancelResult> Handle(CancelRun request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        AgentRoster roster;
        await using (var query = store.QuerySession())
            roster = await AgentRoster.ReadAsync(query, clock, liveness, cancellationToken).ConfigureAwait(false);
        var write = await writer.AppendAsync(request.RunId, (run, now) => RunDecider.Cancel(run, request.By, request.Reason, now, roster.Gone), cancellationToken)
            .ConfigureAwait(false);
        return write switch
        {
            { Before: null } => new CancelResult(false, false, $"no run {request.RunId}"),
            { Before.IsFinished: true } => new CancelResult(true, false, $"run {request.RunId} already ended: {write.Before.Status.ToString().ToLowerInvariant()}"),
            { Events.Count: 0 } => new CancelResult(true, true,
                $"run {request.RunId}: cancellation already requested; waiting for {string.Join(", ", write.Before!.Steps.Where(s => s.Status == StepStatus.Running).Select(s => ActionWords.Describe(s)))} to finish"),
            { After.IsFinished: true } => new CancelResult(true, true, $"run {request.RunId} cancelled"),
            _ => new CancelResult(true, true, $"run {request.RunId}: cancellation requested; the running step finishes, no further step starts"),
        };
    }
}
