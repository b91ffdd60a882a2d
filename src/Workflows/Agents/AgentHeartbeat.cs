namespace OpenSvc.Workflows.Agents;

/// <summary>
/// The last sign of life of a node's agent. Liveness comes from this, never from guessing: a step
/// started by an instance that is no longer the node's live instance is requeued by the reconciler.
/// </summary>
public sealed record AgentHeartbeat(string Id, string Instance, int ProcessId, DateTimeOffset StartedAt, DateTimeOffset LastSeen, IReadOnlyList<string> Queues)
{
    public bool IsFresh(DateTimeOffset now, TimeSpan deadAfter) => now - LastSeen <= deadAfter;
}
