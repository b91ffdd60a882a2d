using MediatR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain.Planning;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;

namespace OpenSvc.Infrastructure.Engine;

/// <summary>
/// When this agent starts (a node boots): once its heartbeat is in and its own instances are probed, it requests the
/// start of the services that should run here and do not (<see cref="OrchestrateStarts"/>), each as a workflow run by
/// "orchestrator@node" with the decision's reason. The planner's own rules still apply to the run, with OpenSVC's view of
/// a peer whose agent is silent: not available (<see cref="ActionRequest.Orchestrated"/>).
/// </summary>
public sealed class OrchestratorService(IMediator mediator, EngineOptions options, ILogger<OrchestratorService> log) : BackgroundService
{
    readonly TaskCompletionSource _startupPass = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the start-up pass has ended (its starts requested, or it failed or was cancelled).</summary>
    public Task StartupPass => _startupPass.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(options.OrchestrateAfter, stoppingToken).ConfigureAwait(false);
            await mediator.Send(new RefreshStatus((IReadOnlyCollection<string>?)null), stoppingToken).ConfigureAwait(false);
            var starts = await mediator.Send(new OrchestrateStarts(options.Node), stoppingToken).ConfigureAwait(false);
            foreach (var start in starts)
            {
                if (!start.Decision.Start)
                {
                    log.LogInformation("orchestrator: {Service} not started on {Node}: {Reason}", start.Service, options.Node, start.Decision.Reason);
                    continue;
                }
                var result = await mediator.Send(new RequestAction(new ActionRequest(start.Service, ServiceAction.Start, options.Node,
                    OrchestratedStart.Requester(options.Node)) { Reason = start.Decision.Reason, Orchestrated = true }), stoppingToken).ConfigureAwait(false);
                log.LogInformation("orchestrator: start of {Service} on {Node} requested ({Reason}): {Result}", start.Service, options.Node,
                    start.Decision.Reason, result is ActionAccepted a ? $"run {a.RunId}" : (result as ActionRefused)?.Refusal ?? result.GetType().Name);
            }
            log.LogInformation("orchestrator: start-up pass on {Node} done: {Count} orchestrated service(s) decided, {Started} start(s) requested",
                options.Node, starts.Count, starts.Count(s => s.Decision.Start));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning("orchestrator pass at start-up failed: {Error}", ex.Message);
        }
        finally
        {
            _startupPass.TrySetResult();
        }
    }
}
