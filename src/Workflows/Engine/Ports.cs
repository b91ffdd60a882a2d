using OpenSvc.Domain;

namespace OpenSvc.Workflows.Engine;

/// <summary>One execution of one step to put in its node's queue: the job carries these ids, nothing else that matters.</summary>
public sealed record StepDelivery(Guid RunId, int Step, int Execution, NodeName Node, DateTimeOffset? NotBefore, string Label);

/// <summary>Sends scheduled steps to their node's queue (Hangfire in production).</summary>
public interface IStepDispatcher
{
    void Dispatch(StepDelivery delivery);

    /// <summary>
    /// Every step execution that has a job waiting, scheduled or running in the queues, read in one pass
    /// (the reconciler asks once per pass, not once per step). A job that a worker fetched more than
    /// <paramref name="startGrace"/> ago without ever starting it is not live: it is listed as stalled, since
    /// the queue hides it from every other worker until its invisibility timeout.
    /// </summary>
    QueuedSteps QueuedSteps(TimeSpan startGrace);
}

/// <summary>What the queues hold for steps, by (run, step, execution): live jobs, and jobs fetched at some time but never started.</summary>
public sealed record QueuedSteps(
    IReadOnlySet<(Guid RunId, int Step, int Execution)> Live,
    IReadOnlyDictionary<(Guid RunId, int Step, int Execution), DateTimeOffset> StalledSince);

/// <summary>
/// The database's clock: liveness and leases are judged on it, never on an agent's own clock (a node whose clock lags
/// must not look dead, nor a dead one alive).
/// </summary>
public interface IDatabaseClock
{
    Task<DateTimeOffset> NowAsync(CancellationToken cancellationToken);
}

/// <summary>Crash points for the fault-injection suite. In production this does nothing.</summary>
public interface IFaultInjector
{
    void At(FaultPoint point, Guid runId, int step);
}

public enum FaultPoint
{
    /// <summary>After StepScheduled was committed, before the job was enqueued.</summary>
    AfterScheduleBeforeEnqueue,
    /// <summary>While the driver is working on the step.</summary>
    DuringStep,
    /// <summary>After the driver's effect, before StepSucceeded was committed.</summary>
    AfterEffectBeforeEvent,
}

public sealed class NoFaults : IFaultInjector
{
    public void At(FaultPoint point, Guid runId, int step) { }
}

/// <summary>This agent process: its node and a per-process instance id recorded in StepStarted.</summary>
public sealed record AgentIdentity(NodeName Node, string Instance)
{
    public static AgentIdentity ForThisProcess(NodeName node) =>
        new(node, $"{node}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}");
}
