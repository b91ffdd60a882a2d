using System.Globalization;
using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Marten;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;

namespace OpenSvc.Workflows.Syncs;

/// <summary>
/// The schedule of one sync resource, shared by every agent: its definition as last applied, the due time its armed
/// job will claim, the last due time that fired, and that job. Id: "service/rid". <see cref="Zone"/> is the time zone
/// the definition is read in (OpenSVC reads schedules in the node's local time), kept so every agent computes the same.
/// </summary>
public sealed record SyncScheduleState(string Id, string Service, string Rid, string Definition, string Zone, DateTimeOffset? NextDue,
    DateTimeOffset? LastDue, string? JobId)
{
    public static string Key(string service, string rid) => $"{service}/{rid}";
}

/// <summary>
/// Scheduled syncs, evaluated with OpenSVC's grammar (<see cref="Schedule.NextDue"/>) instead of being approximated
/// with cron. Each sync resource has one delayed Hangfire job, "sync svc1 sync#1, due 2026-12-03T04:37:00Z", shown in
/// the dashboard's Scheduled page at its exact due time. When it runs it claims that due time in the resource's
/// <see cref="SyncScheduleState"/> (under a short lock, compare and set): a second job for the same due time (a
/// retry, a re-arm race between agents) finds it claimed and does nothing, so a due time fires once across agents.
/// The claim arms the next due time before the sync is requested (at most once: a crash between the two loses that
/// one sync, never doubles it). Config changes and agent start-up re-apply every service (<see cref="ApplyAsync"/>).
/// </summary>
public sealed class SyncSchedules(IRecurringJobManager recurring, IBackgroundJobClient jobs, JobStorage storage, IDocumentStore store, TimeProvider time)
{
    const string LegacyPrefix = "sync ";

    /// <summary>The zone schedules are read in on this agent.</summary>
    public TimeZoneInfo Zone { get; init; } = TimeZoneInfo.Local;

    public static string Due(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>
    /// Makes the armed syncs of <paramref name="service"/> match its config (null: the service is gone): new or changed
    /// schedules are armed at their next due time, removed ones disarmed, and a chain whose job was lost is re-armed.
    /// Returns the rids that have a due time.
    /// </summary>
    public async Task<IReadOnlyList<string>> ApplyAsync(string service, string? configText, CancellationToken cancellationToken)
    {
        var wanted = configText is null ? [] : Definitions(service, configText);
        RemoveLegacyRecurringJobs(service);
        await using var query = store.QuerySession();
        var existing = await query.Query<SyncScheduleState>().Where(s => s.Service == service).ToListAsync(cancellationToken).ConfigureAwait(false);
        var armed = new List<string>();
        foreach (var state in existing.Where(s => !wanted.ContainsKey(s.Rid)))
            await UpdateAsync(service, state.Rid, _ => null, cancellationToken).ConfigureAwait(false);
        foreach (var (rid, definition) in wanted)
        {
            var now = time.GetUtcNow();
            var after = await UpdateAsync(service, rid, current =>
            {
                if (current is not null && current.Definition == definition && Alive(current))
                    return current;
                var zone = current?.Definition == definition ? current.Zone : Zone.Id;
                var next = Next(service, rid, definition, zone, now, current?.LastDue);
                // A chain whose job was lost keeps its due time if it is still to come, else fires late once.
                if (current is not null && current.Definition == definition && current.NextDue is { } kept)
                    next = kept;
                return new SyncScheduleState(SyncScheduleState.Key(service, rid), service, rid, definition, zone, next, current?.LastDue, null);
            }, cancellationToken).ConfigureAwait(false);
            if (after?.NextDue is not null)
                armed.Add(rid);
        }
        return armed.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Claims <paramref name="due"/> for one resource: true once per due time across agents, after the next due time is
    /// armed. False when the due time is not the one armed (already claimed, or the schedule changed meanwhile).
    /// </summary>
    public async Task<bool> ClaimAsync(string service, string rid, string due, CancellationToken cancellationToken)
    {
        var claimed = false;
        await UpdateAsync(service, rid, current =>
        {
            if (current?.NextDue is not { } next || Due(next) != due)
                return current;
            claimed = true;
            var following = Next(service, rid, current.Definition, current.Zone, next.AddSeconds(1), next);
            return current with { LastDue = next, NextDue = following, JobId = null };
        }, cancellationToken, disarmOld: false).ConfigureAwait(false); // the old job is the one claiming: it ends by itself
        return claimed;
    }

    /// <summary>The armed schedules of a service (for status and tests).</summary>
    public async Task<IReadOnlyList<SyncScheduleState>> ListAsync(string service, CancellationToken cancellationToken)
    {
        await using var query = store.QuerySession();
        return (await query.Query<SyncScheduleState>().Where(s => s.Service == service).ToListAsync(cancellationToken).ConfigureAwait(false))
            .OrderBy(s => s.Rid, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Reads, changes and writes one state under a short distributed lock; a changed due time gets its job (the old
    /// one is deleted, unless it is the job claiming). The change returning null removes the state.
    /// </summary>
    async Task<SyncScheduleState?> UpdateAsync(string service, string rid, Func<SyncScheduleState?, SyncScheduleState?> change, CancellationToken ct,
        bool disarmOld = true)
    {
        var id = SyncScheduleState.Key(service, rid);
        using var connection = storage.GetConnection();
        using var held = connection.AcquireDistributedLock($"opensvc:sync-schedule:{id}", TimeSpan.FromSeconds(30));
        await using var session = store.LightweightSession();
        var current = await session.LoadAsync<SyncScheduleState>(id, ct).ConfigureAwait(false);
        var next = change(current);
        if (ReferenceEquals(next, current))
            return current;
        if (next is null)
        {
            session.Delete<SyncScheduleState>(id);
        }
        else if (next.NextDue is { } at && (next.JobId is null || next.NextDue != current?.NextDue))
        {
            var jobId = jobs.Create(
                Hangfire.Common.Job.FromExpression<SyncScheduleJob>(j => j.RunDueAsync(service, rid, Due(at), CancellationToken.None), Engine.EngineQueues.Orchestration),
                new ScheduledState(at.UtcDateTime));
            next = next with { JobId = jobId };
        }
        if (next is not null)
            session.Store(next);
        await session.SaveChangesAsync(ct).ConfigureAwait(false);
        if (disarmOld && current?.JobId is { } old && old != next?.JobId)
            jobs.Delete(old);
        return next;
    }

    /// <summary>True when the state's job is still waiting to run (or running) for its due time.</summary>
    bool Alive(SyncScheduleState state)
    {
        if (state.NextDue is null)
            return true; // never: nothing to arm
        if (state.JobId is null)
            return false;
        using var connection = storage.GetConnection();
        var data = connection.GetJobData(state.JobId);
        return data?.State is { } name && (name == ScheduledState.StateName || name == EnqueuedState.StateName || name == ProcessingState.StateName);
    }

    DateTimeOffset? Next(string service, string rid, string definition, string zoneId, DateTimeOffset after, DateTimeOffset? last)
    {
        if (!Schedule.TryParse(definition, out var schedule, out _))
            return null;
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(zoneId, out var z) ? z : Zone;
        return schedule!.NextDue(after, last, zone, SyncScheduleState.Key(service, rid));
    }

    /// <summary>The effective schedule definition of each enabled sync resource (never ones included: they disarm).</summary>
    static Dictionary<string, string> Definitions(string service, string configText)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var doc = ConfigParser.Parse(configText, service + ".conf");
        // The schedule is read as the first peer sees it (a scoped schedule@n3 is shown by `config schedule --node`).
        var probe = ServiceResolver.ResolveAnyNode(doc, service);
        var node = probe.Nodes.Concat(probe.DrpNodes).FirstOrDefault();
        var resolved = node == default ? probe : ServiceResolver.Resolve(doc, service, node);
        // No node declared: no node could run a sync (validation and the planner refuse such a config).
        if (!probe.NodesDeclared)
            return result;
        foreach (var sync in resolved.Resources.OfType<SyncResource>().Where(s => !s.Disabled))
            if (Schedule.TryParse(sync.Schedule, out var schedule, out _) && !schedule!.Never)
                result[sync.Id.ToString()] = sync.Schedule;
        return result;
    }

    /// <summary>Earlier versions kept one cron recurring job per sync resource ("sync svc1 sync#1"): they go.</summary>
    void RemoveLegacyRecurringJobs(string service)
    {
        using var connection = storage.GetConnection();
        foreach (var job in connection.GetRecurringJobs().Where(j => j.Id.StartsWith($"{LegacyPrefix}{service} ", StringComparison.Ordinal)))
            recurring.RemoveIfExists(job.Id);
    }
}
