using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Syncs;

/// <summary>
/// The last successful sync of one resource to one target, written in the same transaction as the
/// StepSucceeded it comes from (an inline projection of sync outcomes). Id: "service/rid/target".
/// What a DR drill asks first: how old is the copy on the DR site?
/// </summary>
public sealed record LastSync(string Id, string Service, string Rid, string Sender, string Target, DateTimeOffset At, Guid RunId, long Bytes, TimeSpan Duration)
{
    public static string Key(string service, string rid, string target) => $"{service}/{rid}/{target}";

    public static LastSync From(WorkflowRun run, PlanStep step, NodeName target, StepSucceeded ok) =>
        new(Key(run.Service, step.Rid.ToString(), target.Value), run.Service, step.Rid.ToString(), step.Node.Value, target.Value, ok.At, run.Id,
            ok.Metrics is { } m && (m.TryGetValue("bytes_sent", out var b) || m.TryGetValue("bytes", out b)) ? b : 0, ok.Duration);

    /// <summary>Lag as an operator reads it against sync_max_delay.</summary>
    public static (Status Status, string Message) Lag(LastSync? last, TimeSpan maxDelay, DateTimeOffset now) => last switch
    {
        null => (Status.Warn, "never synced"),
        _ when now - last.At > maxDelay => (Status.Warn, $"last sync {RunTimeline.Duration(now - last.At)} ago, older than {RunTimeline.Duration(maxDelay)}"),
        _ => (Status.Up, $"last sync {RunTimeline.Duration(now - last.At)} ago"),
    };
}
