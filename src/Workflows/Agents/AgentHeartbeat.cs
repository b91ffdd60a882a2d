namespace OpenSvc.Workflows.Agents;

/// <summary>
/// The last sign of life of a node's agent. Liveness comes from this, never from guessing: a step
/// started by an instance that is no longer the node's live instance is requeued by the reconciler.
/// </summary>
/// <param name="Database">The database server (address:port) the heartbeat was written to: with the control plane replicated across sites, the primary this agent follows.</param>
public sealed record AgentHeartbeat(string Id, string Instance, int ProcessId, DateTimeOffset StartedAt, DateTimeOffset LastSeen, IReadOnlyList<string> Queues,
    string? Database = null)
{
    public bool IsFresh(DateTimeOffset now, TimeSpan deadAfter) => now - LastSeen <= deadAfter;

    public bool IsFresh(DateTimeOffset now) => IsFresh(now, AgentLiveness.DeadAfter);
}

/// <summary>A node's agent as the cluster sees it now, judged on the database's clock: what `opensvc agents` and the API show.</summary>
public sealed record AgentStatus(string Id, string Instance, int ProcessId, DateTimeOffset StartedAt, DateTimeOffset LastSeen, IReadOnlyList<string> Queues,
    bool Alive, TimeSpan SinceLastSeen, string? Database = null)
{
    public static AgentStatus Of(AgentHeartbeat heartbeat, AgentRoster roster)
    {
        ArgumentNullException.ThrowIfNull(heartbeat);
        ArgumentNullException.ThrowIfNull(roster);
        return new(heartbeat.Id, heartbeat.Instance, heartbeat.ProcessId, heartbeat.StartedAt, heartbeat.LastSeen, heartbeat.Queues,
            roster.IsAlive(heartbeat.Id), roster.Now - heartbeat.LastSeen, heartbeat.Database);
    }
}

/// <summary>
/// When an agent counts as alive: the one threshold the planner, the status, the CLI and the reconciler share, always
/// compared with the database's clock (heartbeats carry the database's time, never the agent's).
/// </summary>
public static class AgentLiveness
{
    /// <summary>How often an agent writes its heartbeat.</summary>
    public static readonly TimeSpan HeartbeatEvery = TimeSpan.FromSeconds(2);

    /// <summary>An agent whose last heartbeat is older than this is not answering (several missed heartbeats, not one slow write).</summary>
    public static readonly TimeSpan DeadAfter = TimeSpan.FromSeconds(15);

    /// <summary>An agent fences itself (cancels its running steps) this long after its last successful heartbeat: well before others deem it dead.</summary>
    public static TimeSpan LeaseTerm(TimeSpan deadAfter) => deadAfter * 2 / 3;

    /// <summary>
    /// Another agent's running step is requeued only this long after that agent's last heartbeat: its lease has
    /// lapsed (so it cancelled the step) and the cancellation has had time to take effect.
    /// </summary>
    public static TimeSpan RequeueAfter(TimeSpan deadAfter) => deadAfter * 3 / 2;
}

/// <summary>This cluster's liveness threshold (<see cref="AgentLiveness.DeadAfter"/> unless configured: tests shorten it).</summary>
public sealed record LivenessOptions(TimeSpan DeadAfter)
{
    public static readonly LivenessOptions Default = new(AgentLiveness.DeadAfter);
}
