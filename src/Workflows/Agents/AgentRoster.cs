using Marten;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Workflows.Agents;

/// <summary>
/// The agents' heartbeats as read at one instant of the database's clock: who is alive, and which step executions can
/// no longer report because the agent that runs them is gone (another process now serves its node, or its lease has
/// expired long enough ago that it has cancelled them).
/// </summary>
public sealed record AgentRoster(IReadOnlyList<AgentHeartbeat> Agents, DateTimeOffset Now, TimeSpan DeadAfter)
{
    public static async Task<AgentRoster> ReadAsync(IQuerySession query, IDatabaseClock clock, LivenessOptions liveness, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(liveness);
        var agents = await query.Query<AgentHeartbeat>().ToListAsync(cancellationToken).ConfigureAwait(false);
        return new AgentRoster(agents, await clock.NowAsync(cancellationToken).ConfigureAwait(false), liveness.DeadAfter);
    }

    public AgentHeartbeat? Of(string node) => Agents.FirstOrDefault(a => a.Id == node);

    public bool IsAlive(string node) => Of(node) is { } a && a.IsFresh(Now, DeadAfter);

    /// <summary>Why the execution running <paramref name="step"/> will never report, or null while its agent may still be running it.</summary>
    public string? Gone(StepState step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Status != StepStatus.Running || step.Agent is not { } instance)
            return null;
        var live = Of(step.Step.Node.Value);
        if (live is null)
            return $"node {step.Step.Node} has no agent heartbeat";
        if (live.Instance != instance)
            return $"agent {instance} that started it is gone (node {live.Id} now runs {live.Instance})";
        return Now - live.LastSeen > AgentLiveness.RequeueAfter(DeadAfter)
            ? $"agent {instance} on {step.Step.Node} stopped answering (last heartbeat {live.LastSeen:O}) and its lease has expired"
            : null;
    }
}
