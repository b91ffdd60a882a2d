using System.ComponentModel;
using Hangfire;
using MediatR;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Workflows.Syncs;

/// <summary>
/// The recurring job of a sync resource: a normal workflow run requested by the scheduler and sent from where the
/// planner says (where the service is up; flex: its flex primary). When it cannot be sent the refusal is recorded
/// as a run, never silently skipped. Ids in, one Send out.
/// </summary>
public sealed class SyncScheduleJob(IMediator mediator, SyncSchedules schedules)
{
    /// <summary>Who the audit trail names as the requester of scheduled syncs.</summary>
    public const string Requester = "scheduler";

    /// <summary>The cron recurring job of earlier versions (kept: a queued one may still run once).</summary>
    [DisplayName("scheduled sync {0} {1}")]
    [AutomaticRetry(Attempts = 0)]
    public Task RunAsync(string service, string rid, CancellationToken cancellationToken) =>
        mediator.Send(new RequestAction(Request(service, rid)), cancellationToken);

    /// <summary>
    /// The delayed job of one due time (<see cref="SyncSchedules"/>): claims it (once across agents, arming the next one),
    /// then requests the sync. A due time already claimed, or no longer armed, does nothing.
    /// </summary>
    [DisplayName("sync {0} {1}, due {2}")]
    [AutomaticRetry(Attempts = 0)]
    public async Task RunDueAsync(string service, string rid, string due, CancellationToken cancellationToken)
    {
        if (await schedules.ClaimAsync(service, rid, due, cancellationToken).ConfigureAwait(false))
            await mediator.Send(new RequestAction(Request(service, rid) with { Reason = $"scheduled sync due {due}" }), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The scheduler's request; its node is a placeholder that the planner replaces with the sender it chooses.</summary>
    public static ActionRequest Request(string service, string rid) =>
        new(service, ServiceAction.Sync, new NodeName("to-be-chosen"), Requester) { SyncRid = ResourceId.Parse(rid), ChooseSender = true };
}
