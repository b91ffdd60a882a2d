using Marten;
using MediatR;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Workflows.Runs;

/// <summary>
/// Marten and Hangfire commit separately. This finds steps that were scheduled but never reached a queue (or whose
/// job a worker fetched and then never started), steps this agent started and lost (its lease lapsed during them, or
/// their job died), and steps started by another agent instance that is gone or whose lease has expired, by the
/// database's clock, long enough ago that it has fenced itself; records why, and enqueues them again as new executions.
/// Safe to run anywhere, any time: steps are idempotent and claims and outcomes are fenced by the execution number.
/// The thresholds come from the agent's configuration (<c>EngineOptions.Reconcile</c>), the only place they are set.
/// </summary>
public sealed record ReconcileRuns(TimeSpan ScheduledGrace, TimeSpan AgentDeadAfter) : IRequest<ReconcileReport>;

public sealed record ReconcileReport(int ActiveRuns, int Requeued, int Advanced);

public sealed class ReconcileRunsHandler(
    IDocumentStore store, RunWriter writer, IStepDispatcher dispatcher, IDatabaseClock clock, AgentIdentity self, AgentLease lease)
    : IRequestHandler<ReconcileRuns, ReconcileReport>
{
    public async Task<ReconcileReport> Handle(ReconcileRuns request, CancellationToken cancellationToken)
    {
        IReadOnlyList<WorkflowRun> active;
        IReadOnlyList<AgentHeartbeat> agents;
        await using (var query = store.QuerySession())
        {
            active = await query.Query<WorkflowRun>().Where(r => r.Status == RunStatus.Running).ToListAsync(cancellationToken).ConfigureAwait(false);
            agents = await query.Query<AgentHeartbeat>().ToListAsync(cancellationToken).ConfigureAwait(false);
        }
        int requeued = 0, advanced = 0;
        QueuedSteps? queued = null; // read once, and only when a step looks stale
        var now = await clock.NowAsync(cancellationToken).ConfigureAwait(false);
        var requeueAfter = AgentLiveness.RequeueAfter(request.AgentDeadAfter);
        foreach (var candidate in active)
        {
            var reasons = new List<(StepState Step, string Because)>();
            foreach (var s in candidate.Steps)
            {
                if (s.Status == StepStatus.Scheduled && s.ScheduledAt is { } at && now - at > request.ScheduledGrace
                    && (s.NotBefore is null || s.NotBefore < now - request.ScheduledGrace)
                    && !IsLive(queued ??= dispatcher.QueuedSteps(request.ScheduledGrace), candidate.Id, s))
                    reasons.Add((s, queued.StalledSince.TryGetValue((candidate.Id, s.Step.Index, s.Execution), out var fetched)
                        ? $"scheduled at {at:O}; a worker of queue {s.Step.Node.QueueName} fetched its job at {fetched:O} but never started it"
                        : $"scheduled at {at:O} but not in queue {s.Step.Node.QueueName}"));
                else if (s.Status == StepStatus.Running && s.Agent is { } instance)
                {
                    if (instance == self.Instance)
                    {
                        // Ours: only this agent knows whether it still runs it, and it does not.
                        if (lease.IsHeld && !lease.IsRunning(candidate.Id, s.Step.Index, s.Execution) && !lease.IsRunning(candidate.Id, s.Step.Index, -1))
                            reasons.Add((s, $"execution {s.Execution} on {instance} ended without an outcome (cut off when the agent lost its lease, or its job died)"));
                        continue;
                    }
                    var live = agents.FirstOrDefault(a => a.Id == s.Step.Node.Value);
                    if (live is null || live.Instance != instance)
                        reasons.Add((s, $"agent {instance} that started it is gone{(live is null ? "" : $" (node {live.Id} now runs {live.Instance})")}"));
                    else if (now - live.LastSeen > requeueAfter)
                        reasons.Add((s, $"agent {instance} stopped answering: last heartbeat {live.LastSeen:O}, its lease lapsed and it cancelled its steps"));
                }
            }
            // Most active runs have a step in flight and nothing stale: nothing to read again or write. (The pass
            // used to fetch every active run for writing, twice a pass per agent: as many document loads as steps.)
            if (reasons.Count == 0 && (candidate.Steps.Any(s => s.Status is StepStatus.Scheduled or StepStatus.Running)
                                       || RunDecider.Advance(candidate, now).Count == 0))
                continue;
            var changed = await RequeueAsync(candidate.Id, reasons, cancellationToken).ConfigureAwait(false);
            requeued += changed.Requeued;
            advanced += changed.Advanced;
        }
        return new ReconcileReport(active.Count, requeued, advanced);
    }

    /// <summary>A job for this execution of the step waits or runs (or one of the old signature, which carries no execution).</summary>
    static bool IsLive(QueuedSteps queued, Guid runId, StepState s) =>
        queued.Live.Contains((runId, s.Step.Index, s.Execution)) || queued.Live.Contains((runId, s.Step.Index, -1));

    async Task<(int Requeued, int Advanced)> RequeueAsync(Guid runId, List<(StepState Step, string Because)> reasons, CancellationToken ct)
    {
        var write = await writer.AppendAsync(runId, (run, now) =>
        {
            if (run.IsFinished)
                return [];
            var events = new List<object>();
            foreach (var (step, because) in reasons)
            {
                var current = run.Steps[step.Step.Index];
                if (current.Status != step.Status || current.Execution != step.Execution || current.Agent != step.Agent)
                    continue; // it moved on since we looked
                // A cancelled run starts nothing more: what would be requeued is abandoned, so the run can end.
                events.Add(run.CancelRequested
                    ? new StepAbandoned(runId, step.Step.Index, step.Execution, now, because)
                    : new StepRequeued(runId, step.Step.Index, step.Attempt, now, because));
            }
            var after = events.Aggregate(run, (r, e) => r.Then(e));
            if (!after.Steps.Any(s => s.Status is StepStatus.Scheduled or StepStatus.Running))
                events.AddRange(RunDecider.Advance(after, now));
            return events;
        }, ct).ConfigureAwait(false);
        var requeued = write.Events.Count(e => e is StepRequeued or StepAbandoned);
        return (requeued, write.Events.Count - requeued);
    }
}
