using System.ComponentModel;
using Hangfire;
using MediatR;
using OpenSvc.Domain.Planning;
using OpenSvc.Workflows.Steps;

namespace OpenSvc.Workflows.Engine;

/// <summary>
/// The Hangfire job of a step: ids in, one MediatR Send out. Its signature is stored with every queued job, so it is
/// a contract: add a new method rather than change one. Hangfire's automatic retry is off: retries are workflow
/// policy, recorded as events.
/// </summary>
public sealed class StepJob(IMediator mediator)
{
    /// <summary>
    /// A step job of no run (<see cref="ExecuteStep.WarmUpRun"/>) for <paramref name="queue"/>: it takes a real step's
    /// whole path (queue, activation, step handler, lease, claim read) and ends finding no run. Warm-ups use it.
    /// </summary>
    public static Hangfire.Common.Job WarmUp(string label, string queue) =>
        new(typeof(StepJob), typeof(StepJob).GetMethod(nameof(ExecuteAsync))!, [ExecuteStep.WarmUpRun, 0, 0, label, CancellationToken.None], queue);

    /// <summary>Runs execution <paramref name="execution"/> of a step (its fencing token); the label names it in the dashboard.</summary>
    [DisplayName("{3}")]
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public Task ExecuteAsync(Guid runId, int step, int execution, string label, CancellationToken cancellationToken) =>
        mediator.Send(new ExecuteStep(runId, step, execution), cancellationToken);

    /// <summary>
    /// The job of agents before step executions were numbered (it carried the attempt and the action): kept so that jobs
    /// still queued by them run. The action is taken from the plan, as it always should have been.
    /// </summary>
    [DisplayName("{4}")]
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    public Task RunAsync(Guid runId, int step, int attempt, ResourceAction action, string label, CancellationToken cancellationToken) =>
        mediator.Send(new ExecuteStep(runId, step, Execution: 0, Attempt: attempt), cancellationToken);
}
