using Hangfire;
using Hangfire.Storage;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;

namespace OpenSvc.Workflows.Syncs;

/// <summary>
/// One Hangfire recurring job per sync resource (and per time window of its schedule), named readably
/// ("sync svc1 sync#1"), kept in step with the stored config: added, updated, removed with it.
/// </summary>
public sealed class SyncSchedules(IRecurringJobManager recurring, JobStorage storage)
{
    const string Prefix = "sync ";

    public static string JobId(string service, string rid, int window) => $"{Prefix}{service} {rid}" + (window == 0 ? "" : $" (window {window + 1})");

    /// <summary>Makes the recurring jobs of <paramref name="service"/> match its config (null: the service is gone).</summary>
    public IReadOnlyList<string> Apply(string service, string? configText)
    {
        var wanted = new Dictionary<string, (string Rid, string Cron)>();
        if (configText is not null)
        {
            var doc = ConfigParser.Parse(configText, service + ".conf");
            // The schedule does not depend on the node: read it as the first peer sees it.
            var probe = ServiceResolver.Resolve(doc, service, new NodeName("opensvc-scheduler"));
            var node = probe.Nodes.Concat(probe.DrpNodes).FirstOrDefault();
            var resolved = node == default ? probe : ServiceResolver.Resolve(doc, service, node);
            // No node declared: no node could run a sync (validation and the planner refuse such a config).
            var syncs = probe.NodesDeclared ? resolved.Resources.OfType<SyncResource>().Where(s => !s.Disabled) : [];
            foreach (var sync in syncs)
            {
                if (Schedule.IsNever(sync.Schedule) || !Schedule.TryParse(sync.Schedule, out var schedule, out _))
                    continue; // never (empty, @0), or validation reports it: nothing is scheduled
                var windows = ScheduleCron.From(schedule!, $"{service}/{sync.Id}");
                for (var i = 0; i < windows.Count; i++)
                    wanted[JobId(service, sync.Id.ToString(), i)] = (sync.Id.ToString(), windows[i].Cron);
            }
        }
        using var connection = storage.GetConnection();
        foreach (var existing in connection.GetRecurringJobs().Where(j => j.Id.StartsWith($"{Prefix}{service} ", StringComparison.Ordinal)))
            if (!wanted.ContainsKey(existing.Id))
                recurring.RemoveIfExists(existing.Id);
        foreach (var (id, (rid, cron)) in wanted)
            recurring.AddOrUpdate<SyncScheduleJob>(id, Engine.EngineQueues.Orchestration, j => j.RunAsync(service, rid, CancellationToken.None), cron,
                new RecurringJobOptions { TimeZone = TimeZoneInfo.Local });
        return wanted.Keys.Order().ToList();
    }
}
