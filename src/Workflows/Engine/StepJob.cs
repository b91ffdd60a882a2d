using System.ComponentModel;
using Hangfire;
using MediatR;
using OpenSvc.Domain.Planning;
using OpenSvc.Workflows.Steps;

namespace OpenSvc.Workflows.Engine;

/// <summary>
/// The Hangfire job: ids in, one MediatR Send out. Its signature is stored with every queued job,
/// so it is a contract: add a new method rather than change this one.
/// Hangfire's automatic retry is off: retries are workflow policy, recorded as events.
/// </summary>
public sealed class StepJob(IMediator mediator)
{
    [DisplayName("{4}")]
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public Task RunAsync(Guid runId, int step, int attempt, ResourceAction action, string label, CancellationToken cancellationToken) =>
        action switch
        {
            ResourceAction.Start => mediator.Send(new StartResource(runId, step, attempt), cancellationToken),
            ResourceAction.Stop => mediator.Send(new StopResource(runId, step, attempt), cancellationToken),
            ResourceAction.StartStandby => mediator.Send(new StartStandbyResource(runId, step, attempt), cancellationToken),
            ResourceAction.Sync => mediator.Send(new SyncResource(runId, step, attempt), cancellationToken),
            ResourceAction.PrepareReceive => mediator.Send(new PrepareSyncReceive(runId, step, attempt), cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(action), action, "unknown resource action"),
        };
}
