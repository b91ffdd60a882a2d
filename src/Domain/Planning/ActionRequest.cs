namespace OpenSvc.Domain.Planning;

/// <summary>
/// What an operator (or the scheduler, or the orchestrator) asks of a service: the one request model from the CLI
/// and the API to the planner. <see cref="Node"/> is where the action happens: the node to start, stop or
/// startstandby, the DR node of a takeover, the sending node of a sync. A switch ignores it: it stops the service
/// where the cluster says it runs and starts it on <see cref="To"/>. The rules a request must satisfy are
/// <see cref="Problem"/>'s, checked by <see cref="Parse"/> at the edges and by the planner.
/// </summary>
public sealed record ActionRequest(string Service, ServiceAction Action, NodeName Node, string RequestedBy)
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

    /// <summary>Why it was asked; mandatory with <see cref="Force"/>, recorded in the run's first event.</summary>
    public string? Reason { get; init; }

    /// <summary>drill: how long it stays up before it is cleaned up on its own; null keeps it until drill-cleanup.</summary>
    public TimeSpan? Keep { get; init; }

    /// <summary>The scheduler's sync: the sender is chosen by the planner (where the service is up; flex: its flex primary).</summary>
    public bool ChooseSender { get; init; }

    /// <summary>
    /// The orchestrator's start (OpenSVC's daemon): a peer whose agent is silent is not available, so it counts as down
    /// unless it last reported the service up or warn. Set by the agent only, never from the CLI or the API, where a
    /// silent peer takes <see cref="Force"/> and a reason.
    /// </summary>
    public bool Orchestrated { get; init; }

    /// <summary>Why this request cannot be planned as asked, in the operator's words, or null.</summary>
    public string? Problem()
    {
        if (Action == ServiceAction.Switch && To is null)
            return "switch needs a destination node (--to NODE)";
        if (Action != ServiceAction.Switch && To is not null)
            return $"--to is for switch only; {ActionWords.Of(Action)} happens on --node";
        if (SyncRid is { } rid && rid.Group != "sync")
            return $"rid '{rid}' is not a sync resource id (sync#N)";
        if (Action != ServiceAction.Sync && (SyncRid is not null || SyncTargets != SyncTargets.All))
            return $"--rid and --target are for sync only";
        if (Keep is not null && Action != ServiceAction.Drill)
            return "--keep is for drill only";
        if (Keep is { } keep && keep <= TimeSpan.Zero)
            return "--keep must be a positive duration (30m, 2h, 1d)";
        if (Force && string.IsNullOrWhiteSpace(Reason))
            return "--force needs --reason \"...\": a forced action is recorded with why it was forced";
        return null;
    }

    /// <summary>
    /// Builds a request from the words an operator typed (CLI options or the API's JSON body), or says which word is
    /// wrong and why. The one parser of action requests.
    /// </summary>
    public static (ActionRequest? Request, string? Problem) Parse(string service, string? action, string? node, string requestedBy,
        string? to = null, string? rid = null, string? target = null, bool force = false, string? reason = null, string? keep = null)
    {
        if (ActionWords.ParseServiceAction(action) is not { } verb)
            return (null, $"action '{action}' is not one of {string.Join(", ", ActionWords.ServiceActions)}");
        if (!NodeName.TryParse(node, out var at))
            return (null, node is null ? "a node is required (--node NODE)" : $"node '{node}' is not a valid node name");
        NodeName? destination = null;
        if (to is not null)
        {
            if (!NodeName.TryParse(to, out var t))
                return (null, $"to '{to}' is not a valid node name");
            destination = t;
        }
        ResourceId? syncRid = null;
        if (rid is not null)
        {
            if (!ResourceId.TryParse(rid, out var r))
                return (null, $"rid '{rid}' is not a sync resource id (sync#N)");
            syncRid = r;
        }
        if (ActionWords.ParseSyncTargets(target) is not { } targets)
            return (null, $"target '{target}' is not one of nodes, drpnodes, all");
        TimeSpan? keepFor = null;
        if (keep is not null)
        {
            if (!Config.Converters.TryDuration(keep, out var seconds) || seconds <= 0)
                return (null, $"keep '{keep}' is not a positive duration (30m, 2h, 1d)");
            keepFor = TimeSpan.FromSeconds(seconds);
        }
        var request = new ActionRequest(service, verb, at, requestedBy)
        {
            To = destination, SyncRid = syncRid, SyncTargets = targets, Force = force, Reason = string.IsNullOrWhiteSpace(reason) ? null : reason,
            Keep = keepFor,
        };
        return request.Problem() is { } problem ? (null, problem) : (request, null);
    }
}
