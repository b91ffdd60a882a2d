using OpenSvc.Domain;

namespace OpenSvc.Infrastructure.Engine;

/// <summary>How this process takes part in the cluster.</summary>
public sealed record EngineOptions(string ConnectionString, NodeName Node)
{
    /// <summary>Run a Hangfire server for this node's queue and the orchestration queue (an agent), or only submit and query (a CLI).</summary>
    public bool RunAgent { get; init; }
    public int Workers { get; init; } = 4;
    public TimeSpan HeartbeatEvery { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan ReconcileEvery { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan ScheduledGrace { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan AgentDeadAfter { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How often the agent re-probes its services' resources (also after every action).</summary>
    public TimeSpan StatusEvery { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Use the in-process fake cluster instead of real drivers (tests, demos, benchmarks).</summary>
    public bool FakeCluster { get; init; }
    /// <summary>Use the no-op driver for every resource type (engine benchmarks: no driver IO at all).</summary>
    public bool NoopCluster { get; init; }
    public string MartenSchema { get; init; } = Workflows.Engine.WorkflowStore.DefaultSchema;
    public string HangfireSchema { get; init; } = "hangfire";
    /// <summary>Listen/notify instead of polling: step-to-step latency in milliseconds instead of seconds.</summary>
    public bool LongPolling { get; init; } = true;
    public TimeSpan? QueuePollInterval { get; init; }

    public const string OrchestrationQueue = "orchestration";
}
