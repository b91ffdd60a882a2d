namespace OpenSvc.Workflows.Agents;

/// <summary>
/// The last sign of life of a node's agent. Liveness comes from this, never from guessing: a step
/// started by an instance that is no longer the node's live instance is requeued by the reconciler.
/// </summary>
public sealed record AgentHeartbeat(string Id, string Instance, int ProcessId, DateTimeOffset StartedAt, DateTimeOffset LastSeen, IReadOnlyList<string> Queues)
{
    public bool IsFresh(DateTimeOffset now, TimeSpan deadAfter) => now - LastSeen <= deadAfter;

    public bool IsFresh(DateTimeOffset now) => IsFresh(now, AgentLiveness.DeadAfter);
}

/// <summary>When an agent counts as alive: the one threshold the planner, the status, the CLI and the reconciler share.</summary>
public static class AgentLiveness
{
    /// <summary>How often an agent writes its heartbeat.</summary>
    public static readonly TimeSpan HeartbeatEvery = TimeSpan.FromSeconds(2);

    /// <summary>An agent whose last heartbeat is older than this is not answering (several missed heartbeats, not one slow write).</summary>
    public static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(15);
}
