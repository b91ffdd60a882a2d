namespace OpenSvc.Domain.Planning;

/// <summary>Which planner guard refused a request.</summary>
public enum PlanGuard
{
    /// <summary>The request itself is incomplete or names a node outside nodes and drpnodes.</summary>
    InvalidRequest,
    /// <summary>A node where steps must run has no agent heartbeat.</summary>
    NodeUnreachable,
    /// <summary>A failover service is up (or partly up) on another node.</summary>
    RunningElsewhere,
    /// <summary>Another peer is unreachable and its state unknown: only a forced, explained request may proceed.</summary>
    PeerStateUnknown,
    /// <summary>switch: the service is not up anywhere, or the destination is wrong.</summary>
    Switch,
    /// <summary>takeover: the node is not a DR node.</summary>
    Takeover,
    /// <summary>sync: the service is not up on the sending node.</summary>
    SyncServiceNotUp,
    /// <summary>sync: a flex service sends only from its flex primary.</summary>
    SyncFlexNonPrimary,
    /// <summary>sync: a DR node never sends over production (a primary node).</summary>
    SyncDrpToProduction,
    /// <summary>sync: the resource's target resolves to no node.</summary>
    SyncNoTarget,
    /// <summary>drill: the node is not a DR node, the service runs there, or a resource cannot be drilled.</summary>
    Drill,
    /// <summary>A named resource does not exist on the node, or has a driver the planner cannot place.</summary>
    Resource,
    /// <summary>The plan would hold no step.</summary>
    NothingToDo,
    /// <summary>The config has errors that concern a node the plan touches.</summary>
    ConfigErrors,
    /// <summary>reprotect/giveback, or an action the reversed protection forbids (a start on a node that receives the newer copy).</summary>
    Protection,
}

/// <summary>A resource left out of a plan, and why; dry runs print these.</summary>
public sealed record SkippedResource(NodeName Node, ResourceId Rid, string Reason);

/// <summary>Either an <see cref="AcceptedPlan"/> or a <see cref="Refusal"/>.</summary>
public abstract record PlanResult
{
    private protected PlanResult() { }
}

public sealed record AcceptedPlan(Plan Plan, IReadOnlyList<SkippedResource> Skipped) : PlanResult;

/// <summary>
/// A refused request: which guard, and a reason written for the operator (what, why, what to do). A plan refused for
/// config errors keeps the <see cref="Plan"/> it would have run and the <see cref="Problems"/>, so a dry run shows both.
/// </summary>
public sealed record Refusal(PlanGuard Guard, string Reason) : PlanResult
{
    public Plan? Plan { get; init; }

    public IReadOnlyList<Config.ConfigProblem> Problems { get; init; } = [];
}
