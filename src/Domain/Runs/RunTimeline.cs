using OpenSvc.Domain.Planning;
using System.Globalization;
using System.Text;

namespace OpenSvc.Domain.Runs;

/// <summary>Human-readable views of runs for the CLI: one line per run, and the timeline of one run.</summary>
public static class RunTimeline
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Status(RunStatus s) => s.ToString().ToLowerInvariant();

    public static string Status(StepStatus s) => s switch
    {
        StepStatus.Succeeded => "ok",
        StepStatus.Failed => "failed",
        StepStatus.Compensated => "ok, rolled back",
        _ => s.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// The short form operators type: the last 8 hex digits. Run ids are version-7 GUIDs whose leading digits
    /// are a timestamp shared by every run of the same minute; the tail is random.
    /// </summary>
    public static string Short(Guid id) => id.ToString()[^8..];

    public static string Duration(TimeSpan? d) => d switch
    {
        null => "-",
        { TotalSeconds: < 1 } x => $"{x.TotalMilliseconds.ToString("0", Inv)}ms",
        { TotalMinutes: < 1 } x => $"{x.TotalSeconds.ToString("0.0", Inv)}s",
        { TotalHours: < 1 } x => $"{(int)x.TotalMinutes}m{x.Seconds:00}s",
        var x => $"{(int)x.Value.TotalHours}h{x.Value.Minutes:00}m",
    };

    public static string Header => $"{"RUN",-8}  {"SERVICE",-12} {"ACTION",-12} {"NODE",-8} {"STATUS",-10} {"REQUESTED (UTC)",-19}  {"DURATION",-9} BY";

    public static string Line(WorkflowRun r) =>
        $"{Short(r.Id),-8}  {r.Service,-12} {ActionWords.Of(r.Action) + (r.To is { } to ? $">{to}" : ""),-12} {r.Node.Value,-8} {Status(r.Status),-10} " +
        $"{r.RequestedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Inv),-19}  {Duration(r.EndedAt - r.RequestedAt),-9} {r.RequestedBy}";

    public static string Show(WorkflowRun r, DateTimeOffset now)
    {
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"run {r.Id}");
        sb.AppendLine(Inv, $"  service   {r.Service}");
        sb.AppendLine(Inv, $"  action    {ActionWords.Of(r.Action)}{(r.To is { } to ? $" --to {to}" : "")} on {r.Node}{(r.Force ? " (forced)" : "")}");
        sb.AppendLine(Inv, $"  asked by  {r.RequestedBy} at {r.RequestedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", Inv)} UTC{(r.Reason is { Length: > 0 } why ? $", reason: {why}" : "")}");
        if (r.ConfigVersion.Length > 0)
            sb.AppendLine(Inv, $"  config    {r.ConfigVersion}");
        var end = r.EndedAt ?? now;
        sb.AppendLine(Inv, $"  status    {Status(r.Status)}{(r.Outcome is { } o && r.Status != RunStatus.Completed ? $": {o}" : "")}, {Duration(end - r.RequestedAt)}{(r.EndedAt is null ? " so far" : "")}");
        if (r.Recovery is { } m)
        {
            // A drill starts a copy beside production, which never goes down: its RPO is the age of the data it used.
            var drill = r.Action == ServiceAction.Drill;
            var down = drill ? "; production untouched"
                : m.Downtime is { } d ? $"; down {Duration(d)} (since {m.DownSinceFrom})" : "; downtime unknown (when the service went down is not on record)";
            sb.AppendLine(Inv, $"  recovery  RTO {Duration(m.Rto)} (request to the last {(drill ? "drill start" : "start")} on {m.Node}){down}");
            var copies = m.DataAges.Count == 0 ? ": no synced copy (shared storage or no sync resource)" : ":";
            sb.AppendLine(Inv, $"            RPO {(m.Rpo is { } rpo ? Duration(rpo) : "unknown")} at cut-over {m.CutOver.UtcDateTime.ToString("HH:mm:ss.fff", Inv)}{copies}");
            foreach (var age in m.DataAges)
            {
                var lost = age.Age is { } a
                    ? $"{Duration(a)} {(drill ? "old: the drill started from" : "of changes lost")} (last sync {SyncLag.Stamp(age.LastSyncAt!.Value)}, run {Short(age.LastSyncRun!.Value)})"
                    : drill ? "never synced to this node: the drill had no copy of it" : "never synced to this node: what was lost is unknown";
                sb.AppendLine(Inv, $"              {age.Rid} on {age.Target}: {lost}");
            }
        }
        foreach (var late in r.LateOutcomes)
        {
            var what = late.Succeeded ? "success" : $"failure ({late.Error})";
            sb.AppendLine(Inv, $"  late      step {late.Step + 1} execution {late.Execution} reported {what} at {Time(late.At)}: ignored, {late.Why}");
        }
        if (r.Steps.Count == 0)
            return sb.ToString();
        sb.AppendLine();
        sb.AppendLine(Inv, $"  {"#",3} {"NODE",-6} {"ACTION",-12} {"RESOURCE",-12} {"START (UTC)",-12} {"END",-12} {"TOOK",-8} {"TRIES",5}  OUTCOME");
        foreach (var s in r.Steps)
        {
            var p = s.Step;
            var action = ActionWords.Of(p.Action) + (s.Compensates is { } c ? $" (undo {c + 1})" : "");
            var res = p.Rid + (p.Target is { } t ? $">{t}" : "");
            var outcome = Status(s.Status) + (s.TimedOut ? " (timed out)" : "") + (s.Status == StepStatus.Succeeded && !s.Changed ? " (no change)" : "");
            sb.AppendLine(Inv,
                $"  {p.Index + 1,3} {p.Node.Value,-6} {action,-12} {res,-12} {Time(s.StartedAt),-12} {Time(s.EndedAt),-12} {Duration(s.Duration),-8} {s.Attempt,5}  {outcome}");
            var detail = s.Error ?? (s.Status is StepStatus.Succeeded or StepStatus.Compensated ? s.Output : null);
            if (!string.IsNullOrWhiteSpace(detail))
                foreach (var line in detail.TrimEnd().Split('\n').TakeLast(3))
                    sb.AppendLine(Inv, $"        | {line}");
        }
        return sb.ToString();
    }

    static string Time(DateTimeOffset? t) => t?.UtcDateTime.ToString("HH:mm:ss.fff", Inv) ?? "-";
}
