using OpenSvc.Domain;

namespace OpenSvc.Infrastructure.Engine;

/// <summary>How this process takes part in the cluster.</summary>
public sealed record EngineOptions(string ConnectionString, NodeName Node)
{
    /// <summary>Run a Hangfire server for this node's queue and the orchestration queue (an agent), or only submit and query (a CLI).</summary>
    public bool RunAgent { get; init; }
    public int Workers { get; init; } = 4;
    public TimeSpan HeartbeatEvery { get; init; } = Workflows.Agents.AgentLiveness.HeartbeatEvery;
    public TimeSpan ReconcileEvery { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan ScheduledGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long after start-up the agent decides the automatic starts (its heartbeat and its peers' first).</summary>
    public TimeSpan OrchestrateAfter { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan AgentDeadAfter { get; init; } = Workflows.Agents.AgentLiveness.DeadAfter;

    /// <summary>The reconciler's pass with this agent's thresholds (the periodic service and the recurring job alike).</summary>
    public Workflows.Runs.ReconcileRuns Reconcile => new(ScheduledGrace, AgentDeadAfter);

    /// <summary>How often the agent re-probes its services' resources (also after every action).</summary>
    public TimeSpan StatusEvery { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Use the in-process fake cluster instead of real drivers (tests, demos, benchmarks).</summary>
    public bool FakeCluster { get; init; }
    /// <summary>Use the no-op driver for every resource type (engine benchmarks: no driver IO at all).</summary>
    public bool NoopCluster { get; init; }
    public string MartenSchema { get; init; } = Workflows.Engine.WorkflowStore.DefaultSchema;
    public string HangfireSchema { get; init; } = "hangfire";
    /// <summary>How an agent learns that a job waits in one of its queues (see <see cref="QueueWakeup"/>).</summary>
    public QueueWakeup Wakeup { get; init; } = QueueWakeup.Notified;
    /// <summary>The poll: the safety net of a notified queue (default 5 s), Hangfire's interval otherwise (default 1 s with its long polling, 15 s without).</summary>
    public TimeSpan? QueuePollInterval { get; init; }
}

/// <summary>How an agent learns that a job waits in one of its queues.</summary>
public enum QueueWakeup
{
    /// <summary>
    /// Long polling on the queue's own notification (the default): a trigger on Hangfire's queue table notifies the
    /// queue's name, and one worker of the agent serving it fetches (<see cref="NotifiedJobQueueProvider"/>).
    /// </summary>
    Notified,
    /// <summary>Hangfire.PostgreSql's <c>EnableLongPolling</c>: one channel for every queue, every waiting worker of every agent woken.</summary>
    HangfireLongPolling,
    /// <summary>Hangfire.PostgreSql's plain polling (the benchmark's baseline, and hosts sharing one test process).</summary>
    Polling,
}
