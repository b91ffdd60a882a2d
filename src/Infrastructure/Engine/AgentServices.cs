using Hangfire;
using Marten;
using MediatR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Infrastructure.Engine;

/// <summary>Writes this agent's heartbeat: the liveness the reconciler trusts.</summary>
public sealed class AgentHeartbeatService(IDocumentStore store, AgentIdentity agent, EngineOptions options, TimeProvider time, ILogger<AgentHeartbeatService> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = time.GetUtcNow();
        using var timer = new PeriodicTimer(options.HeartbeatEvery, time);
        do
        {
            try
            {
                await using var session = store.LightweightSession();
                session.Store(new AgentHeartbeat(agent.Node.Value, agent.Instance, Environment.ProcessId, started, time.GetUtcNow(),
                    EngineQueues.Of(agent.Node)));
                await session.SaveChangesAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning("heartbeat of {Node} not written: {Error}", agent.Node, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}

/// <summary>Runs the reconciler at start-up and then periodically; also registered as a Hangfire recurring job.</summary>
public sealed class ReconcilerService(
    IMediator mediator, EngineOptions options, IRecurringJobManager recurring, IDocumentStore store, Workflows.Syncs.SyncSchedules schedules,
    TimeProvider time, ILogger<ReconcilerService> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        recurring.AddOrUpdate<ReconcileJob>("reconcile-runs", EngineQueues.Orchestration, j => j.RunAsync(CancellationToken.None), Cron.Minutely());
        try
        {
            // Recurring syncs match the stored configs even if a change was made while no agent ran.
            await using var query = store.QuerySession();
            foreach (var s in await query.Query<Domain.Runs.ServiceActivity>().Where(s => s.ConfigVersion > 0).ToListAsync(stoppingToken).ConfigureAwait(false))
                schedules.Apply(s.Service, s.Exists ? s.ConfigText : null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning("sync schedules not refreshed at start-up: {Error}", ex.Message);
        }
        using var timer = new PeriodicTimer(options.ReconcileEvery, time);
        do
        {
            try
            {
                var report = await mediator.Send(new ReconcileRuns(options.ScheduledGrace, options.AgentDeadAfter), stoppingToken).ConfigureAwait(false);
                if (report.Requeued > 0 || report.Advanced > 0)
                    log.LogInformation("reconciler: {Active} active runs, {Requeued} steps requeued, {Advanced} runs advanced",
                        report.ActiveRuns, report.Requeued, report.Advanced);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning("reconciler pass failed: {Error}", ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}

/// <summary>Hangfire adapter for the reconciler, visible in the dashboard's recurring jobs.</summary>
public sealed class ReconcileJob(IMediator mediator)
{
    [System.ComponentModel.DisplayName("reconcile workflow runs")]
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(CancellationToken cancellationToken) => mediator.Send(ReconcileRuns.Default, cancellationToken);
}
