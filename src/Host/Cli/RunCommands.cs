using System.CommandLine;
using System.Globalization;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.Cli;

/// <summary>`opensvc runs`, `opensvc run show ID`, `opensvc run cancel ID`, `opensvc agents`: the audit trail and its controls.</summary>
public static class RunCommands
{
    public static Command Runs(ServerOptions server)
    {
        var service = new Option<string?>("--service") { Description = "only runs of this service" };
        var since = new Option<string?>("--since") { Description = "only runs requested since: a UTC time (2026-11-24T10:00) or a duration back from now (90m, 2h, 3d)" };
        var action = new Option<string?>("--action") { Description = "only this action: start, stop, startstandby, switch, takeover, sync, reprotect, giveback" };
        var status = new Option<string?>("--status") { Description = "only this status: running, completed, failed, cancelled, refused" };
        var limit = new Option<int>("--limit") { Description = "at most this many runs (newest first)", DefaultValueFactory = _ => 50 };
        var cmd = new Command("runs", "List workflow runs, newest first, from the event store") { service, since, action, status, limit };
        cmd.SetAction(async (p, ct) =>
        {
            var filter = new RunFilter(p.GetValue(service), ParseSince(p.GetValue(since)), ParseAction(p.GetValue(action)),
                ParseStatus(p.GetValue(status)), Math.Clamp(p.GetValue(limit), 1, 10_000));
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var runs = await cluster.Client.ListRunsAsync(filter, ct).ConfigureAwait(false);
            Console.WriteLine(RunTimeline.Header);
            foreach (var r in runs)
                Console.WriteLine(RunTimeline.Line(r));
            if (runs.Count == 0)
                Console.WriteLine("(no runs match)");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    public static Command Run(ServerOptions server)
    {
        var id = new Argument<string>("id") { Description = "run id, or its first characters" };
        var show = new Command("show", "Show a run's timeline: each step with node, start, end, duration, outcome, attempts and output tail") { id };
        show.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var (run, problem) = await cluster.Client.FindRunAsync(p.GetValue(id)!, ct).ConfigureAwait(false);
            if (run is null)
                throw new UserError(problem!);
            Console.Write(RunTimeline.Show(run, DateTimeOffset.UtcNow));
            return ExitCodes.Ok;
        });

        var cancelId = new Argument<string>("id") { Description = "run id, or its first characters" };
        var reason = new Option<string?>("--reason") { Description = "why, for the audit trail" };
        var cancel = new Command("cancel", "Cancel a run: no further step starts; a running step finishes") { cancelId, reason };
        cancel.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var (run, problem) = await cluster.Client.FindRunAsync(p.GetValue(cancelId)!, ct).ConfigureAwait(false);
            if (run is null)
                throw new UserError(problem!);
            var result = await cluster.Client.CancelAsync(new CancelRun(run.Id, Operator(), p.GetValue(reason)), ct).ConfigureAwait(false);
            Console.WriteLine(result.Message);
            return result.Accepted ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return new Command("run", "Inspect or control one workflow run") { show, cancel };
    }

    public static Command Agents(ServerOptions server)
    {
        var cmd = new Command("agents", "List node agents with their last heartbeat and queues");
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var agents = await cluster.Client.AgentsAsync(ct).ConfigureAwait(false);
            Console.WriteLine($"{"NODE",-10} {"STATE",-8} {"LAST SEEN",-10} {"PID",7}  {"DATABASE",-21}  QUEUES");
            foreach (var a in agents)
                Console.WriteLine($"{a.Id,-10} {(a.Alive ? "alive" : "silent"),-8} {RunTimeline.Duration(a.SinceLastSeen) + " ago",-10} {a.ProcessId,7}  {a.Database ?? "-",-21}  {string.Join(",", a.Queues)}");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    public static string Operator() =>
        Environment.GetEnvironmentVariable("SUDO_USER") is { Length: > 0 } sudo ? sudo : Environment.UserName;

    public static DateTimeOffset? ParseSince(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            return at;
        var unit = text[^1];
        if (double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
        {
            TimeSpan? back = unit switch
            {
                's' => TimeSpan.FromSeconds(n),
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                _ => null,
            };
            if (back is { } b)
                return DateTimeOffset.UtcNow - b;
        }
        throw new UserError($"--since '{text}' is neither a time (2026-11-24T10:00) nor a duration (90m, 2h, 3d)");
    }

    public static ServiceAction? ParseAction(string? text) =>
        string.IsNullOrEmpty(text) ? null
        : ActionWords.ParseServiceAction(text) ?? throw new UserError($"action '{text}' is not one of {string.Join(", ", ActionWords.ServiceActions)}");

    static RunStatus? ParseStatus(string? text) =>
        string.IsNullOrEmpty(text) ? null
        : Enum.TryParse<RunStatus>(text, ignoreCase: true, out var s) ? s
        : throw new UserError($"--status '{text}' is not one of running, completed, failed, cancelled, refused");
}
