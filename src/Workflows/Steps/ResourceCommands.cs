using MediatR;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Workflows.Steps;

// One MediatR command per resource action. Each is sent by exactly one Hangfire job on the step's node
// queue; its handler is the step executor in front of the resource's driver.

public interface IStepCommand
{
    Guid RunId { get; }
    int Step { get; }
    int Attempt { get; }
}

public sealed record StartResource(Guid RunId, int Step, int Attempt) : IRequest<Unit>, IStepCommand;

public sealed record StopResource(Guid RunId, int Step, int Attempt) : IRequest<Unit>, IStepCommand;

public sealed record StartStandbyResource(Guid RunId, int Step, int Attempt) : IRequest<Unit>, IStepCommand;

public sealed record SyncResource(Guid RunId, int Step, int Attempt) : IRequest<Unit>, IStepCommand;

/// <summary>On a sync's receiving node, before the sender's step: the target's own agent gets ready to receive.</summary>
public sealed record PrepareSyncReceive(Guid RunId, int Step, int Attempt) : IRequest<Unit>, IStepCommand;

public sealed class StartResourceHandler(StepExecutor executor) : IRequestHandler<StartResource, Unit>
{
    public async Task<Unit> Handle(StartResource request, CancellationToken cancellationToken)
    {
        await executor.ExecuteAsync(request.RunId, request.Step, request.Attempt, ResourceAction.Start, cancellationToken).ConfigureAwait(false);
        return Unit.Value;
    }
}

public sealed class StopResourceHandler(StepExecutor executor) : IRequestHandler<StopResource, Unit>
{
    public async Task<Unit> Handle(StopResource request, CancellationToken cancellationToken)
    {
        await executor.ExecuteAsync(request.RunId, request.Step, request.Attempt, ResourceAction.Stop, cancellationToken).ConfigureAwait(false);
        return Unit.Value;
    }
}

public sealed class StartStandbyResourceHandler(StepExecutor executor) : IRequestHandler<StartStandbyResource, Unit>
{
    public async Task<Unit> Handle(StartStandbyResource request, CancellationToken cancellationToken)
    {
        await executor.ExecuteAsync(request.RunId, request.Step, request.Attempt, ResourceAction.StartStandby, cancellationToken).ConfigureAwait(false);
        return Unit.Value;
    }
}

public sealed class SyncResourceHandler(StepExecutor executor) : IRequestHandler<SyncResource, Unit>
{
    public async Task<Unit> Handle(SyncResource request, CancellationToken cancellationToken)
    {
        await executor.ExecuteAsync(request.RunId, request.Step, request.Attempt, ResourceAction.Sync, cancellationToken).ConfigureAwait(false);
        return Unit.Value;
    }
}

public sealed class PrepareSyncReceiveHandler(StepExecutor executor) : IRequestHandler<PrepareSyncReceive, Unit>
{
    public async Task<Unit> Handle(PrepareSyncReceive request, CancellationToken cancellationToken)
    {
        await executor.ExecuteAsync(request.RunId, request.Step, request.Attempt, ResourceAction.PrepareReceive, cancellationToken).ConfigureAwait(false);
        return Unit.Value;
    }
}
