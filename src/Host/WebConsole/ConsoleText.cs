using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Html;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Monitoring;

namespace OpenSvc.Host.WebConsole;

/// <summary>The periods the runs and reports pages filter on.</summary>
public static class Periods
{
    public static IReadOnlyList<(string Value, string Label)> All { get; } =
        [("1h", "last hour"), ("24h", "last 24 hours"), ("7d", "last 7 days"), ("30d", "last 30 days"), ("90d", "last 90 days"), ("all", "all time")];

    /// <summary>The start of a period ("24h", "7d"...), or null for all time (and for anything else).</summary>
    public static DateTimeOffset? Since(string? period, DateTimeOffset now) => period switch
    {
        "1h" => now.AddHours(-1),
        "24h" => now.AddDays(-1),
        "7d" => now.AddDays(-7),
        "30d" => now.AddDays(-30),
        "90d" => now.AddDays(-90),
        _ => null,
    };
}

/// <summary>One sync run as the service page charts it: the copy's age just before it landed (lag), bytes sent, duration.</summary>
public sealed record SyncPoint(Guid RunId, DateTimeOffset At, RunStatus Status, TimeSpan? Lag, long Bytes, TimeSpan? Duration);

/// <summary>How the console says things: ages in words, status words and their colour class, plans in a sentence, charts.</summary>
public static class ConsoleText
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>"12 seconds", "4 minutes", "2 hours", "3 days".</summary>
    public static string Words(TimeSpan d)
    {
        if (d < TimeSpan.Zero)
            d = TimeSpan.Zero;
        static string N(double v, string unit) => $"{((int)v).ToString(Inv)} {unit}{((int)v == 1 ? "" : "s")}";
        return d.TotalSeconds < 90 ? N(Math.Round(d.TotalSeconds), "second")
            : d.TotalMinutes < 90 ? N(Math.Round(d.TotalMinutes), "minute")
            : d.TotalHours < 36 ? N(Math.Round(d.TotalHours), "hour")
            : N(Math.Round(d.TotalDays), "day");
    }

    public static string Ago(DateTimeOffset at, DateTimeOffset now) => Words(now - at) + " ago";

    public static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Inv) + " UTC";

    /// <summary>The colour class of a status (always shown with its word).</summary>
    public static string Tone(Status s) => s switch
    {
        Status.Up or Status.StandbyUp => "ok",
        Status.Warn or Status.StandbyDown or Status.Undef => "warn",
        Status.Down => "down",
        _ => "na",
    };

    public static string Tone(CheckLevel l) => l switch
    {
        CheckLevel.Ok => "ok",
        CheckLevel.Warn => "warn",
        _ => "bad",
    };

    public static string Tone(RunStatus s) => s switch
    {
        RunStatus.Completed => "ok",
        RunStatus.Running => "run",
        RunStatus.Cancelled => "warn",
        _ => "bad",
    };

    /// <summary>A copy's protection: never synced is bad, late is warn, within its delay is ok.</summary>
    public static string Tone(SyncLagView lag) => lag.LastSyncAt is null ? "bad" : lag.Status == Status.Up ? "ok" : "warn";

    public static string Word(CheckLevel l) => l.ToString().ToLowerInvariant();

    /// <summary>"takeover on n3", "switch to n2", "sync from n1".</summary>
    public static string What(WorkflowRun run) => run.Action switch
    {
        ServiceAction.Switch => $"switch from {run.Node} to {run.To}",
        ServiceAction.Sync => $"sync from {run.Node}",
        ServiceAction.Giveback or ServiceAction.Reprotect when run.To is { } to => $"{ActionWords.Of(run.Action)} from {run.Node} to {to}",
        _ => $"{ActionWords.Of(run.Action)} on {run.Node}",
    };

    /// <summary>
    /// The plan in plain words: where the service is stopped and started, what is sent where, and for a start on another
    /// node, how old the data it starts from is (what a DR activation loses). Read from the plan's steps and the status's
    /// sync ages: nothing here decides anything.
    /// </summary>
    public static string PlanSentence(Plan plan, ServiceStatusView? status, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(plan);
        switch (plan.Action)
        {
            case ServiceAction.Drill:
                return DrillSentence(plan, status, now);
            case ServiceAction.DrillCleanup:
                return $"Everything a drill of {plan.Service} left on {plan.Node} will be stopped and removed " +
                       $"({And([.. plan.Steps.Select(s => s.Rid.ToString()).Distinct()])}: drill containers and their isolated network, drill mounts, clones); " +
                       $"where nothing of a drill is left a step changes nothing; the synced copy and production{Production(status, plan.Node)} are not touched.";
            case ServiceAction.Reprotect when plan.To is { } home:
                return $"{plan.Service} keeps running on {plan.Node}; {home} will mount its receiving filesystems and {plan.Node}'s data will be sent to {home} " +
                       $"({And(Sends(plan))}), so that {home} holds a recent copy: from then on syncs go from {plan.Node} to {home}, and giveback can bring {plan.Service} home.";
            case ServiceAction.Giveback when plan.To is { } home:
                return $"{plan.Service} will be stopped on {plan.Node}, its data sent to {home} once it has stopped writing ({And(Sends(plan))}: nothing lost), " +
                       $"and started on {home}; the protection then goes from {home} to the DR nodes again.";
        }
        var steps = plan.Steps;
        var stops = steps.Where(s => s.Action == ResourceAction.Stop).Select(s => s.Node.Value).Distinct().ToList();
        var starts = steps.Where(s => s.Action == ResourceAction.Start).Select(s => s.Node.Value).Distinct().ToList();
        var standby = steps.Where(s => s.Action == ResourceAction.StartStandby).Select(s => s.Node.Value).Distinct().ToList();
        var sends = steps.Where(s => s.Action == ResourceAction.Sync && s.Target is not null)
            .Select(s => $"{s.Rid} from {s.Node} to {s.Target}").ToList();
        var parts = new List<string>();
        if (stops.Count > 0)
            parts.Add($"stopped on {And(stops)}");
        if (standby.Count > 0)
            parts.Add($"given its standby resources on {And(standby)}");
        if (sends.Count > 0)
            parts.Add($"synced ({And(sends)})");
        var sentence = $"{plan.Service} will be " + (parts.Count == 0 && starts.Count == 0 ? "left as it is" : "");
        if (starts.Count > 0)
        {
            var start = $"started on {And(starts)}";
            var copies = status?.Syncs.Where(l => starts.Contains(l.Target)).ToList() ?? [];
            if (plan.Action is ServiceAction.Takeover or ServiceAction.Switch && copies.Count > 0 && sends.Count == 0)
            {
                var never = copies.Where(c => c.LastSyncAt is null).Select(c => c.Rid).ToList();
                if (never.Count > 0)
                    start += $", but {And(never)} {(never.Count == 1 ? "was" : "were")} never synced to {And(starts)}: what would be lost is unknown";
                else
                {
                    var age = Words(now - copies.Min(c => c.LastSyncAt!.Value));
                    start += $" from data synced {age} ago: changes of the last {age} will be lost";
                }
            }
            parts.Add(start);
        }
        return sentence + And(parts) + ".";
    }

    /// <summary>
    /// A drill: the DR copy started in isolation on the DR node from its last synced data (how old it is, from the status's
    /// sync ages), production left running; with its --keep, when it cleans itself up.
    /// </summary>
    static string DrillSentence(Plan plan, ServiceStatusView? status, DateTimeOffset now)
    {
        var node = plan.Node.Value;
        var copies = status?.Syncs.Where(l => l.Target == node).ToList() ?? [];
        var from = copies.Count == 0 ? ""
            : copies.Any(c => c.LastSyncAt is null) ? $", but {And([.. copies.Where(c => c.LastSyncAt is null).Select(c => c.Rid)])} never synced to {node}: the drill may find no data"
            : $", from data synced {Words(now - copies.Min(c => c.LastSyncAt!.Value))} ago";
        var check = plan.Steps.Any(s => s.Action == ResourceAction.DrillCheck) ? " It is then checked to answer." : "";
        var keep = plan.Keep is { } k ? $" It is cleaned up on its own {Words(k)} after the request." : " It stays until you clean it up.";
        return $"{plan.Service}'s DR copy will be started on {node} in isolation, under drill names{from}; production{Production(status, plan.Node)} is not touched.{check}{keep}";
    }

    /// <summary>" on n1" where the service runs on another node than <paramref name="node"/>, else nothing.</summary>
    static string Production(ServiceStatusView? status, NodeName node)
    {
        var running = status?.Instances.Where(i => i.Node != node.Value && i.Report?.Avail is Status.Up or Status.Warn).Select(i => i.Node).ToList() ?? [];
        return running.Count > 0 ? $" on {And(running)}" : "";
    }

    static List<string> Sends(Plan plan) =>
        [.. plan.Steps.Where(s => s.Action == ResourceAction.Sync && s.Target is not null).Select(s => s.Rid.ToString()).Distinct()];

    static string And(IReadOnlyList<string> items) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1],
    };

    /// <summary>The sync runs of a service, oldest first, with the age of each copy just before the run landed it.</summary>
    public static IReadOnlyList<SyncPoint> SyncHistory(IEnumerable<WorkflowRun> syncRuns)
    {
        ArgumentNullException.ThrowIfNull(syncRuns);
        var last = new Dictionary<(string, string), DateTimeOffset>();
        var points = new List<SyncPoint>();
        foreach (var run in syncRuns.Where(r => r.Action == ServiceAction.Sync && r.IsFinished && r.Status != RunStatus.Refused).OrderBy(r => r.RequestedAt))
        {
            TimeSpan? lag = null;
            long bytes = 0;
            foreach (var s in run.Steps.Where(s => s.Step.Action == ResourceAction.Sync && s.Status == StepStatus.Succeeded && s.EndedAt is not null && s.Step.Target is not null))
            {
                var key = (s.Step.Rid.ToString(), s.Step.Target!.Value.Value);
                if (last.TryGetValue(key, out var before))
                    lag = Max(lag, s.EndedAt!.Value - before);
                last[key] = s.EndedAt!.Value;
                if (s.Metrics is { } m && (m.TryGetValue("bytes_sent", out var b) || m.TryGetValue("bytes", out b)))
                    bytes += b;
            }
            points.Add(new SyncPoint(run.Id, run.RequestedAt, run.Status, lag, bytes, run.EndedAt - run.RequestedAt));
        }
        return points;
    }

    static TimeSpan? Max(TimeSpan? a, TimeSpan b) => a is { } x && x > b ? x : b;

    public static string Bytes(long b) => b switch
    {
        < 1024 => $"{b.ToString(Inv)} B",
        < 1024 * 1024 => $"{(b / 1024.0).ToString("0.#", Inv)} KiB",
        < 1024L * 1024 * 1024 => $"{(b / 1048576.0).ToString("0.#", Inv)} MiB",
        _ => $"{(b / 1073741824.0).ToString("0.##", Inv)} GiB",
    };

    /// <summary>
    /// A small bar chart drawn on the server: one bar per sync run (failed runs in the failure colour, marked ✕), the scale's
    /// maximum on the left, each bar titled with its run and value, and a text summary for screen readers.
    /// </summary>
    public static IHtmlContent Chart(string title, IReadOnlyList<SyncPoint> points, Func<SyncPoint, double?> value, Func<double, string> format)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(format);
        const int width = 320, height = 90, left = 58, top = 8, bottom = 18;
        var values = points.Select(value).ToList();
        var max = values.Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(0).Max();
        var plotW = width - left - 4;
        var plotH = height - top - bottom;
        var bar = points.Count == 0 ? 0 : Math.Max(2.0, Math.Min(24.0, plotW / (double)points.Count - 2));
        var sb = new StringBuilder();
        var summary = points.Count == 0 ? $"{title}: no sync run yet"
            : $"{title}: {points.Count} runs, last {(values[^1] is { } lv ? format(lv) : "n/a")}, highest {format(max)}";
        sb.Append(Inv, $"<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{E(summary)}\"><title>{E(summary)}</title>");
        sb.Append(Inv, $"<text x=\"{left - 4}\" y=\"{top + 8}\" class=\"axis\" text-anchor=\"end\">{E(format(max))}</text>");
        sb.Append(Inv, $"<text x=\"{left - 4}\" y=\"{top + plotH}\" class=\"axis\" text-anchor=\"end\">0</text>");
        sb.Append(Inv, $"<line x1=\"{left}\" y1=\"{top + plotH}\" x2=\"{width - 4}\" y2=\"{top + plotH}\" class=\"base\"/>");
        for (var i = 0; i < points.Count; i++)
        {
            var p = points[i];
            var x = left + 1 + i * (plotW / (double)points.Count);
            var v = values[i];
            var failed = p.Status != RunStatus.Completed;
            var h = v is { } val && max > 0 ? Math.Max(1, val / max * plotH) : failed ? plotH : 1;
            var label = $"run {RunTimeline.Short(p.RunId)} at {Utc(p.At)}: {(v is { } vv ? format(vv) : "n/a")}{(failed ? $" ({RunTimeline.Status(p.Status)})" : "")}";
            sb.Append(Inv, $"<rect x=\"{x:0.#}\" y=\"{top + plotH - h:0.#}\" width=\"{bar:0.#}\" height=\"{h:0.#}\" class=\"{(failed ? "bar failed" : "bar")}\"><title>{E(label)}</title></rect>");
            if (failed)
                sb.Append(Inv, $"<text x=\"{x + bar / 2:0.#}\" y=\"{top + plotH + 12}\" class=\"axis\" text-anchor=\"middle\">✕</text>");
        }
        if (points.Count > 0)
        {
            sb.Append(Inv, $"<text x=\"{left}\" y=\"{height - 2}\" class=\"axis\">{E(points[0].At.UtcDateTime.ToString("MM-dd HH:mm", Inv))}</text>");
            sb.Append(Inv, $"<text x=\"{width - 4}\" y=\"{height - 2}\" class=\"axis\" text-anchor=\"end\">{E(points[^1].At.UtcDateTime.ToString("MM-dd HH:mm", Inv))}</text>");
        }
        sb.Append("</svg>");
        return new HtmlString(sb.ToString());
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
