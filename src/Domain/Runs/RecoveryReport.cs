using System.Globalization;
using System.Text;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Runs;

/// <summary>One DR exercise or activation as an auditor reads it: who asked what, when, how it ended, RTO and RPO.</summary>
public sealed record RecoveryReportRow(
    Guid RunId, string Service, string Kind, string Node, string? From, string By, string? Reason, DateTimeOffset RequestedAt,
    string Result, TimeSpan? Rto, TimeSpan? Rpo, TimeSpan? Downtime, IReadOnlyList<DataAge> DataAges)
{
    public static RecoveryReportRow Of(WorkflowRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var m = run.Recovery;
        var from = run.Action == ServiceAction.Switch ? run.Node.Value : null;
        return new(run.Id, run.Service, ActionWords.Of(run.Action), Recovery.Destination(run).Value, from, run.RequestedBy, run.Reason, run.RequestedAt,
            RunTimeline.Status(run.Status) + (run.Status is RunStatus.Completed or RunStatus.Running ? "" : $": {run.Outcome}"),
            m?.Rto, m?.Rpo, m?.Downtime, m?.DataAges ?? []);
    }
}

/// <summary>The recovery report as text, CSV and the same columns everywhere.</summary>
public static class RecoveryReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Text(IReadOnlyList<RecoveryReportRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder();
        sb.AppendLine(Inv, $"{"RUN",-8}  {"SERVICE",-12} {"KIND",-9} {"NODE",-6} {"REQUESTED (UTC)",-19}  {"BY",-14} {"RTO",-8} {"RPO",-8} {"DOWN",-8} RESULT");
        foreach (var r in rows)
            sb.AppendLine(Inv, $"{RunTimeline.Short(r.RunId),-8}  {r.Service,-12} {r.Kind,-9} {r.Node,-6} {r.RequestedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", Inv),-19}  " +
                $"{r.By,-14} {RunTimeline.Duration(r.Rto),-8} {Rpo(r),-8} {RunTimeline.Duration(r.Downtime),-8} {r.Result}");
        if (rows.Count == 0)
            sb.AppendLine("(no takeover, switch or drill matches)");
        return sb.ToString();
    }

    /// <summary>RFC 4180 CSV, durations in seconds, one line per run; data ages as "rid@node=seconds" joined by spaces.</summary>
    public static string Csv(IReadOnlyList<RecoveryReportRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var sb = new StringBuilder("run_id,service,kind,node,from,requested_at,by,reason,result,rto_s,rpo_s,downtime_s,data_ages\r\n");
        foreach (var r in rows)
        {
            string[] cells =
            [
                r.RunId.ToString(), r.Service, r.Kind, r.Node, r.From ?? "", r.RequestedAt.UtcDateTime.ToString("O", Inv), r.By, r.Reason ?? "", r.Result,
                Seconds(r.Rto), Seconds(r.Rpo), Seconds(r.Downtime),
                string.Join(' ', r.DataAges.Select(d => $"{d.Rid}@{d.Target}={(d.Age is { } a ? Seconds(a) : "never")}")),
            ];
            sb.Append(string.Join(',', cells.Select(Quote))).Append("\r\n");
        }
        return sb.ToString();
    }

    static string Rpo(RecoveryReportRow r) => r.Rpo is { } rpo ? RunTimeline.Duration(rpo) : r.DataAges.Count > 0 ? "unknown" : "-";

    static string Seconds(TimeSpan? d) => d is { } x ? x.TotalSeconds.ToString("0.###", Inv) : "";

    static string Quote(string cell) =>
        cell.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
}
