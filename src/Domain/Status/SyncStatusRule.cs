using System.Globalization;

namespace OpenSvc.Domain;

/// <summary>What one node knows of a sync resource when it reports its status (the node-local last_sync stamps).</summary>
/// <param name="Local">The reporting node.</param>
/// <param name="Targets">The resource's targets (resolved node list).</param>
/// <param name="Sends">True when the service runs here and this node is the one that sends (flex: its flex primary).</param>
/// <param name="DrpNodeNeverSends">rsync: a node of drpnodes never sends, even with the service up there.</param>
/// <param name="IsDrpNode">The reporting node is in drpnodes.</param>
/// <param name="LastSync">The last successful sync to a node, as recorded on this node, or null.</param>
public sealed record SyncStatusView(NodeName Local, IReadOnlyList<NodeName> Targets, bool Sends, bool DrpNodeNeverSends, bool IsDrpNode,
    Func<NodeName, DateTimeOffset?> LastSync, TimeSpan MaxDelay, DateTimeOffset Now);

/// <summary>
/// OpenSVC's sync status rules (rsync's <c>sync_status</c>, the model's sections 4 and 8), for every sync driver:
/// <list type="number">
/// <item>no other node to send to: n/a "no target nodes";</item>
/// <item>the service does not run here (a passive node, a DR node on standby, a flex non-primary): not a target, n/a;
/// a target reports its own copy: warn "passive node needs update" when it never received one or it is older than
/// sync_max_delay, else up;</item>
/// <item>the service runs on a DR node whose driver never sends from there (rsync): n/a;</item>
/// <item>the sender: warn for each target never synced or older than sync_max_delay, else up.</item>
/// </list>
/// So a passive node no longer turns the service's overall status warn for syncs it never sends. The age of every
/// target's copy stays visible in the control plane's lag table (<see cref="SyncLag"/>).
/// </summary>
public static class SyncStatusRule
{
    public static (Status Status, string Message) Evaluate(SyncStatusView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var others = view.Targets.Where(t => t != view.Local).Distinct().ToList();
        if (others.Count == 0 && !view.Targets.Contains(view.Local))
            return (Status.NotApplicable, "no target nodes");
        if (!view.Sends)
        {
            if (!view.Targets.Contains(view.Local))
                return (Status.NotApplicable, "passive node, not a destination of this sync");
            var own = Lag(view, view.Local);
            return own.Band switch
            {
                LagBand.Never => (Status.Warn, "passive node needs update: it never received this sync"),
                LagBand.Within => (Status.Up, $"{view.Local} synced {SyncLag.Stamp(own.LastAt!.Value)} (received)"),
                _ => (Status.Warn, $"passive node needs update: last sync received {SyncLag.Stamp(own.LastAt!.Value)}, older than {Duration((long)view.MaxDelay.TotalSeconds)}"),
            };
        }
        if (view.IsDrpNode && view.DrpNodeNeverSends)
            return (Status.NotApplicable, "the service runs on this DR node, which never sends this sync");
        if (others.Count == 0)
            return (Status.NotApplicable, "no target nodes");
        var problems = new List<string>();
        var fine = new List<string>();
        foreach (var node in others)
        {
            var lag = Lag(view, node);
            if (lag.Band == LagBand.Never)
                problems.Add($"never synced to {node}");
            else if (lag.Band != LagBand.Within)
                problems.Add($"last sync on {node} older than {Duration((long)view.MaxDelay.TotalSeconds)} ({SyncLag.Stamp(lag.LastAt!.Value)})");
            else
                fine.Add($"{node} synced {SyncLag.Stamp(lag.LastAt!.Value)}");
        }
        return problems.Count > 0 ? (Status.Warn, string.Join("; ", problems)) : (Status.Up, string.Join("; ", fine));
    }

    /// <summary>Seconds as OpenSVC writes durations: 1d3h, 90m, 45s.</summary>
    public static string Duration(long seconds)
    {
        if (seconds <= 0)
            return "0s";
        var sb = new System.Text.StringBuilder();
        foreach (var (unit, size) in new[] { ("d", 86400L), ("h", 3600L), ("m", 60L), ("s", 1L) })
        {
            if (seconds >= size)
            {
                sb.Append(seconds / size).Append(unit);
                seconds %= size;
            }
        }
        return sb.ToString();
    }

    static SyncLag Lag(SyncStatusView view, NodeName node) => new(view.LastSync(node), view.MaxDelay, view.Now);

    /// <summary>The image refs a target lacks (by id), or empty: the docker sync's "target node misses images" warning.</summary>
    public static string? MissingImages(NodeName target, IReadOnlyDictionary<string, string> localIds, IReadOnlyCollection<string>? targetIds, DateTimeOffset? asOf)
    {
        ArgumentNullException.ThrowIfNull(localIds);
        if (targetIds is null)
            return null;
        var missing = localIds.Where(kv => !targetIds.Contains(kv.Value)).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        if (missing.Count == 0)
            return null;
        var when = asOf is { } at ? string.Create(CultureInfo.InvariantCulture, $" (as of its last sync, {SyncLag.Stamp(at)})") : "";
        return $"target node {target} misses image(s) {string.Join(", ", missing)}{when}";
    }
}
