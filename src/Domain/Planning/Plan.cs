namespace OpenSvc.Domain.Planning;

/// <summary>
/// What an operator asks of a service. <see cref="Drill"/> starts the DR copy on a DR node in isolation (clones, drill
/// names, an isolated network) while production runs; <see cref="DrillCleanup"/> removes everything a drill created.
/// <see cref="Reprotect"/> reverses the protection after a takeover (the DR node sends to the preferred primary);
/// <see cref="Giveback"/> moves the service back there with a final sync and restores the normal direction.
/// </summary>
public enum ServiceAction { Start, Stop, StartStandby, Switch, Takeover, Sync, Drill, DrillCleanup, Reprotect, Giveback }

/// <summary>
/// What a step asks a resource's driver to do. <see cref="PrepareReceive"/> runs on a sync's receiving node before the
/// sender's <see cref="Sync"/> step: the target's own agent gets it ready (sync.docker: its private dockerd started).
/// <see cref="DrillStart"/> brings a resource's drill counterpart up on a DR node (a sync: a writable clone of what it
/// received; an fs: the clone mounted at a drill path; a container: a drill-named copy in the isolated network; an ip:
/// its address on the isolated network), <see cref="DrillStop"/> removes it, <see cref="DrillCheck"/> checks that the
/// drilled service answers.
/// </summary>
public enum ResourceAction { Start, Stop, StartStandby, Sync, PrepareReceive, DrillStart, DrillStop, DrillCheck }

/// <summary>Per-step policy. Recorded in the run's first event so the audit trail shows it.</summary>
public sealed record StepPolicy(TimeSpan Timeout, int MaxAttempts, TimeSpan Backoff)
{
    public static readonly StepPolicy Default = new(TimeSpan.FromMinutes(5), 3, TimeSpan.FromSeconds(2));
}

/// <summary>
/// One step of a plan. <paramref name="Driver"/> is the resource type (<c>fs</c>, <c>container.docker</c>,
/// <c>ip.docker</c>, <c>sync.docker</c>, <c>sync.btrfs</c>, <c>sync.rsync</c>).
/// <paramref name="WaitsFor"/> lists the step indexes that must have succeeded first.
/// <paramref name="Compensation"/> is what undoes this step when the run fails later
/// (a stop for a started non-standby resource), or null when nothing must be undone.
/// <paramref name="Target"/> is the receiving node of a sync step.
/// </summary>
public sealed record PlanStep(
    int Index,
    NodeName Node,
    ResourceId Rid,
    string Driver,
    ResourceAction Action,
    IReadOnlyList<int> WaitsFor,
    StepPolicy Policy,
    ResourceAction? Compensation = null,
    NodeName? Target = null,
    bool Optional = false);

/// <summary>An accepted plan: data, not code. Dry run prints it; a run's first event carries it.</summary>
public sealed record Plan(
    string Service,
    ServiceAction Action,
    NodeName Node,
    NodeName? To,
    bool Rollback,
    IReadOnlyList<PlanStep> Steps)
{
    /// <summary>drill: how long the drill stays up before it is cleaned up on its own (null: until drill-cleanup).</summary>
    public TimeSpan? Keep { get; init; }

    /// <summary>
    /// Why the engine cannot run this plan, or null: step indexes are positions (0-based; printed +1) and a
    /// step only waits for earlier steps, so the run can always make progress.
    /// </summary>
    public string? ShapeProblem()
    {
        for (var i = 0; i < Steps.Count; i++)
        {
            if (Steps[i].Index != i)
                return $"step at position {i} has index {Steps[i].Index}";
            if (Steps[i].WaitsFor.Any(w => w < 0 || w >= i))
                return $"step {i + 1} waits for a step that does not come before it";
        }
        return null;
    }
}
