using JasperFx;
using System.Diagnostics;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Workflows.Steps;

/// <summary>
/// Runs one attempt of one step on this agent: claims it (StepStarted, guarded by the stream version so a
/// duplicate delivery does nothing), calls the driver under the step's timeout, records the outcome and
/// whatever the policy decides next, then enqueues the next steps.
/// </summary>
public sealed class StepExecutor(
    IDocumentStore store,
    DriverRegistry drivers,
    IStepDispatcher dispatcher,
    IFaultInjector faults,
    AgentIdentity agent,
    Monitoring.IStatusSignal statusSignal,
    TimeProvider time,
    ILogger<StepExecutor> log)
{
    public async Task ExecuteAsync(Guid runId, int step, int attempt, ResourceAction expected, CancellationToken cancellationToken)
    {
        var claimed = await ClaimAsync(runId, step, attempt, cancellationToken).ConfigureAwait(false);
        if (claimed is null)
            return;
        var (run, planStep) = claimed.Value;
        using var scope = log.BeginScope(new Dictionary<string, object> { ["RunId"] = runId, ["Service"] = run.Service, ["Node"] = agent.Node.Value });
        if (planStep.Action != expected)
            log.LogWarning("step {Step} of run {RunId} is a {Action} but was delivered as {Expected}", step + 1, runId, planStep.Action, expected);

        var outcome = await RunDriverAsync(run, planStep, attempt, cancellationToken).ConfigureAwait(false);
        faults.At(FaultPoint.AfterEffectBeforeEvent, runId, step);
        await RecordAsync(runId, outcome, cancellationToken).ConfigureAwait(false);
        statusSignal.Request(run.Service);
    }

    async Task<(WorkflowRun Run, PlanStep Step)?> ClaimAsync(Guid runId, int step, int attempt, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<WorkflowRun>(runId, ct).ConfigureAwait(false);
        var run = stream.Aggregate;
        if (run is null)
        {
            log.LogWarning("run {RunId} does not exist: job ignored", runId);
            return null;
        }
        var started = RunDecider.Start(run, step, attempt, agent.Instance, time.GetUtcNow());
        if (started is null)
        {
            log.LogInformation("run {RunId} step {Step} attempt {Attempt}: already handled ({Status}), skipping duplicate delivery",
                runId, step + 1, attempt, step < run.Steps.Count ? run.Steps[step].Status : StepStatus.Pending);
            return null;
        }
        var planStep = run.Steps[step].Step;
        if (planStep.Node != agent.Node)
        {
            log.LogError("run {RunId} step {Step} belongs to node {StepNode}, not {Node}: job ignored", runId, step + 1, planStep.Node, agent.Node);
            return null;
        }
        stream.AppendOne(started);
        try
        {
            await session.SaveChangesAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ConcurrencyException or EventStreamUnexpectedMaxEventIdException)
        {
            log.LogInformation("run {RunId} step {Step}: claimed by another worker", runId, step + 1);
            return null;
        }
        return (run, planStep);
    }

    async Task<StepOutcome> RunDriverAsync(WorkflowRun run, PlanStep step, int attempt, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var driver = drivers.Find(step.Driver);
        if (driver is null)
        {
            return new StepOutcome(step.Index, attempt, false, false, false, "",
                $"no driver for resource type '{step.Driver}' on agent {agent.Node} (known: {string.Join(", ", drivers.Known.Order())})", sw.Elapsed);
        }
        using var timeout = new CancellationTokenSource(step.Policy.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        var context = new StepContext(run.Id, run.Service, step, attempt, run.ConfigText, agent.Node);
        try
        {
            faults.At(FaultPoint.DuringStep, run.Id, step.Index);
            var result = await driver.ExecuteAsync(step.Action, context, linked.Token).ConfigureAwait(false);
            log.LogInformation("run {RunId} step {Step} {Action} {Rid}: done in {Elapsed} ({Changed})",
                run.Id, step.Index + 1, step.Action, step.Rid, sw.Elapsed, result.Changed ? "changed" : "already in place");
            return new StepOutcome(step.Index, attempt, true, false, result.Changed, Tail(result.Output), null, sw.Elapsed, result.Metrics);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            log.LogWarning("run {RunId} step {Step}: timed out after {Timeout}", run.Id, step.Index + 1, step.Policy.Timeout);
            return new StepOutcome(step.Index, attempt, false, true, false, "", $"timed out after {step.Policy.Timeout}", sw.Elapsed);
        }
        catch (StepFailedException ex)
        {
            log.LogWarning("run {RunId} step {Step}: {Error}", run.Id, step.Index + 1, ex.Message);
            return new StepOutcome(step.Index, attempt, false, false, false, Tail(ex.Output), ex.Message, sw.Elapsed, Permanent: ex.Permanent);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is not OperationCanceledException)
        {
            log.LogError(ex, "run {RunId} step {Step}: driver error", run.Id, step.Index + 1);
            return new StepOutcome(step.Index, attempt, false, false, false, "", $"{ex.GetType().Name}: {ex.Message}", sw.Elapsed);
        }
    }

    async Task RecordAsync(Guid runId, StepOutcome outcome, CancellationToken ct)
    {
        // A concurrent append (a cancel request, the reconciler) moves the stream version: read again and re-decide.
        for (var tries = 1; ; tries++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<WorkflowRun>(runId, ct).ConfigureAwait(false);
            var run = stream.Aggregate!;
            var now = time.GetUtcNow();
            var events = RunDecider.Outcome(run, outcome, now);
            if (events.Count == 0)
                return;
            stream.AppendMany(events);
            await RunJournal.AppendAsync(session, run, events, now, ct).ConfigureAwait(false);
            foreach (var ok in events.OfType<StepSucceeded>())
                if (run.Steps[ok.Step].Step is { Action: ResourceAction.Sync, Target: { } target } sync)
                    session.Store(Syncs.LastSync.From(run, sync, target, ok)); // commits with the event: never ahead of or behind it
            try
            {
                await session.SaveChangesAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is ConcurrencyException or EventStreamUnexpectedMaxEventIdException) && tries < 10)
            {
                continue;
            }
            var after = events.Aggregate(run, (r, e) => r.Then(e));
            foreach (var end in events.Where(e => e is RunCompleted or RunFailed or RunCancelled))
                log.LogInformation("run {RunId}: {Outcome}", runId, after.Outcome);
            StepDispatch.DispatchAll(dispatcher, faults, run.Service, runId, events, after.Steps.Select(s => s.Step).ToList());
            return;
        }
    }

    static string Tail(string output, int max = 4000) => output.Length <= max ? output : output[^max..];
}
