using MediatR;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Runs;

/// <summary>Ask a run to stop at the next step boundary: pending steps never start, a running step finishes.</summary>
public sealed record CancelRun(Guid RunId, string By, string? Reason) : IRequest<CancelResult>;

public sealed record CancelResult(bool Found, bool Accepted, string Message);

public sealed class CancelRunHandler(RunWriter writer) : IRequestHandler<CancelRun, CancelResult>
{
    public async Task<CancelResult> Handle(CancelRun request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var write = await writer.AppendAsync(request.RunId, (run, now) => RunDecider.Cancel(run, request.By, request.Reason, now), cancellationToken)
            .ConfigureAwait(false);
        return write switch
        {
            { Before: null } => new CancelResult(false, false, $"no run {request.RunId}"),
            { Before.IsFinished: true } => new CancelResult(true, false, $"run {request.RunId} already ended: {write.Before.Status.ToString().ToLowerInvariant()}"),
            { Events.Count: 0 } => new CancelResult(true, true, $"run {request.RunId}: cancellation already requested"),
            { After.IsFinished: true } => new CancelResult(true, true, $"run {request.RunId} cancelled"),
            _ => new CancelResult(true, true, $"run {request.RunId}: cancellation requested; the running step finishes, no further step starts"),
        };
    }
}
