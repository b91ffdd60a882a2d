namespace OpenSvc.Domain.Planning;

/// <summary>
/// What an operator asked. <see cref="Node"/> is where the action happens: the node to start, stop or
/// startstandby, the DR node of a takeover, the sending node of a sync. A switch ignores it: it stops the
/// service where the cluster says it runs and starts it on <see cref="To"/>.
/// </summary>
public sealed record PlanRequest(ServiceAction Action, NodeName Node, string RequestedBy)
{
    /// <summary>switch: the destination node.</summary>
    public NodeName? To { get; init; }
    /// <summary>sync: one sync resource; null means every sync resource, in rid order.</summary>
    public ResourceId? SyncRid { get; init; }
    /// <summary>sync: <c>sync nodes</c>, <c>sync drp</c> or <c>sync all</c>.</summary>
    public SyncTargets SyncTargets { get; init; } = SyncTargets.All;
    /// <summary>
    /// stop: also stop standby resources (OpenSVC's --force). takeover/start: proceed although a peer is
    /// unreachable and its state unknown (needs <see cref="Reason"/>). sync: send from a warn instance.
    /// </summary>
    public bool Force { get; init; }
    /// <summary>Why the operator asked; mandatory with <see cref="Force"/> where force overrides a safety guard.</summary>
    public string? Reason { get; init; }
}
