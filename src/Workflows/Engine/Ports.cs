using OpenSvc.Domain;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Workflows.Engine;

/// <summary>What a driver gets to do one step: the run, the step, and the exact config the run was planned from.</summary>
public sealed record StepContext(Guid RunId, string Service, PlanStep Step, int Attempt, string ConfigText, NodeName LocalNode);

/// <summary>What a driver reports: whether it changed anything (probe-act-probe), an output tail, and metrics.</summary>
public sealed record StepResult(bool Changed, string Output, IReadOnlyDictionary<string, long>? Metrics = null)
{
    public static StepResult Unchanged(string output) => new(false, output);
}

/// <summary>A failure an operator can act on: the message goes into the StepFailed event as is.</summary>
public sealed class StepFailedException(string message, string output = "", bool permanent = false) : Exception(message)
{
    public string Output { get; } = output;

    /// <summary>Retrying cannot help (a missing image, a resource not configured here): the policy skips its retries.</summary>
    public bool Permanent { get; } = permanent;
}

/// <summary>
/// The port every resource driver implements. Each call is idempotent: probe, act only if needed, probe again.
/// </summary>
public interface IResourceDriver
{
    /// <summary>The resource types handled (<c>fs</c>, <c>container.docker</c>, ...).</summary>
    IReadOnlyCollection<string> Drivers { get; }

    Task<StepResult> ExecuteAsync(ResourceAction action, StepContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Probes the resource on this node without changing anything: up, down, warn or n/a, with a message an
    /// operator can read. The caller maps up/down to stdby up/stdby down for standby resources.
    /// </summary>
    Task<ResourceProbe> StatusAsync(StatusContext context, CancellationToken cancellationToken);
}

/// <summary>What a status probe gets: the service, the resource, and the config the node currently runs.</summary>
public sealed record StatusContext(string Service, ResourceId Rid, string Driver, string ConfigText, NodeName LocalNode);

/// <summary>One resource's probed state on one node.</summary>
public sealed record ResourceProbe(Status Status, string? Message = null);

/// <summary>Finds the driver for a resource type on this agent.</summary>
public sealed class DriverRegistry(IEnumerable<IResourceDriver> drivers)
{
    readonly Dictionary<string, IResourceDriver> _byType = drivers
        .SelectMany(d => d.Drivers.Select(t => (t, d)))
        .GroupBy(x => x.t, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Last().d, StringComparer.Ordinal);

    public IResourceDriver? Find(string driver) => _byType.GetValueOrDefault(driver);

    public IReadOnlyCollection<string> Known => _byType.Keys;
}

/// <summary>Sends scheduled steps to their node's queue (Hangfire in production).</summary>
public interface IStepDispatcher
{
    void Dispatch(Guid runId, int step, int attempt, ResourceAction action, NodeName node, DateTimeOffset? notBefore, string label);

    /// <summary>
    /// Every step attempt that has a job waiting, scheduled or running in the queues, read in one pass
    /// (the reconciler asks once per pass, not once per step). A job that a worker fetched more than
    /// <paramref name="startGrace"/> ago without ever starting it is not live: it is listed as stalled, since
    /// the queue hides it from every other worker until its invisibility timeout.
    /// </summary>
    QueuedSteps QueuedSteps(TimeSpan startGrace);
}

/// <summary>What the queues hold for steps: live jobs, and jobs fetched at some time but never started.</summary>
public sealed record QueuedSteps(
    IReadOnlySet<(Guid RunId, int Step, int Attempt)> Live,
    IReadOnlyDictionary<(Guid RunId, int Step, int Attempt), DateTimeOffset> StalledSince);

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
