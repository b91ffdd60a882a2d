using System.Diagnostics;
using Marten;
using MediatR;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
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
public sealed record ExecuteStep(Guid RunId, int Step, int Execution, int? Attempt = null) : IRequest<Unit>
{
    /// <summary>
    /// The run id of an agent's warm-up job: a step job of no run, which goes the whole way of a real one (queue, activation,
    /// lease, claim) up to finding no run, and is then ignored without a warning.
    /// </summary>
    public static readonly Guid WarmUpRun = new("00000000-0000-0000-0000-00000000a4a1"); // never a run's (runs are version 7 ids)
}

/// <summary>
/// Claims the step (StepStarted, through the run's one write path: a duplicate or superseded delivery appends
/// nothing and does nothing), calls its driver under the step's timeout with the service resolved for this node,
/// then records the outcome and whatever the policy decides next, which enqueues the next steps.
/// </summary>
public sealed class ExecuteStepHandler(
    IDocumentStore store,
    RunWriter writer,
    ResolvedServices services,
    DriverRegistry drivers,
    IFaultInjector faults,
    AgentIdentity agent,
    AgentLease lease,
    IStatusSignal statusSignal,
    TimeProvider time,
    ILogger<ExecuteStepHandler> log) : IRequestHandler<ExecuteStep, Unit>
{
    /// <summary>
    /// How long a job waits for this agent's lease before leaving its step to the reconciler: an agent that just started
    /// takes its first jobs before its first heartbeat is written (seconds on a loaded machine), and a job given up is
    /// only enqueued again by the reconciler.
    /// </summary>
    static readonly TimeSpan LeaseWait = TimeSpan.FromSeconds(30);

    public async Task<Unit> Handle(ExecuteStep request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!await lease.WaitHeldAsync(LeaseWait, cancellationToken).ConfigureAwait(false))
        {
            // Without a lease this agent may be cut off from the database: claiming could race a requeue by another agent.
            log.LogWarning("run {RunId} step {Step}: not claimed, this agent holds no lease (no heartbeat accepted lately); the reconciler enqueues it again",
                request.RunId, request.Step + 1);
            return Unit.Value;
        }
        // Marked as running here before it is claimed: a step this agent claimed and then lost is never taken for one it still runs.
        // (A job of the old signature carries no execution: -1 stands for whichever it claims.)
        var running = lease.Running(request.RunId, request.Step, request.Attempt is null ? request.Execution : -1);
        try
        {
            if (await ClaimAsync(request, cancellationToken).ConfigureAwait(false) is not var (run, state))
                return Unit.Value;
            using var scope = log.BeginScope(new Dictionary<string, object> { ["RunId"] = run.Id, ["Service"] = run.Service, ["Node"] = agent.Node.Value });
            // A segment: while the outcome of a step schedules the next one on this node, that step is claimed in the same
            // transaction and run here, without a trip through the queue. Each stays a step of its own: its events, timeout,
            // retry policy, fencing and cancellation point (a cancelled run claims nothing more).
            while (true)
            {
                using var fenced = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lease.Token);
                StepOutcome outcome;
                try
                {
                    outcome = await RunDriverAsync(run, state, fenced.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (lease.Token.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    // The agent fenced itself: the execution stopped, and nothing is recorded (the database may be out of reach).
                    // Once the lease is back, this agent's reconciler requeues the step as a new execution.
                    log.LogWarning("run {RunId} step {Step} execution {Execution}: cut off, this agent's lease lapsed", run.Id, state.Step.Index + 1, state.Execution);
                    return Unit.Value;
                }
                faults.At(FaultPoint.AfterEffectBeforeEvent, run.Id, state.Step.Index);
                StepState? next = null;
                IDisposable? nextRunning = null;
                var recorded = await writer.AppendAsync(run.Id, (current, now) =>
                {
                    var events = RunDecider.Outcome(current, outcome, now).ToList();
                    nextRunning?.Dispose();
                    (next, nextRunning) = (null, null);
                    if (NextHere(events.Aggregate(current, (r, e) => r.Then(e)), now) is { } following
                        && RunDecider.Start(events.Aggregate(current, (r, e) => r.Then(e)), following.Step.Index, following.Execution, agent.Instance, now) is { } started)
                    {
                        nextRunning = lease.Running(run.Id, following.Step.Index, following.Execution);
                        next = following;
                        events.Add(started);
                    }
                    return events;
                }, cancellationToken).ConfigureAwait(false);
                if (recorded.After is { IsFinished: true } ended && recorded.Before is { IsFinished: false })
                    log.LogInformation("run {RunId}: {Outcome}", run.Id, ended.Outcome);
                foreach (var ignored in recorded.Events.OfType<StepOutcomeIgnored>())
                    log.LogWarning("run {RunId} step {Step}: the outcome of execution {Execution} was recorded and ignored: {Why}", run.Id, ignored.Step + 1, ignored.Execution, ignored.Why);
                if (next is null || !recorded.Events.OfType<StepStarted>().Any(e => e.Step == next.Step.Index) || recorded.After is null)
                {
                    nextRunning?.Dispose();
                    // The node's status is refreshed once the segment leaves it, not after each of its steps: a report taken
                    // between two steps of a segment is stale at once, and planning waits for one taken after the last step.
                    statusSignal.Request(run.Service);
                    return Unit.Value;
                }
                running.Dispose();
                running = nextRunning!;
                (run, state) = (recorded.After, recorded.After.Steps[next.Step.Index]);
            }
        }
        finally
        {
            running.Dispose();
        }
    }

    /// <summary>
    /// The one step these events scheduled for now on this node, if the agent may go on with it here: the lease holds and
    /// it is the only step due (parallel branches and steps of other nodes go through the queues).
    /// </summary>
    StepState? NextHere(WorkflowRun after, DateTimeOffset now)
    {
        if (!lease.IsHeld || after.IsFinished || after.CancelRequested)
            return null;
        var due = after.Steps.Where(s => s.Status == StepStatus.Scheduled).ToList();
        return due is [{ } only] && only.Step.Node == agent.Node && (only.NotBefore is null || only.NotBefore <= now) ? only : null;
    }

    /// <summary>The fencing check drivers make before a side effect: this execution is still the step's current one, and the lease holds.</summary>
    async Task EnsureCurrentAsync(Guid runId, int step, int execution, CancellationToken ct)
    {
        if (!lease.IsHeld)
            throw new StepSupersededException($"execution {execution} stopped before acting: this agent's lease lapsed");
        await using var query = store.QuerySession();
        var run = await query.LoadAsync<WorkflowRun>(runId, ct).ConfigureAwait(false);
        var s = run is not null && step < run.Steps.Count ? run.Steps[step] : null;
        if (run is null || run.IsFinished || s is null || s.Status != StepStatus.Running || s.Execution != execution || s.Agent != agent.Instance)
            throw new StepSupersededException(
                $"execution {execution} stopped before acting: the run moved on ({(run is null ? "no such run" : run.IsFinished ? $"run {run.Status.ToString().ToLowerInvariant()}" : $"step {s?.Status.ToString().ToLowerInvariant()}, execution {s?.Execution}")})");
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
            if (request.RunId != ExecuteStep.WarmUpRun)
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
            var stepRun = new StepRun(run.Id, step, state.Attempt, resolved, node => services.Resolve(run.ConfigText, run.Service, node))
            {
                EnsureCurrent = token => EnsureCurrentAsync(run.Id, step.Index, state.Execution, token),
            };
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
