using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Syncs;

/// <summary>
/// The control plane's record of the last successful sync of one resource to one target, written in the same
/// transaction as the StepSucceeded it comes from (never ahead of or behind it). Id: "service/rid/target". What a DR
/// drill asks first: how old is the copy on the DR site? (Stored under its earlier name, "lastsync".)
/// </summary>
public sealed record SyncRecord(string Id, string Service, string Rid, string Sender, string Target, DateTimeOffset At, Guid RunId, long Bytes, TimeSpan Duration)
{
    public static string Key(string service, string rid, string target) => $"{service}/{rid}/{target}";

    public static SyncRecord From(WorkflowRun run, PlanStep step, NodeName target, StepSucceeded ok)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(ok);
        return new(Key(run.Service, step.Rid.ToString(), target.Value), run.Service, step.Rid.ToString(), step.Node.Value, target.Value, ok.At, run.Id,
            ok.Metrics is { } m && (m.TryGetValue("bytes_sent", out var b) || m.TryGetValue("bytes", out b)) ? b : 0, ok.Duration);
    }
}
