using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Workflows.Drivers;

/// <summary>
/// One step as the engine hands it to a driver: the run, the step, the attempt, the service as this node resolves it
/// from the exact config the run was planned with, and how another node resolves that same config.
/// </summary>
public sealed record StepRun(Guid RunId, PlanStep Step, int Attempt, ResolvedService Resolved, Func<NodeName, ResolvedService> ResolveOn)
{
    /// <summary>The execution's fencing check (see <see cref="StepContext{TResource}.EnsureCurrentAsync"/>); none outside a workflow.</summary>
    public Func<CancellationToken, Task> EnsureCurrent { get; init; } = _ => Task.CompletedTask;
}

/// <summary>
/// What a driver gets to do one step: the step as the engine runs it and the step's resource, typed. Resolved once by
/// the engine, never re-parsed by a driver.
/// </summary>
public sealed record StepContext<TResource>(StepRun Run, TResource Resource) where TResource : ServiceResource
{
    public Guid RunId => Run.RunId;

    public PlanStep Step => Run.Step;

    public int Attempt => Run.Attempt;

    public ResolvedService Resolved => Run.Resolved;

    /// <summary>The service's name.</summary>
    public string Service => Run.Resolved.Name;

    /// <summary>The node this step runs on (the agent's own).</summary>
    public NodeName LocalNode => Run.Resolved.Node;

    public ResourceId Rid => Resource.Id;

    /// <summary>The same config as another node resolves it (a sync's target, for what it must receive into).</summary>
    public ResolvedService ResolveOn(NodeName node) => Run.ResolveOn(node);

    /// <summary>
    /// The fencing check a driver makes before each side effect it can guard (a mount, a container start, a send): throws
    /// <see cref="StepSupersededException"/> when this execution is no longer the step's current one (the run requeued it
    /// as a new execution, abandoned it or ended) or this agent's lease lapsed, so a superseded execution stops before it
    /// acts a second time.
    /// </summary>
    public Task EnsureCurrentAsync(CancellationToken cancellationToken) => Run.EnsureCurrent(cancellationToken);
}

/// <summary>What a status probe gets: the service as this node resolves the config it currently runs, and the resource.</summary>
public sealed record ProbeContext<TResource>(ResolvedService Resolved, TResource Resource) where TResource : ServiceResource
{
    public string Service => Resolved.Name;

    public NodeName LocalNode => Resolved.Node;

    public ResourceId Rid => Resource.Id;

    /// <summary>The instance's avail from its resources other than syncs (null: not known to this probe).</summary>
    public Status? AvailHere { get; init; }
}

/// <summary>What a driver reports: whether it changed anything (probe-act-probe), an output tail, and metrics.</summary>
public sealed record StepResult(bool Changed, string Output, IReadOnlyDictionary<string, long>? Metrics = null)
{
    public static StepResult Unchanged(string output) => new(false, output);
}

/// <summary>A failure an operator can act on: the message goes into the StepFailed event as is.</summary>
public class StepFailedException(string message, string output = "", bool permanent = false) : Exception(message)
{
    public string Output { get; } = output;

    /// <summary>Retrying cannot help (a missing image, a resource not configured here): the policy skips its retries.</summary>
    public bool Permanent { get; } = permanent;
}

/// <summary>This execution of a step was superseded: it must not act. Its outcome, if it gets recorded, is ignored.</summary>
public sealed class StepSupersededException(string message) : StepFailedException(message, "", permanent: true);

/// <summary>One resource's probed state on one node.</summary>
public sealed record ResourceProbe(Status Status, string? Message = null);

/// <summary>
/// A resource driver (fs, container, ip): start (and startstandby: <see cref="StepContext{T}.Step"/> says which), stop,
/// probe. Each call is idempotent: probe, act only if needed, probe again.
/// </summary>
public interface IResourceDriver<TResource> where TResource : ServiceResource
{
    Task<StepResult> StartAsync(StepContext<TResource> step, CancellationToken cancellationToken);

    Task<StepResult> StopAsync(StepContext<TResource> step, CancellationToken cancellationToken);

    /// <summary>
    /// The resource on this node, changing nothing: up, down, warn or n/a, with a message an operator can read. The
    /// caller maps up/down to stdby up/stdby down for standby resources.
    /// </summary>
    Task<ResourceProbe> ProbeAsync(ProbeContext<TResource> probe, CancellationToken cancellationToken);

    /// <summary>
    /// drill: bring up this resource's drill counterpart on a DR node, never touching what production or replication use
    /// (see <see cref="ResourceAction.DrillStart"/>). A driver without a drill refuses, permanently.
    /// </summary>
    Task<StepResult> DrillStartAsync(StepContext<TResource> step, CancellationToken cancellationToken) =>
        throw new StepFailedException($"{step?.Resource.Driver} {step?.Rid}: this agent cannot drill this resource type", permanent: true);

    /// <summary>drill-cleanup and a failed drill's rollback: remove what drill-start created; a no-op when nothing is left.</summary>
    Task<StepResult> DrillStopAsync(StepContext<TResource> step, CancellationToken cancellationToken) =>
        Task.FromResult(StepResult.Unchanged($"{step?.Resource.Driver} {step?.Rid}: nothing of a drill to remove"));

    /// <summary>drill: check that the drilled service answers (default: its drill containers run; DEFAULT.drill_check: a command).</summary>
    Task<StepResult> DrillCheckAsync(StepContext<TResource> step, CancellationToken cancellationToken) =>
        throw new StepFailedException($"{step?.Resource.Driver} {step?.Rid}: this agent has no drill check for this resource type", permanent: true);
}

/// <summary>
/// A sync driver: send the resource's data from this node to the step's target, and, on a target, get ready to
/// receive before the sender's step (sync.docker: the service's private dockerd started). Idempotent as well.
/// </summary>
public interface ISyncDriver<TResource> where TResource : SyncResource
{
    Task<StepResult> SendAsync(StepContext<TResource> context, NodeName target, CancellationToken cancellationToken);

    /// <summary>By default a target needs nothing of its agent (sshd and a mounted destination are checked by the send).</summary>
    Task<StepResult> PrepareReceiveAsync(StepContext<TResource> context, CancellationToken cancellationToken) =>
        Task.FromResult(StepResult.Unchanged($"{context?.Resource.Driver}: nothing to prepare on the target"));

    Task<ResourceProbe> ProbeAsync(ProbeContext<TResource> context, CancellationToken cancellationToken);

    /// <summary>
    /// drill, on the receiving node: make the drill's copy of what this resource received (a writable clone), never
    /// touching what the next send needs; a copy that cannot be cloned cheaply says so and what was checked instead.
    /// </summary>
    Task<StepResult> DrillStartAsync(StepContext<TResource> context, CancellationToken cancellationToken) =>
        throw new StepFailedException($"{context?.Resource.Driver} {context?.Rid}: this agent cannot drill this sync type", permanent: true);

    /// <summary>Removes the drill's copy; a no-op when there is none.</summary>
    Task<StepResult> DrillStopAsync(StepContext<TResource> context, CancellationToken cancellationToken) =>
        Task.FromResult(StepResult.Unchanged($"{context?.Resource.Driver} {context?.Rid}: nothing of a drill to remove"));
}
