using OpenSvc.Domain.Planning;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Infrastructure.Drivers.Noop;

/// <summary>
/// A driver for every resource type that does no work and no IO, and reports a change. For benchmarks of the
/// engine itself (`opensvc agent --noop-cluster`): the figures then measure dispatch, claims and events, not a
/// driver's writes. Never select it for a real cluster: nothing is started or stopped.
/// </summary>
public sealed class NoopDriver : IResourceDriver
{
    public static readonly string[] Types = ["fs", "container.docker", "ip.docker", "sync.docker", "sync.btrfs", "sync.rsync", "app", "disk", "ip"];

    public IReadOnlyCollection<string> Drivers => Types;

    public Task<StepResult> ExecuteAsync(ResourceAction action, StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(new StepResult(true, $"noop: {action.ToString().ToLowerInvariant()} {context.Step.Rid} on {context.LocalNode}"));
    }

    public Task<ResourceProbe> StatusAsync(StatusContext context, CancellationToken cancellationToken) =>
        Task.FromResult(new ResourceProbe(Domain.Status.NotApplicable, "noop driver: nothing to probe"));
}
