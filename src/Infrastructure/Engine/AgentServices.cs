using Hangfire;
using Marten;
using MediatR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Infrastructure.Engine;

/// <summary>
/// Writes this agent's heartbeat, stamped with the database's clock (the liveness every other agent trusts), renews the
/// agent's lease with each write the database accepted, and fences the agent when the lease lapses: its running steps
/// are cancelled before any other agent may requeue them.
/// </summary>
public sealed class AgentHeartbeatService(
    IDocumentStore store, IDatabaseClock clock, AgentIdentity agent, AgentLease lease, EngineOptions options, TimeProvider time,
    ILogger<AgentHeartbeatService> log)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var watchdog = WatchLeaseAsync(stoppingToken);
        DateTimeOffset? started = null;
        using var timer = new PeriodicTimer(options.HeartbeatEvery, time);
        do
        {
            var attempt = time.GetTimestamp();
            try
            {
                using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                bounded.CancelAfter(lease.Term);
                var now = await clock.NowAsync(bounded.Token).ConfigureAwait(false);
                started ??= now;
                await using var session = store.LightweightSession();
                session.Store(new AgentHeartbeat(agent.Node.Value, agent.Instance, Environment.ProcessId, started.Value, now, EngineQueues.Of(agent.Node),
                    (clock as Postgres.DatabaseClock)?.LastServer));
                await session.SaveChangesAsync(bounded.Token).ConfigureAwait(false);
                var wasHeld = lease.IsHeld;
                lease.Renewed(attempt);
                if (!wasHeld)
                    log.LogInformation("agent {Instance}: lease held (heartbeat at {At:O}, database clock)", agent.Instance, now);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                log.LogWarning("heartbeat of {Node} not written: {Error}", agent.Node, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        await watchdog.ConfigureAwait(false);
    }

    async Task WatchLeaseAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
                if (lease.CheckLapsed())
                    log.LogWarning("agent {Instance}: no heartbeat accepted for {Term}: lease lapsed, cancelling this agent's running steps", agent.Instance, lease.Term);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
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
            // Scheduled syncs match the stored configs even if a change was made while no agent ran.
            await using var query = store.QuerySession();
            foreach (var s in await query.Query<Domain.Runs.ServiceActivity>().Where(s => s.ConfigVersion > 0).ToListAsync(stoppingToken).ConfigureAwait(false))
                await schedules.ApplyAsync(s.Service, s.Exists ? s.ConfigText : null, stoppingToken).ConfigureAwait(false);
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
                var report = await mediator.Send(options.Reconcile, stoppingToken).ConfigureAwait(false);
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
public sealed class ReconcileJob(IMediator mediator, EngineOptions options)
{
    [System.ComponentModel.DisplayName("reconcile workflow runs")]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await mediator.Send(options.Reconcile, cancellationToken).ConfigureAwait(false);
        // Once a minute, on one agent: drills kept past --keep or left half-done are cleaned up.
        await mediator.Send(new CleanUpDrills(), cancellationToken).ConfigureAwait(false);
    }
}
