using JasperFx;
using JasperFx.Events;
using Marten;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Workflows.Runs;

/// <summary>
/// How a write to a run stream reacts when another writer appended first (a cancel, the reconciler, a step of the
/// same run on another node): read the run again and decide again from what is now there, up to
/// <see cref="MaxTries"/> times, with a short, growing pause. The decision functions are pure and re-check the step
/// they act on, so deciding again is always safe.
/// </summary>
public sealed record ConcurrentWriteRetry(int MaxTries, TimeSpan FirstPause)
{
    public static readonly ConcurrentWriteRetry Default = new(10, TimeSpan.FromMilliseconds(2));

    public TimeSpan PauseBefore(int nextTry) => FirstPause * Math.Min(1 << Math.Min(nextTry - 2, 6), 64);

    public static bool IsConcurrentWrite(Exception ex) => ex is ConcurrencyException or EventStreamUnexpectedMaxEventIdException;
}

/// <summary>What one write did: the run before and after it (null when there is no such run) and the events appended.</summary>
public sealed record RunWrite(WorkflowRun? Before, WorkflowRun? After, IReadOnlyList<object> Events)
{
    public static readonly RunWrite NoSuchRun = new(null, null, []);
}

/// <summary>The decision of a write: the events to append to the run, given the run as it is now.</summary>
public delegate IReadOnlyList<object> RunDecision(WorkflowRun run, DateTimeOffset now);

/// <summary>
/// The one write path of run streams: fetch the run for writing, decide, append, release the service when the run
/// ends, store what commits with the events, save (retrying a concurrent write with <see cref="ConcurrentWriteRetry"/>),
/// then enqueue every step the new events scheduled, from the run's state after them. Every use case that writes a
/// run (submit, step claim and outcome, cancel, reconcile) goes through here.
/// </summary>
public sealed class RunWriter(
    IDocumentStore store, IStepDispatcher dispatcher, IFaultInjector faults, IDatabaseClock clock, LivenessOptions liveness, Drivers.ResolvedServices resolver,
    TimeProvider time, ILogger<RunWriter> log)
{
    public ConcurrentWriteRetry Retry { get; init; } = ConcurrentWriteRetry.Default;

    /// <summary>
    /// Writes to one run from this process take turns (striped by run id): steps of a run that run in parallel on one
    /// agent would otherwise meet as concurrent writes, each costing a failed save, a logged error and a new read.
    /// Writers in other processes are still met by the stream's version check and <see cref="Retry"/>.
    /// </summary>
    static readonly SemaphoreSlim[] Turns = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    static SemaphoreSlim TurnOf(Guid runId) => Turns[(runId.GetHashCode() & int.MaxValue) % Turns.Length];

    /// <summary>Appends what <paramref name="decide"/> returns to an existing run.</summary>
    public async Task<RunWrite> AppendAsync(Guid runId, RunDecision decide, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decide);
        var turn = TurnOf(runId);
        for (var attempt = 1; ; attempt++)
        {
            RunWrite? written;
            await turn.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                written = await TryAppendAsync(runId, decide, attempt, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                turn.Release();
            }
            if (written is null)
                continue;
            if (written.Events.Count > 0)
                Dispatch(written.After!, written.Events);
            return written;
        }
    }

    /// <summary>One read, decision and save of <see cref="AppendAsync"/>; null when another writer appended first.</summary>
    async Task<RunWrite?> TryAppendAsync(Guid runId, RunDecision decide, int attempt, CancellationToken cancellationToken)
    {
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<WorkflowRun>(runId, cancellationToken).ConfigureAwait(false);
        if (stream.Aggregate is null)
            return RunWrite.NoSuchRun;
        var run = stream.Aggregate;
        var now = time.GetUtcNow();
        var events = decide(run, now);
        if (events.Count == 0)
            return new RunWrite(run, run, events);
        events = await WithRecoveryAsync(session, run, events, now, cancellationToken).ConfigureAwait(false);
        stream.AppendMany(events);
        var after = Fold(run, events);
        await StoreConsequencesAsync(session, run, after, events, now, cancellationToken).ConfigureAwait(false);
        if (!await TrySaveAsync(session, attempt, cancellationToken).ConfigureAwait(false))
            return null;
        return new RunWrite(run, after, events);
    }

    /// <summary>
    /// Opens a run: takes the service (its stream version is the lock), appends the request with the whole plan and
    /// the first scheduled steps, then enqueues them. A service held by another run refuses, and the refusal is a run too.
    /// </summary>
    public async Task<SubmitResult> StartAsync(SubmitRun request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var plan = request.Plan;
        if (plan.ShapeProblem() is { } shape)
            throw new ArgumentException($"plan for {plan.Service} cannot run: {shape}", nameof(request));
        var runId = Guid.CreateVersion7();
        for (var attempt = 1; ; attempt++)
        {
            var now = time.GetUtcNow();
            WorkflowRun after;
            IReadOnlyList<object> events;
            await using (var session = store.LightweightSession())
            {
                var service = await session.Events.FetchForWriting<ServiceActivity>(ServiceActivity.StreamId(plan.Service), cancellationToken).ConfigureAwait(false);
                if (service.Aggregate?.ActiveRun is { } inFlight)
                {
                    (bool Ended, string? Why)? stuck = request.Force ? await EndStuckRunAsync(inFlight, request, cancellationToken).ConfigureAwait(false) : null;
                    if (stuck is { Ended: true })
                        continue; // the run that held the service waited only on dead nodes, and has ended: take the service now
                    var refusal = $"service {plan.Service} is busy: run {inFlight} is in flight; wait for it or cancel it (opensvc run cancel {inFlight})" +
                        (stuck?.Why is { } why ? $"; a forced request does not end it: {why}" : "");
                    await RefuseAsync(runId, new ActionRequest(plan.Service, plan.Action, plan.Node, request.RequestedBy) { Reason = request.Reason },
                        refusal, cancellationToken).ConfigureAwait(false);
                    return new SubmitResult(runId, false, refusal, inFlight);
                }
                var requested = new RunRequested(runId, plan.Service, plan.Action, plan.Node, plan.To, request.RequestedBy, request.Reason,
                    request.Force, now, request.ConfigVersion ?? ConfigHash.Of(request.ConfigText), request.ConfigText, plan);
                events = RunDecider.Begin(requested);
                session.Events.StartStream<WorkflowRun>(runId, events);
                service.AppendOne(new ServiceRunStarted(plan.Service, runId, plan.Action, now));
                var before = WorkflowRun.From(requested);
                after = Fold(before, events.Skip(1));
                await StoreConsequencesAsync(session, before, after, events, now, cancellationToken).ConfigureAwait(false);
                if (!await TrySaveAsync(session, attempt, cancellationToken).ConfigureAwait(false))
                    continue; // another request took or released the service between our read and our write: look again
            }
            log.LogInformation("run {RunId}: {Service} {Action} on {Node} requested by {RequestedBy}, {Steps} steps",
                runId, plan.Service, ActionWords.Of(plan.Action), plan.Node, request.RequestedBy, plan.Steps.Count);
            Dispatch(after, events);
            return new SubmitResult(runId, true, null, null);
        }
    }

    /// <summary>
    /// A takeover or switch that completes records what it achieved (<see cref="RecoveryMeasured"/>) just before its
    /// end, in the same transaction: the age of each synced copy on the destination at cut-over, from the sync records,
    /// and the recovery time; for a takeover, when the service went down if that is known (a stop run before it, or the
    /// last heartbeat of the primary whose agent stopped answering).
    /// </summary>
    async Task<IReadOnlyList<object>> WithRecoveryAsync(IDocumentSession session, WorkflowRun run, IReadOnlyList<object> events, DateTimeOffset now,
        CancellationToken ct)
    {
        var end = events.ToList().FindIndex(e => e is RunCompleted);
        if (end < 0 || !Recovery.Measures(run.Action))
            return events;
        var steps = events.Take(end).Aggregate(run, (r, e) => r.Then(e));
        var node = Recovery.Destination(steps);
        var resolved = resolver.Resolve(run.ConfigText, run.Service, node);
        // The copies the destination holds: sync resources whose target includes it, and those the run itself sent there
        // (a giveback's final sends over the reversed protection).
        var rids = resolved.Resources.OfType<SyncResource>().Where(x => !x.Disabled && x.Targets.Contains(node)).Select(x => x.Id.ToString())
            .Concat(steps.Steps.Where(s => s.Step is { Action: ResourceAction.Sync } sync && sync.Target == node && s.Compensates is null).Select(s => s.Step.Rid.ToString()))
            .Distinct().ToList();
        var records = await session.Query<Syncs.SyncRecord>().Where(x => x.Service == run.Service).ToListAsync(ct).ConfigureAwait(false);
        var syncs = records.Select(x => new LastSuccessfulSync(x.Rid, new NodeName(x.Target), x.At, x.RunId)).ToList();
        var down = run.Action == ServiceAction.Takeover ? await DownSinceAsync(session, run, node, ct).ConfigureAwait(false) : null;
        var measured = Recovery.Measure(steps, rids, syncs, down, now);
        return [.. events.Take(end), measured, .. events.Skip(end)];
    }

    /// <summary>When the service went down before this takeover, when the record says.</summary>
    async Task<DownSince?> DownSinceAsync(IDocumentSession session, WorkflowRun run, NodeName node, CancellationToken ct)
    {
        var service = await session.LoadAsync<ServiceActivity>(ServiceActivity.StreamId(run.Service), ct).ConfigureAwait(false);
        if (service?.LastRun is { } last && await session.LoadAsync<WorkflowRun>(last, ct).ConfigureAwait(false) is
            { Action: ServiceAction.Stop, Status: RunStatus.Completed, EndedAt: { } stopped } stop && stop.Node != node)
            return new DownSince(stopped, $"the stop run {RunTimeline.Short(stop.Id)} on {stop.Node}");
        var reports = await session.Query<Monitoring.InstanceStatusReport>().Where(x => x.Service == run.Service).ToListAsync(ct).ConfigureAwait(false);
        var roster = await AgentRoster.ReadAsync(session, clock, liveness, ct).ConfigureAwait(false);
        var lost = reports.Where(x => x.Node != node.Value && x.Avail is Status.Up or Status.Warn && !roster.IsAlive(x.Node))
            .Select(x => roster.Of(x.Node)).OfType<AgentHeartbeat>().MaxBy(a => a.LastSeen);
        return lost is null ? null : new DownSince(lost.LastSeen, $"the last heartbeat of {lost.Id}, where it was up and whose agent stopped answering");
    }

    /// <summary>
    /// A forced request (with its reason) ends the run holding the service when that run only waits on agents that are
    /// gone (the primary died during an hourly sync): its steps there are abandoned with the reason and the run ends
    /// cancelled, recorded as superseded. A run with a step still running on a live agent is never ended this way.
    /// </summary>
    async Task<(bool Ended, string? Why)> EndStuckRunAsync(Guid runId, SubmitRun request, CancellationToken ct)
    {
        AgentRoster roster;
        await using (var query = store.QuerySession())
            roster = await AgentRoster.ReadAsync(query, clock, liveness, ct).ConfigureAwait(false);
        string? why = null;
        var write = await AppendAsync(runId, (run, now) =>
        {
            var live = run.Steps.FirstOrDefault(s => s.Status == StepStatus.Running && roster.Gone(s) is null);
            if (live is not null)
            {
                var seen = roster.Of(live.Step.Node.Value) is { } a ? $"last heartbeat {RunTimeline.Duration(roster.Now - a.LastSeen)} ago" : "no heartbeat";
                why = $"{ActionWords.Describe(live)} may still be running on {live.Step.Node} ({seen}; a step is given up " +
                    $"{RunTimeline.Duration(AgentLiveness.RequeueAfter(roster.DeadAfter))} after its agent's last heartbeat)";
                return [];
            }
            return RunDecider.Cancel(run, request.RequestedBy,
                $"superseded by a forced {ActionWords.Of(request.Plan.Action)} on {request.Plan.Node}: {request.Reason}", now, roster.Gone);
        }, ct).ConfigureAwait(false);
        if (write.After is { IsFinished: true } && write.Events.Count > 0)
            log.LogWarning("run {RunId}: ended, superseded by a forced {Action} of {Service} ({Reason})", runId,
                ActionWords.Of(request.Plan.Action), request.Plan.Service, request.Reason);
        return (write.After?.IsFinished == true, why);
    }

    /// <summary>Records a refused request as a run of its own, so the audit trail shows refusals too.</summary>
    public async Task<Guid> RefuseAsync(Guid runId, ActionRequest request, string refusal, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var session = store.LightweightSession();
        session.Events.StartStream<WorkflowRun>(runId,
            new RunRefused(runId, request.Service, request.Action, request.Node, request.RequestedBy, request.Reason, refusal, time.GetUtcNow()));
        await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        log.LogWarning("run {RunId}: {Service} {Action} on {Node} refused: {Refusal}",
            runId, request.Service, ActionWords.Of(request.Action), request.Node, refusal);
        return runId;
    }

    async Task<bool> TrySaveAsync(IDocumentSession session, int attempt, CancellationToken ct)
    {
        try
        {
            await session.SaveChangesAsync(ct).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ConcurrentWriteRetry.IsConcurrentWrite(ex) && attempt < Retry.MaxTries)
        {
            await Task.Delay(Retry.PauseBefore(attempt + 1), time, ct).ConfigureAwait(false);
            return false;
        }
    }

    /// <summary>
    /// What commits in the same transaction as the events: the service's release when the run ends (so the lock and
    /// the outcome commit together), and the last successful sync of each sync step that succeeded (never ahead of or
    /// behind its event).
    /// </summary>
    static async Task StoreConsequencesAsync(IDocumentSession session, WorkflowRun before, WorkflowRun after, IReadOnlyList<object> events,
        DateTimeOffset now, CancellationToken ct)
    {
        if (!before.IsFinished && after.IsFinished && after.Status != RunStatus.Refused)
        {
            var service = await session.Events.FetchForWriting<ServiceActivity>(ServiceActivity.StreamId(after.Service), ct).ConfigureAwait(false);
            service.AppendOne(new ServiceRunEnded(after.Service, after.Id, after.Status, now));
            if (ProtectionChange(after, now) is { } change)
                service.AppendOne(change);
        }
        foreach (var ok in events.OfType<StepSucceeded>())
            if (after.Steps[ok.Step].Step is { Action: ResourceAction.Sync, Target: { } target } sync)
                session.Store(Syncs.SyncRecord.From(after, sync, target, ok));
    }

    /// <summary>
    /// The change of protection direction a completed reprotect or giveback makes, recorded on the service with who asked
    /// and the run: reprotect reverses it (its node sends to the plan's destination), giveback restores the normal one.
    /// </summary>
    static object? ProtectionChange(WorkflowRun run, DateTimeOffset now) => (run.Status, run.Action, run.To) switch
    {
        (RunStatus.Completed, ServiceAction.Reprotect, { } to) => new ProtectionReversed(run.Service, run.Node, [to], run.Id, run.RequestedBy, now),
        (RunStatus.Completed, ServiceAction.Giveback, { } to) => new ProtectionRestored(run.Service, to, run.Node, run.Id, run.RequestedBy, now),
        _ => null,
    };

    /// <summary>Enqueues every step the committed events scheduled or requeued, as the run stands after them.</summary>
    void Dispatch(WorkflowRun after, IReadOnlyList<object> events)
    {
        foreach (var e in events)
        {
            var (index, why) = e switch
            {
                StepScheduled s => (s.Step, (string?)null),
                StepRequeued r => (r.Step, r.Because),
                _ => (-1, null),
            };
            if (index < 0 || index >= after.Steps.Count)
                continue;
            var step = after.Steps[index];
            if (step.Status != StepStatus.Scheduled)
                continue; // scheduled and moved on within the same batch
            if (why is not null)
            {
                using var scope = log.BeginScope(new Dictionary<string, object> { ["RunId"] = after.Id, ["Service"] = after.Service, ["Node"] = step.Step.Node.Value });
                log.LogWarning("run {RunId}: step {Step} requeued: {Because}", after.Id, index + 1, why);
            }
            faults.At(FaultPoint.AfterScheduleBeforeEnqueue, after.Id, index);
            dispatcher.Dispatch(new StepDelivery(after.Id, index, step.Execution, step.Step.Node, step.NotBefore, ActionWords.Job(after.Service, after.Steps.Select(x => x.Step).ToList(), index)));
        }
    }

    static WorkflowRun Fold(WorkflowRun run, IEnumerable<object> events) => events.Aggregate(run, (r, e) => r.Then(e));
}
