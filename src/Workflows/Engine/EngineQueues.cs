using OpenSvc.Domain;

namespace OpenSvc.Workflows.Engine;

public static class EngineQueues
{
    /// <summary>The queue every agent serves besides its own node queue: cluster-wide jobs (schedules, reconciler).</summary>
    public const string Orchestration = "orchestration";

    /// <summary>The queues a node's agent serves: its own, then the orchestration queue.</summary>
    public static string[] Of(NodeName node) => [node.QueueName, Orchestration];
}
