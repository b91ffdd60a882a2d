using System.Diagnostics;
using MediatR;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Drivers;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Workflows.Steps;

/// <summary>
/// Run execution <paramref name="Execution"/> of one step on this agent: the one step command, whatever the step's
/// action and driver. <paramref name="Attempt"/> is set only by jobs queued before executions were numbered (they
/// carried the attempt): such a job runs the step's current execution if its attempt still matches.
/// </summary>
public sealed record ExecuteStep(Guid RunId, int Step, int Execution, int? Attempt = null) : IRequest<Unit>;

/// <summary>
/// Claims the step (StepStarted, through the run's one write path: a duplicate or superseded delivery appends
/// nothing and does nothing), calls its driver under the step's timeout with the service resolved for this node,
/// then records the outcome and whatever the policy decides next, which enqueues the next steps.
/// </summary>
public sealed class ExecuteStepHandler(
    RunWriter writer,
    ResolvedServices services,
    DriverRegistry drivers,
    IFaultInjector faults,
    AgentIdentity agent,
    IStatusSignal statusSignal,
    TimeProvider time,
    ILogger<ExecuteStepHandler> log) : IRequestHandler<ExecuteStep, Unit>
{
    public async Task<Unit> Handle(ExecuteStep request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await ClaimAsync(request, cancellationToken).ConfigureAwait(false) is not var (run, state))
            return Unit.Value;
        using var scope = log.BeginScope(new Dictionary<string, object> { ["RunId"] = run.Id, ["Service"] = run.Service, ["Node"] = agent.Node.Value });
        var outcome = await RunDriverAsync(run, state, cancellationToken).ConfigureAwait(false);
        faults.At(FaultPoint.AfterEffectBeforeEvent, run.Id, state.Step.Index);
        var recorded = await writer.AppendAsync(run.Id, (current, now) => RunDecider.Outcome(current, outcome, now), cancellationToken).ConfigureAwait(false);
        if (recorded.After is { IsFinished: true } ended && recorded.Before is { IsFinished: false })
            log.LogInformation("run {RunId}: {Outcome}", run.Id, ended.Outcome);
        statusSignal.Request(run.Service);
        return Unit.Value;
    }

    async Task<(WorkflowRun Run, StepState Step)?> ClaimAsync(ExecuteStep request, CancellationToken ct)
    {
        string? skipped = null;
        var write = await writer.AppendAsync(request.RunId, (run, now) =>
        {
            if (request.Step < 0 || request.Step >= run.Steps.Count)
            {
                skipped = "the run has no such step";
                return [];
            }
            var s = run.Steps[request.Step];
            if (s.Step.Node != agent.Node)
            {
                skipped = $"it belongs to node {s.Step.Node}, not {agent.Node}";
                return [];
            }
            var execution = request.Attempt is { } attempt
                ? (s.Status == StepStatus.Scheduled && s.Attempt == attempt ? s.Execution : -1)
                : request.Execution;
            if (RunDecider.Start(run, request.Step, execution, agent.Instance, now) is not { } started)
            {
                skipped = run.IsFinished
                    ? $"the run is {run.Status.ToString().ToLowerInvariant()}"
                    : $"already handled (step {s.Status.ToString().ToLowerInvariant()}, execution {s.Execution})";
                return [];
            }
            return [started];
        }, ct).ConfigureAwait(false);
        if (write.Before is null)
        {
            log.LogWarning("run {RunId} does not exist: job ignored", request.RunId);
            return null;
        }
        if (write.Events.Count == 0)
        {
            log.LogInformation("run {RunId} step {Step} execution {Execution}: skipped, {Why}", request.RunId, request.Step + 1, request.Execution, skipped);
            return null;
        }
        return (write.After!, write.After!.Steps[request.Step]);
    }

    async Task<StepOutcome> RunDriverAsync(WorkflowRun run, StepState state, CancellationToken ct)
    {
        var step = state.Step;
        var sw = Stopwatch.StartNew();
        StepOutcome Outcome(bool succeeded, bool timedOut = false, bool changed = false, string output = "", string? error = null,
            IReadOnlyDictionary<string, long>? metrics = null, bool permanent = false) =>
            new(step.Index, state.Attempt, succeeded, timedOut, changed, OutputTail.Of(output), error, sw.Elapsed, metrics, permanent, state.Execution);

        using var timeout = new CancellationTokenSource(step.Policy.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            faults.At(FaultPoint.DuringStep, run.Id, step.Index);
            var resolved = services.Resolve(run.ConfigText, run.Service, agent.Node);
            var resource = ResolvedServices.ResourceOf(resolved, step.Rid);
            var stepRun = new StepRun(run.Id, step, state.Attempt, resolved, node => services.Resolve(run.ConfigText, run.Service, node));
            var result = await drivers.RunAsync(stepRun, resource, linked.Token).ConfigureAwait(false);
            log.LogInformation("run {RunId} step {Step} {Action} {Rid}: done in {Elapsed} ({Changed})",
                run.Id, step.Index + 1, ActionWords.Of(step.Action), step.Rid, sw.Elapsed, result.Changed ? "changed" : "already in place");
            return Outcome(true, changed: result.Changed, output: result.Output, metrics: result.Metrics);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            log.LogWarning("run {RunId} step {Step}: timed out after {Timeout}", run.Id, step.Index + 1, step.Policy.Timeout);
            return Outcome(false, timedOut: true, error: $"timed out after {step.Policy.Timeout}");
        }
        catch (StepFailedException ex)
        {
            log.LogWarning("run {RunId} step {Step}: {Error}", run.Id, step.Index + 1, ex.Message);
            return Outcome(false, output: ex.Output, error: ex.Message, permanent: ex.Permanent);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is not OperationCanceledException)
        {
            log.LogError(ex, "run {RunId} step {Step}: driver error", run.Id, step.Index + 1);
            return Outcome(false, error: $"{ex.GetType().Name}: {ex.Message}");
        }
    }
}
