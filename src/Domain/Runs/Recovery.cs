using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Runs;

/// <summary>
/// How old one sync resource's copy on the node that took over was at cut-over: cut-over time minus the last
/// successful sync to that node (null when it was never synced: how much was lost is then unknown).
/// </summary>
public sealed record DataAge(string Rid, NodeName Target, DateTimeOffset? LastSyncAt, Guid? LastSyncRun, TimeSpan? Age);

/// <summary>
/// What a run that brought a service up on another node achieved, recorded with its end: the recovery point (the age of
/// each synced copy it started from: the data lost) and the recovery time (request → last start step succeeded), and,
/// where the moment the service went down is known, how long it was down.
/// </summary>
public sealed record RecoveryMeasured(
    Guid RunId,
    NodeName Node,
    DateTimeOffset CutOver,
    TimeSpan? Rto,
    DateTimeOffset? DownSince,
    string? DownSinceFrom,
    TimeSpan? Downtime,
    IReadOnlyList<DataAge> DataAges,
    DateTimeOffset At)
{
    /// <summary>The worst data age (what the recovery lost at most); null when a copy was never synced; zero with no synced copy.</summary>
    public TimeSpan? Rpo => DataAges.Any(d => d.Age is null) ? null : DataAges.Select(d => d.Age!.Value).DefaultIfEmpty(TimeSpan.Zero).Max();
}

/// <summary>When the service went down before a takeover, and from what that is known.</summary>
public sealed record DownSince(DateTimeOffset At, string From);

/// <summary>A sync resource's last successful sync to one node, as the control plane recorded it.</summary>
public sealed record LastSuccessfulSync(string Rid, NodeName Target, DateTimeOffset At, Guid RunId);

/// <summary>The recovery facts of a run that moves or brings a service up on another node: pure, computed from the run and the sync records.</summary>
public static class Recovery
{
    /// <summary>Actions whose completion is a recovery worth measuring (DR activation, planned moves).</summary>
    public static bool Measures(ServiceAction action) =>
        action is ServiceAction.Takeover or ServiceAction.Switch or ServiceAction.Drill or ServiceAction.Giveback;

    /// <summary>The node the service comes up on.</summary>
    public static NodeName Destination(WorkflowRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.Action is ServiceAction.Switch or ServiceAction.Giveback && run.To is { } to ? to : run.Node;
    }

    /// <summary>
    /// The facts of <paramref name="run"/> (its steps all ended): cut-over is the request for a takeover (the primary is
    /// presumed lost then), else the start of the first start step on the destination (the source had stopped writing,
    /// and any final sync had run); each sync resource whose targets include the destination contributes its copy's age
    /// at cut-over. A drill's cut-over is the start of its first drill step (the clones are made from the copies as they
    /// are then), its RTO runs from the request to the last drill-start that succeeded (every resource up, before the check),
    /// and production never went down.
    /// A giveback's own send of a resource carried everything: its data sends run once every stop step has
    /// succeeded (the service wrote nothing after them), its image sends before the stop (images do not change when the
    /// service stops): that copy's age is zero (RPO 0).
    /// </summary>
    public static RecoveryMeasured Measure(WorkflowRun run, IReadOnlyCollection<string> syncRids, IReadOnlyList<LastSuccessfulSync> syncs,
        DownSince? downSince, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(syncRids);
        ArgumentNullException.ThrowIfNull(syncs);
        var node = Destination(run);
        var stops = run.Steps.Where(s => s.Step.Action == ResourceAction.Stop && s.Compensates is null && s.EndedAt is not null).ToList();
        var startAction = run.Action == ServiceAction.Drill ? ResourceAction.DrillStart : ResourceAction.Start;
        var starts = run.Steps.Where(s => s.Step.Node == node && s.Step.Action == startAction && s.Compensates is null
                                          && s.Status == StepStatus.Succeeded && s.EndedAt is not null).ToList();
        var cutOver = run.Action != ServiceAction.Takeover && starts.Count > 0 ? starts.Min(s => s.StartedAt ?? s.EndedAt!.Value) : run.RequestedAt;
        if (run.Action == ServiceAction.Drill)
            downSince = null;
        TimeSpan? rto = starts.Count > 0 ? starts.Max(s => s.EndedAt!.Value) - run.RequestedAt : null;
        var down = run.Action is ServiceAction.Switch or ServiceAction.Giveback && stops.Count > 0
            ? new DownSince(stops.Min(s => s.StartedAt ?? s.EndedAt!.Value), $"the run's first stop step, on {stops[0].Step.Node}")
            : downSince;
        TimeSpan? downtime = down is not null && starts.Count > 0 ? starts.Max(s => s.EndedAt!.Value) - down.At : null;
        var ages = syncRids.Order(StringComparer.Ordinal).Select(rid =>
        {
            var last = syncs.Where(x => x.Rid == rid && x.Target == node && x.At <= cutOver).MaxBy(x => x.At);
            var final = run.Action == ServiceAction.Giveback && last is not null && last.RunId == run.Id;
            return new DataAge(rid, node, last?.At, last?.RunId, last is null ? null : final ? TimeSpan.Zero : cutOver - last.At);
        }).ToList();
        return new RecoveryMeasured(run.Id, node, cutOver, rto, down?.At, down?.From, downtime, ages, now);
    }
}
