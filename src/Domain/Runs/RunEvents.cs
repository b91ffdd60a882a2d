using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Runs;

// Events of a workflow run stream, past tense, facts only. Their stored names are registered
// explicitly (see RunEventNames) so renaming a class never orphans history.

/// <summary>First event of every run: who asked what, why, when, against which config, and the whole plan.</summary>
public sealed record RunRequested(
    Guid RunId,
    string Service,
    ServiceAction Action,
    NodeName Node,
    NodeName? To,
    string RequestedBy,
    string? Reason,
    bool Force,
    DateTimeOffset At,
    string ConfigVersion,
    string ConfigText,
    Plan Plan);

/// <summary>A request the planner or a guard refused: recorded so the audit trail shows refusals too.</summary>
public sealed record RunRefused(
    Guid RunId,
    string Service,
    ServiceAction Action,
    NodeName Node,
    string RequestedBy,
    string? Reason,
    string Refusal,
    DateTimeOffset At);

public sealed record StepScheduled(Guid RunId, int Step, int Attempt, NodeName Node, string Queue, DateTimeOffset At, DateTimeOffset? NotBefore);

/// <summary>An agent instance claimed execution <paramref name="Execution"/> of the step (0 in streams recorded before executions were numbered).</summary>
public sealed record StepStarted(Guid RunId, int Step, int Attempt, NodeName Node, string Agent, DateTimeOffset At, int Execution = 0);

public sealed record StepSucceeded(
    Guid RunId, int Step, int Attempt, DateTimeOffset At, TimeSpan Duration, bool Changed, string Output,
    IReadOnlyDictionary<string, long>? Metrics);

public sealed record StepFailed(Guid RunId, int Step, int Attempt, DateTimeOffset At, TimeSpan Duration, string Error, string Output);

public sealed record StepTimedOut(Guid RunId, int Step, int Attempt, DateTimeOffset At, TimeSpan Timeout);

/// <summary>A failed or timed-out attempt will be tried again after a backoff (per-step policy).</summary>
public sealed record StepRetried(Guid RunId, int Step, int NextAttempt, DateTimeOffset At, TimeSpan Backoff);

/// <summary>The reconciler put a step back in the queue: never enqueued, or its agent died while running it.</summary>
public sealed record StepRequeued(Guid RunId, int Step, int Attempt, DateTimeOffset At, string Because);

/// <summary>
/// The outcome of a superseded execution arrived after the run moved on (the step was requeued as a new execution, or
/// the run ended): recorded for the audit trail, and ignored.
/// </summary>
public sealed record StepOutcomeIgnored(Guid RunId, int Step, int Execution, bool Succeeded, string? Error, DateTimeOffset At, string Why);

/// <summary>
/// A step that will never run: scheduled when its run was cancelled, or waiting on (or started by) an agent that is
/// gone. It ends failed, with the reason, so the run can end.
/// </summary>
public sealed record StepAbandoned(Guid RunId, int Step, int Execution, DateTimeOffset At, string Reason);

/// <summary>A compensation step and the step it undoes.</summary>
public sealed record CompensationStep(PlanStep Step, int Compensates);

/// <summary>A start failed: these stops undo what this run started (OpenSVC's rollback).</summary>
public sealed record CompensationPlanned(Guid RunId, int FailedStep, IReadOnlyList<CompensationStep> Steps, DateTimeOffset At);

public sealed record StepCompensated(Guid RunId, int Step, int ByStep, DateTimeOffset At);

public sealed record RunCompleted(Guid RunId, DateTimeOffset At);

public sealed record RunFailed(Guid RunId, DateTimeOffset At, int? FailedStep, string Reason, bool RolledBack);

public sealed record RunCancelRequested(Guid RunId, string By, string? Reason, DateTimeOffset At);

public sealed record RunCancelled(Guid RunId, DateTimeOffset At);

/// <summary>The stored event type names. Changing one needs an upcaster; golden streams in tests enforce it.</summary>
public static class RunEventNames
{
    public static readonly IReadOnlyDictionary<Type, string> All = new Dictionary<Type, string>
    {
        [typeof(RunRequested)] = "run_requested",
        [typeof(RunRefused)] = "run_refused",
        [typeof(StepScheduled)] = "step_scheduled",
        [typeof(StepStarted)] = "step_started",
        [typeof(StepSucceeded)] = "step_succeeded",
        [typeof(StepFailed)] = "step_failed",
        [typeof(StepTimedOut)] = "step_timed_out",
        [typeof(StepRetried)] = "step_retried",
        [typeof(StepRequeued)] = "step_requeued",
        [typeof(StepOutcomeIgnored)] = "step_outcome_ignored",
        [typeof(StepAbandoned)] = "step_abandoned",
        [typeof(RecoveryMeasured)] = "recovery_measured",
        [typeof(CompensationPlanned)] = "compensation_planned",
        [typeof(StepCompensated)] = "step_compensated",
        [typeof(RunCompleted)] = "run_completed",
        [typeof(RunFailed)] = "run_failed",
        [typeof(RunCancelRequested)] = "run_cancel_requested",
        [typeof(RunCancelled)] = "run_cancelled",
        [typeof(ServiceRunStarted)] = "service_run_started",
        [typeof(ServiceRunEnded)] = "service_run_ended",
        [typeof(ServiceConfigured)] = "service_configured",
        [typeof(ServiceDeleted)] = "service_deleted",
        [typeof(ProtectionReversed)] = "protection_reversed",
        [typeof(ProtectionRestored)] = "protection_restored",
        [typeof(ServiceFrozen)] = "service_frozen",
        [typeof(ServiceThawed)] = "service_thawed",
    };
}

// Events of a service's own stream: its version is the "one mutating run per service" lock.

public sealed record ServiceRunStarted(string Service, Guid RunId, ServiceAction Action, DateTimeOffset At);

public sealed record ServiceRunEnded(string Service, Guid RunId, RunStatus Status, DateTimeOffset At);

/// <summary>A new version of a service's configuration, with who, when and what changed.</summary>
public sealed record ServiceConfigured(string Service, int Version, string ConfigText, string ConfigHash, string By, DateTimeOffset At, string Diff);

public sealed record ServiceDeleted(string Service, int Version, string By, DateTimeOffset At);

/// <summary>
/// A reprotect run completed: from now on <paramref name="From"/> (the DR node the service was taken over on) sends to
/// <paramref name="To"/>, the explicit, audited exception to "a DR node never sends over production". Appended to the
/// service's stream in the transaction that ends the run.
/// </summary>
public sealed record ProtectionReversed(string Service, NodeName From, IReadOnlyList<NodeName> To, Guid RunId, string By, DateTimeOffset At);

/// <summary>A giveback run completed: the service runs on <paramref name="Node"/> again and its protection is back to normal.</summary>
public sealed record ProtectionRestored(string Service, NodeName Node, NodeName From, Guid RunId, string By, DateTimeOffset At);

/// <summary>
/// An operator froze the service (<paramref name="Node"/> null) or its instance on one node: the orchestrator starts
/// nothing there by itself until a thaw. Manual actions are not blocked (OpenSVC's freeze only stops the orchestrator).
/// </summary>
public sealed record ServiceFrozen(string Service, NodeName? Node, string By, string? Reason, DateTimeOffset At);

/// <summary>An operator thawed the service (<paramref name="Node"/> null) or its instance on one node.</summary>
public sealed record ServiceThawed(string Service, NodeName? Node, string By, string? Reason, DateTimeOffset At);

/// <summary>Who froze something, when, and why (the reason is optional).</summary>
public sealed record FreezeMark(string By, DateTimeOffset At, string? Reason)
{
    /// <summary>"frozen since 2026-12-02 11:20:00Z by alice (maintenance)".</summary>
    public string Describe() =>
        $"frozen since {At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)} by {By}{(Reason is { Length: > 0 } r ? $" ({r})" : "")}";
}
