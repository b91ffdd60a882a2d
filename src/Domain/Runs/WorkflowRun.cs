using System.Collections.Immutable;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Runs;

public enum RunStatus { Running, Completed, Failed, Cancelled, Refused }

public enum StepStatus { Pending, Scheduled, Running, Succeeded, Failed, Compensated }

/// <summary>
/// One step as the run sees it now. Compensation steps carry the index of the step they undo. <see cref="Execution"/>
/// counts the times the step was put in a queue (scheduled, retried or requeued): each execution has its own number,
/// which its job carries and its claim and outcome must match, so a superseded execution can never claim the step
/// again nor record an outcome over a later one (its fencing token).
/// </summary>
public sealed record StepState(
    PlanStep Step,
    StepStatus Status,
    int Attempt,
    int? Compensates,
    DateTimeOffset? ScheduledAt,
    DateTimeOffset? NotBefore,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    string? Agent,
    bool Changed,
    string? Output,
    string? Error,
    bool TimedOut,
    IReadOnlyDictionary<string, long>? Metrics,
    int Execution = 0,
    bool Abandoned = false)
{
    public static StepState Planned(PlanStep step, int? compensates = null) =>
        new(step, StepStatus.Pending, 1, compensates, null, null, null, null, null, false, null, null, false, null);

    public TimeSpan? Duration => StartedAt is { } s && EndedAt is { } e ? e - s : null;
}

/// <summary>
/// A workflow run rebuilt from its events. Immutable: every Then returns a new value. (Named From/Then rather
/// than Create/Apply so Marten does not also discover them by convention: the projection calls them explicitly.)
/// </summary>
public sealed record WorkflowRun(
    Guid Id,
    string Service,
    ServiceAction Action,
    NodeName Node,
    NodeName? To,
    string RequestedBy,
    string? Reason,
    bool Force,
    DateTimeOffset RequestedAt,
    string ConfigVersion,
    string ConfigText,
    Plan Plan,
    ImmutableList<StepState> Steps,
    RunStatus Status,
    DateTimeOffset? EndedAt,
    string? Outcome,
    bool CancelRequested,
    bool Compensating,
    string? Refusal)
{
    public bool IsFinished => Status != RunStatus.Running;

    /// <summary>Outcomes of superseded executions that arrived late, recorded and ignored.</summary>
    public ImmutableList<StepOutcomeIgnored> LateOutcomes { get; init; } = [];

    /// <summary>What a completed takeover, switch, giveback or drill achieved: data age per synced copy (RPO) and RTO.</summary>
    public RecoveryMeasured? Recovery { get; init; }

    public static WorkflowRun From(RunRequested e) =>
        new(e.RunId, e.Service, e.Action, e.Node, e.To, e.RequestedBy, e.Reason, e.Force, e.At, e.ConfigVersion, e.ConfigText, e.Plan,
            e.Plan.Steps.Select(s => StepState.Planned(s)).ToImmutableList(), RunStatus.Running, null, null, false, false, null);

    public static WorkflowRun From(RunRefused e) =>
        new(e.RunId, e.Service, e.Action, e.Node, null, e.RequestedBy, e.Reason, false, e.At, "", "",
            new Plan(e.Service, e.Action, e.Node, null, false, []), [], RunStatus.Refused, e.At, e.Refusal, false, false, e.Refusal);

    public WorkflowRun Then(object @event) => @event switch
    {
        StepScheduled e => WithStep(e.Step, s => s with
        {
            Status = StepStatus.Scheduled, Attempt = e.Attempt, ScheduledAt = e.At, NotBefore = e.NotBefore, Execution = s.Execution + 1,
        }),
        StepStarted e => WithStep(e.Step, s => s with
        {
            Status = StepStatus.Running, Attempt = e.Attempt, StartedAt = e.At, EndedAt = null, Agent = e.Agent, Error = null, TimedOut = false,
        }),
        StepSucceeded e => WithStep(e.Step, s => s with
        {
            Status = StepStatus.Succeeded, EndedAt = e.At, Changed = e.Changed, Output = e.Output, Metrics = e.Metrics,
            StartedAt = s.StartedAt ?? e.At - e.Duration,
        }),
        StepFailed e => WithStep(e.Step, s => s with
        {
            Status = StepStatus.Failed, EndedAt = e.At, Error = e.Error, Output = e.Output, StartedAt = s.StartedAt ?? e.At - e.Duration,
        }),
        StepTimedOut e => WithStep(e.Step, s => s with { TimedOut = true }),
        StepRetried e => WithStep(e.Step, s => s with { Status = StepStatus.Pending, Attempt = e.NextAttempt }),
        StepRequeued e => WithStep(e.Step, s => s with { Status = StepStatus.Scheduled, ScheduledAt = e.At, NotBefore = null, Agent = null, Execution = s.Execution + 1 }),
        CompensationPlanned e => this with
        {
            Compensating = true,
            Steps = Steps.AddRange(e.Steps.Select(c => StepState.Planned(c.Step, c.Compensates))),
        },
        StepCompensated e => WithStep(e.Step, s => s with { Status = StepStatus.Compensated }),
        StepAbandoned e => WithStep(e.Step, s => s with
        {
            Status = StepStatus.Failed, EndedAt = e.At, Error = $"abandoned: {e.Reason}", StartedAt = s.StartedAt ?? e.At, Abandoned = true,
        }),
        StepOutcomeIgnored e => this with { LateOutcomes = LateOutcomes.Add(e) },
        RecoveryMeasured e => this with { Recovery = e },
        RunCompleted e => this with { Status = RunStatus.Completed, EndedAt = e.At, Outcome = "completed" },
        RunFailed e => this with { Status = RunStatus.Failed, EndedAt = e.At, Outcome = e.Reason },
        RunCancelRequested => this with { CancelRequested = true },
        RunCancelled e => this with { Status = RunStatus.Cancelled, EndedAt = e.At, Outcome = "cancelled" },
        _ => this,
    };

    WorkflowRun WithStep(int index, Func<StepState, StepState> change) =>
        index >= 0 && index < Steps.Count ? this with { Steps = Steps.SetItem(index, change(Steps[index])) } : this;

    /// <summary>Rebuilds a run from its events, in order.</summary>
    public static WorkflowRun? Replay(IEnumerable<object> events)
    {
        WorkflowRun? run = null;
        foreach (var e in events)
        {
            run = (run, e) switch
            {
                (null, RunRequested r) => From(r),
                (null, RunRefused r) => From(r),
                (null, _) => null,
                ({ } current, _) => current.Then(e),
            };
        }
        return run;
    }
}
