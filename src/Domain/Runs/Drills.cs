using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Runs;

/// <summary>A drill whose resources must be removed, and why (the reason the cleanup run records).</summary>
public sealed record DrillToClean(string Service, NodeName Node, Guid Run, string Why);

/// <summary>
/// What the record of drill and drill-cleanup runs says about the drills in place: pure, so the reconciler, readiness
/// and the metrics read drills the same way.
/// </summary>
public static class Drills
{
    /// <summary>How many cleanups in a row may fail before the reconciler leaves the drill to an operator.</summary>
    public const int MaxCleanupFailures = 3;

    /// <summary>How long after a failed cleanup the reconciler tries again.</summary>
    public static readonly TimeSpan CleanupRetryAfter = TimeSpan.FromMinutes(1);

    static bool IsDrillRun(WorkflowRun r) => r.Action is ServiceAction.Drill or ServiceAction.DrillCleanup && r.Status != RunStatus.Refused;

    /// <summary>
    /// The drills to clean up now, one per service and node, judged from the latest drill or cleanup run there: a drill
    /// kept past its <see cref="Plan.Keep"/> (counted from its request); a drill that ended failed or cancelled with drill
    /// resources still up (its rollback incomplete, or a step abandoned when its agent died); a cleanup that failed (again
    /// after <see cref="CleanupRetryAfter"/>, at most <see cref="MaxCleanupFailures"/> times in a row).
    /// </summary>
    public static IReadOnlyList<DrillToClean> DueForCleanup(IEnumerable<WorkflowRun> runs, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var due = new List<DrillToClean>();
        foreach (var place in runs.Where(IsDrillRun).GroupBy(r => (r.Service, r.Node)))
        {
            var history = place.OrderByDescending(r => r.RequestedAt).ToList();
            var latest = history[0];
            if (latest.Status == RunStatus.Running)
                continue;
            if (latest.Action == ServiceAction.Drill)
            {
                if (latest.Status == RunStatus.Completed)
                {
                    if (latest.Plan.Keep is { } keep && latest.RequestedAt + keep <= now)
                        due.Add(new(latest.Service, latest.Node, latest.Id,
                            $"drill {RunTimeline.Short(latest.Id)} was kept {RunTimeline.Duration(keep)} (--keep) since its request: cleaned up on its own"));
                    continue;
                }
                var left = LeftUp(latest);
                if (left.Count > 0)
                    due.Add(new(latest.Service, latest.Node, latest.Id,
                        $"drill {RunTimeline.Short(latest.Id)} ended {RunTimeline.Status(latest.Status)} with {string.Join(", ", left)} possibly still up: the reconciler cleans it up"));
                continue;
            }
            if (latest.Status == RunStatus.Completed)
                continue;
            var failures = history.TakeWhile(r => r.Action == ServiceAction.DrillCleanup && r.Status != RunStatus.Completed).Count();
            var drill = history.FirstOrDefault(r => r.Action == ServiceAction.Drill);
            if (failures < MaxCleanupFailures && drill is not null && latest.EndedAt is { } ended && ended + CleanupRetryAfter <= now)
                due.Add(new(latest.Service, latest.Node, drill.Id,
                    $"cleanup {RunTimeline.Short(latest.Id)} of drill {RunTimeline.Short(drill.Id)} ended {RunTimeline.Status(latest.Status)}: trying again ({failures} failed so far)"));
        }
        return due;
    }

    /// <summary>The drill resources a drill run that ended may have left up: drill-starts that took effect and were not undone.</summary>
    public static IReadOnlyList<string> LeftUp(WorkflowRun drill)
    {
        ArgumentNullException.ThrowIfNull(drill);
        return drill.Steps
            .Where(s => s.Compensates is null && s.Step.Action == ResourceAction.DrillStart
                        && (s.Status == StepStatus.Succeeded || (s.Status == StepStatus.Failed && s.Abandoned) || s.Status == StepStatus.Running))
            .Select(s => s.Step.Rid.ToString()).Distinct().ToList();
    }

    /// <summary>The latest drill that completed (its check passed), or null.</summary>
    public static WorkflowRun? LastSuccessful(IEnumerable<WorkflowRun> runs, string service, NodeName? node = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return runs.Where(r => r.Service == service && r.Action == ServiceAction.Drill && r.Status == RunStatus.Completed && (node is null || r.Node == node))
            .MaxBy(r => r.RequestedAt);
    }
}
