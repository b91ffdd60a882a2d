using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Noop;

/// <summary>
/// A driver for every resource type that does no work and no IO, and reports a change. For benchmarks of the
/// engine itself (`opensvc agent --noop-cluster`): the figures then measure dispatch, claims and events, not a
/// driver's writes. Never select it for a real cluster: nothing is started or stopped.
/// </summary>
public sealed class NoopDriver : IResourceDriver<ServiceResource>, ISyncDriver<SyncResource>
{
    public Task<StepResult> StartAsync(StepContext<ServiceResource> step, CancellationToken cancellationToken) => Done(step, cancellationToken);

    public Task<StepResult> StopAsync(StepContext<ServiceResource> step, CancellationToken cancellationToken) => Done(step, cancellationToken);

    public Task<StepResult> SendAsync(StepContext<SyncResource> context, Domain.NodeName target, CancellationToken cancellationToken) => Done(context, cancellationToken);

    public Task<StepResult> PrepareReceiveAsync(StepContext<SyncResource> context, CancellationToken cancellationToken) => Done(context, cancellationToken);

    public Task<ResourceProbe> ProbeAsync(ProbeContext<ServiceResource> probe, CancellationToken cancellationToken) => NothingToProbe;

    public Task<ResourceProbe> ProbeAsync(ProbeContext<SyncResource> context, CancellationToken cancellationToken) => NothingToProbe;

    static readonly Task<ResourceProbe> NothingToProbe = Task.FromResult(new ResourceProbe(Domain.Status.NotApplicable, "noop driver: nothing to probe"));

    static Task<StepResult> Done<T>(StepContext<T> step, CancellationToken cancellationToken) where T : ServiceResource
    {
        ArgumentNullException.ThrowIfNull(step);
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(new StepResult(true, $"noop: {ActionWords.Of(step.Step.Action)} {step.Rid} on {step.LocalNode}"));
    }
}
