using MediatR;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Workflows.Runs;

/// <summary>Start a workflow run for an accepted plan. Refused while another mutating run holds the service.</summary>
public sealed record SubmitRun(Plan Plan, string RequestedBy, string? Reason, bool Force, string ConfigText, string? ConfigVersion = null) : IRequest<SubmitResult>;

public sealed record SubmitResult(Guid RunId, bool Accepted, string? Refusal, Guid? RunInFlight);

public sealed class SubmitRunHandler(RunWriter writer) : IRequestHandler<SubmitRun, SubmitResult>
{
    public Task<SubmitResult> Handle(SubmitRun request, CancellationToken cancellationToken) => writer.StartAsync(request, cancellationToken);
}
