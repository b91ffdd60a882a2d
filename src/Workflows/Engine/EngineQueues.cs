namespace OpenSvc.Workflows.Engine;

public static class EngineQueues
{
    /// <summary>The queue every agent serves besides its own node queue: cluster-wide jobs (schedules, reconciler).</summary>
    public const string Orchestration = "orchestration";
}
