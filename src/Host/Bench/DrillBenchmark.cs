using System.CommandLine;
using System.Globalization;
using System.Text;
using Marten;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Cli;
using OpenSvc.Host.Demo;
using OpenSvc.Infrastructure.Drivers.Drill;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Host.Bench;

/// <summary>One round of <c>opensvc bench drill</c>: the drill and the real takeover of the same service, as their runs recorded them.</summary>
/// <param name="DrillRto">The drill's recorded RTO: request → the last drill-start that succeeded; null when the drill failed.</param>
/// <param name="CloneBytes">Bytes the drill's clone steps wrote to the DR node's disk (their <c>disk_bytes_written</c>), null if not measured.</param>
/// <param name="DrillDiskBytes">Bytes written to the DR node's disk from the drill's request to its end (clones, mounts, container starts, the check).</param>
/// <param name="TakeoverRto">The takeover's recorded RTO: request → the last start step that succeeded.</param>
/// <param name="DrillFailure">Why the drill failed (its run's outcome: step and message), or null.</param>
public sealed record DrillRound(int Round, TimeSpan? DrillRto, long? CloneBytes, long? DrillDiskBytes, TimeSpan TakeoverRto, string? DrillFailure = null)
{
    public double Ratio => DrillRto is { } d && TakeoverRto > TimeSpan.Zero ? d / TakeoverRto : double.NaN;

    /// <summary>
    /// The takeover as issue 17 measures the engine: request → its last step's end, and of that what the engine added
    /// (minus the steps' own driver time, <c>StepSucceeded.Duration</c>); null when not read.
    /// </summary>
    public EngineBenchmark.TakeoverFigures? Takeover { get; init; }
}

/// <summary>
/// <c>opensvc bench drill</c>: on the lab, the seed's failover service (the demo's set-up: lab up, one agent per node with
/// the real drivers, svc1 started on n1 and synced to the DR node n3), then N rounds of: a sync, a drill on n3 and its
/// cleanup, a real takeover on n3 (after a stop on n1), and the way back (a forced stop on n3, start on n1). Prints each
/// run's RTO as the run recorded it (its RecoveryMeasured), the ratio drill/takeover with its spread, and the bytes the
/// clones wrote to n3's disk (the clone steps' own measure, from the device's write counter). Figures, not a test.
/// </summary>
public static class DrillBenchmark
{
    const string Service = "svc1";
    /// <summary>A mount of n3's disk at all times: svc1's fs#0 (standby, always_on there; lab/services/failover.conf).</summary>
    const string DataMount = "/srv/svc1/docker";

    public static Command Create()
    {
        var rounds = new Option<int>("--rounds") { Description = "rounds of drill + cleanup + takeover + back to n1", DefaultValueFactory = _ => 3 };
        var repo = new Option<DirectoryInfo?>("--repo") { Description = "the OpenSvc checkout holding lab/ (default: found above this executable)" };
        var drill = new Command("drill",
            "On the lab (needs root; run under flock /tmp/opensvc-lab.lock): the RTO of a drill of the seed's failover service on its DR node against " +
            "the RTO of a real takeover there, and the bytes the drill's clones write to the DR disk")
        {
            rounds, repo,
        };
        drill.SetAction(async (p, ct) =>
        {
            var n = p.GetValue(rounds);
            if (n is < 1 or > 20)
                throw new UserError($"--rounds {n} is out of range (1-20)");
            if (!Environment.IsPrivilegedProcess)
                throw new UserError("bench drill brings up the 3-node lab (namespaces, loop devices, dockerd per node): run it as root");
            var root = p.GetValue(repo)?.FullName ?? Demo.DemoCommand.FindRepo()
                ?? throw new UserError("bench drill needs the OpenSvc checkout's lab/ directory: run it from the repository or pass --repo DIR");
            using var run = new DemoRun(root, wait: false) { Label = "bench drill", Scenario = (demo, token) => RoundsAsync(demo, n, Console.Out, token) };
            return await run.RunAsync(ct).ConfigureAwait(false);
        });
        return drill;
    }

    static async Task<int> RoundsAsync(DemoRun lab, int rounds, TextWriter output, CancellationToken ct)
    {
        await using var store = DocumentStore.For(o => WorkflowStore.Configure(o, lab.ClusterConnection));
        var dev = lab.Device("n3");
        lab.Say($"svc1 on n1, synced to n3 (disk {dev}); {rounds} rounds of drill + cleanup + takeover; load average {LoadAverage()}");
        var created = await lab.CliAsync(echo: false, "svc", "create", Service, "--config", lab.ConfigPath).ConfigureAwait(false);
        if (created.Code != 0)
        {
            output.Write(created.Output);
            return created.Code;
        }
        if (await ActAsync(lab, store, "svc", "start", Service, "--node", "n1").ConfigureAwait(false) is null)
            return ExitCodes.Failed;
        var results = new List<DrillRound>();
        for (var round = 1; round <= rounds; round++)
        {
            // Where the previous round left it: back on n1, the DR node's receiving filesystems to mount again.
            foreach (var args in new[] { (string[])["svc", "startstandby", Service, "--node", "n3"], ["svc", "sync", Service, "--node", "n1"] })
                if (await ActAsync(lab, store, args) is null)
                    return ExitCodes.Failed;

            // Like for like: a drill creates its containers every time (cleanup removes them), so each round's takeover
            // starts, as the first takeover after a site loss does, on a DR node where the service's containers do not
            // exist yet; a stopped container left by the previous round's takeover would only be started, not created.
            // And the service's dockerd on n3, started again by this round's sync, runs one throwaway container first: on a
            // DR node it runs from the first sync on, and a drill or takeover meets it warm, not with its first container.
            var removed = await lab.NodeRunAsync("n3", ["sh", "-c", "s=$1; shift; for c; do docker -H \"unix://$s\" rm -f -- \"$c\" >/dev/null 2>&1; done; for c; do ! docker -H \"unix://$s\" inspect -- \"$c\" >/dev/null 2>&1 || exit 1; done; docker -H \"unix://$s\" run --rm --net=none -- \"$0\" true",
                "opensvc/busybox:lab", DemoRun.NodeDockerSocket, $"{Service}.container.0", $"{Service}.container.1"], ct)
                .ConfigureAwait(false);
            if (!removed.Succeeded)
            {
                lab.Say($"FAILED: removing the stopped containers of {Service} on n3: {removed.Tail()}");
                return ExitCodes.Failed;
            }

            if (!await SettleAsync(lab, ct).ConfigureAwait(false))
                return ExitCodes.Failed;

            // A drill that fails still tells what its clones wrote (their steps succeeded before the failure and were rolled
            // back), and the takeover is measured anyway: the round reports the drill's failure instead of its RTO.
            var before = DrillNames.BytesWritten(dev);
            var drilled = await ActAsync(lab, store, "svc", "drill", Service, "--node", "n3", "--reason", $"bench drill, round {round}").ConfigureAwait(false);
            var drill = drilled ?? await LastRunAsync(store, ServiceAction.Drill).ConfigureAwait(false);
            var after = DrillNames.BytesWritten(dev);
            if (drill is null)
                return ExitCodes.Failed;
            var clones = drill.Steps.Where(s => s.Compensates is null && s.Step.Action == ResourceAction.DrillStart && s.Metrics?.ContainsKey("disk_bytes_written") == true).ToList();
            long? cloneBytes = clones.Count > 0 ? clones.Sum(s => s.Metrics!["disk_bytes_written"]) : null;
            if (await ActAsync(lab, store, "svc", "drill-cleanup", Service, "--node", "n3") is null)
                return ExitCodes.Failed;

            if (await ActAsync(lab, store, "svc", "stop", Service, "--node", "n1") is null)
                return ExitCodes.Failed;
            if (!await SettleAsync(lab, ct).ConfigureAwait(false))
                return ExitCodes.Failed;
            var takeover = await ActAsync(lab, store, "svc", "takeover", Service, "--node", "n3", "--reason", $"bench drill, round {round}: the real takeover");
            if (takeover is null)
                return ExitCodes.Failed;
            IReadOnlyList<object> takeoverEvents;
            await using (var query = store.QuerySession())
                takeoverEvents = [.. (await query.Events.FetchStreamAsync(takeover.Id, token: ct).ConfigureAwait(false)).Select(e => e.Data)];
            var result = new DrillRound(round, drilled is null ? null : drill.Recovery?.Rto ?? TimeSpan.Zero, cloneBytes, before is { } b && after is { } a ? a - b : null,
                takeover.Recovery?.Rto ?? TimeSpan.Zero, drilled is null ? drill.Outcome ?? drill.Status.ToString() : null)
            {
                Takeover = EngineBenchmark.TakeoverFigures.From(takeoverEvents),
            };
            results.Add(result);
            lab.Say(Line(result));
            lab.Say($"  drill:    {Breakdown(drill)}");
            lab.Say($"  takeover: {Breakdown(takeover)}");
            lab.Say($"  takeover's first step: {await FirstStepWayAsync(lab.ClusterConnection, takeover, ct).ConfigureAwait(false)}");

            foreach (var args in new[] { (string[])["svc", "stop", Service, "--node", "n3", "--force", "--reason", "bench drill: back to n1 for the next round"], ["svc", "start", Service, "--node", "n1"] })
                if (await ActAsync(lab, store, args) is null)
                    return ExitCodes.Failed;
        }
        output.WriteLine();
        output.Write(Report(results));
        output.WriteLine($"load average at the end: {LoadAverage()} (other processes on this machine weigh on every figure)");
        return results.Any(r => r.DrillFailure is not null) ? ExitCodes.Failed : ExitCodes.Ok;
    }

    /// <summary>
    /// Before each measured run, n3's disk is left quiet: btrfs deletes subvolumes (removed containers' layers, the last
    /// drill's clone) in the background, and a run measured while its cleaner works pays for the previous one's cleanup.
    /// Waits for the deleted subvolumes to be gone, then commits.
    /// </summary>
    static async Task<bool> SettleAsync(DemoRun lab, CancellationToken ct)
    {
        var settled = await lab.NodeRunAsync("n3", ["sh", "-c", "btrfs subvolume sync -- \"$1\" >/dev/null 2>&1; sync -f -- \"$1\"", "settle", DataMount], ct).ConfigureAwait(false);
        if (!settled.Succeeded)
            lab.Say($"FAILED: waiting for n3's disk to settle: exit {settled.ExitCode}: {settled.Tail()}");
        return settled.Succeeded;
    }

    static async Task<WorkflowRun?> LastRunAsync(IDocumentStore store, ServiceAction action)
    {
        await using var query = store.QuerySession();
        var runs = await query.Query<WorkflowRun>().Where(r => r.Service == Service && r.Action == action).ToListAsync().ConfigureAwait(false);
        return runs.MaxBy(r => r.RequestedAt);
    }

    /// <summary>Runs an action through n1's API and reads its run back; on failure says which step failed and why, and returns null.</summary>
    static async Task<WorkflowRun?> ActAsync(DemoRun lab, IDocumentStore store, params string[] args)
    {
        var (code, text) = await lab.CliAsync(echo: false, args).ConfigureAwait(false);
        var id = System.Text.RegularExpressions.Regex.Match(text, @"run ([0-9a-f-]{36}):");
        WorkflowRun? run = null;
        if (id.Success)
        {
            await using var query = store.QuerySession();
            run = await query.LoadAsync<WorkflowRun>(Guid.Parse(id.Groups[1].Value)).ConfigureAwait(false);
        }
        if (code == 0 && run is { Status: RunStatus.Completed })
            return run;
        lab.Say($"FAILED: opensvc {string.Join(' ', args)} exited {code}{(run is null ? "" : $", run {run.Id} {run.Status.ToString().ToLowerInvariant()}: {run.Outcome}")}");
        foreach (var s in run?.Steps.Where(s => s.Status == StepStatus.Failed || s.Error is not null) ?? [])
            lab.Say($"  {ActionWords.Describe(s)}: {s.Status.ToString().ToLowerInvariant()} after {s.Attempt} attempt(s): {s.Error}");
        Console.Write(text);
        return null;
    }

    /// <summary>
    /// Where a run's time went: the wait before its first step, each step's own time, and the gaps between them. A step
    /// that started while an earlier one still ran (they wait for nothing of each other) is marked <c>‖</c>.
    /// </summary>
    static string Breakdown(WorkflowRun run)
    {
        var sb = new StringBuilder();
        var last = run.RequestedAt;
        foreach (var s in run.Steps.Where(s => s.Compensates is null && s.StartedAt is not null).OrderBy(s => s.StartedAt))
        {
            var gap = (s.StartedAt!.Value - last).TotalMilliseconds;
            if (gap >= 1)
                sb.Append(CultureInfo.InvariantCulture, $"+{gap:0} ");
            else if (gap < 0)
                sb.Append("‖ ");
            sb.Append(CultureInfo.InvariantCulture, $"{ActionWords.Step(s.Step)} {s.Duration?.TotalMilliseconds ?? 0:0}, ");
            var end = s.EndedAt ?? s.StartedAt.Value;
            if (end > last)
                last = end;
        }
        return sb.Append("(ms)").ToString();
    }

    /// <summary>
    /// The way of a run's first step from the request to its claim, in ms from the request: its Hangfire job created and
    /// enqueued (by the requesting agent, after the run's first transaction), then taken by a worker of the node's agent
    /// (Processing), then claimed (StepStarted) and its driver started. Hangfire's own states, from its job tables.
    /// </summary>
    static async Task<string> FirstStepWayAsync(string connection, WorkflowRun run, CancellationToken ct)
    {
        var states = new List<(string Name, DateTime At)>();
        try
        {
            await using var conn = new Npgsql.NpgsqlConnection(connection);
            await conn.OpenAsync(ct).ConfigureAwait(false);
            await using var cmd = new Npgsql.NpgsqlCommand(
                "select j.arguments::text, j.createdat, s.name, s.createdat, j.id from hangfire.job j join hangfire.state s on s.jobid = j.id " +
                "where j.arguments::text like @run order by s.id", conn);
            cmd.Parameters.AddWithValue("run", "%" + run.Id.ToString() + "%");
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            long? job = null;
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                // The first job of step 1: its first execution (a requeue would be a later job).
                if (WebConsole.HangfireJobs.Parse(reader.GetString(0)) is not { Step: 0 } || (job ??= reader.GetInt64(4)) != reader.GetInt64(4))
                    continue;
                if (states.Count == 0)
                    states.Add(("created", reader.GetDateTime(1)));
                states.Add((reader.GetString(2).ToLowerInvariant(), reader.GetDateTime(3)));
            }
        }
        catch (Npgsql.NpgsqlException ex)
        {
            return $"(Hangfire's job tables not read: {ex.Message})";
        }
        var requested = run.RequestedAt.UtcDateTime;
        string Ms(DateTime at) => (DateTime.SpecifyKind(at, DateTimeKind.Utc) - requested).TotalMilliseconds.ToString("+0", CultureInfo.InvariantCulture);
        var first = run.Steps[0];
        var parts = states.Select(x => $"{x.Name} {Ms(x.At)}").ToList();
        if (first.StartedAt is { } started)
            parts.Add($"claimed {Ms(started.UtcDateTime)}");
        return parts.Count == 0 ? "(its job is gone from Hangfire's tables)" : string.Join(", ", parts) + " (ms from the request)";
    }

    static string Line(DrillRound r) => string.Create(CultureInfo.InvariantCulture,
        $"round {r.Round}: drill {(r.DrillRto is { } d ? $"RTO {d.TotalMilliseconds:0} ms" : $"FAILED ({r.DrillFailure})")}, takeover RTO {r.TakeoverRto.TotalMilliseconds:0} ms (drill/takeover {r.Ratio:0.00}); " +
        $"clones wrote {Bytes(r.CloneBytes)} to n3's disk, the whole drill {Bytes(r.DrillDiskBytes)}");

    /// <summary>The summary: median and spread (min–max) of each figure over the rounds, and whether the aims are met.</summary>
    public static string Report(IReadOnlyList<DrillRound> rounds)
    {
        ArgumentNullException.ThrowIfNull(rounds);
        var sb = new StringBuilder();
        if (rounds.Count == 0)
            return "no round completed\n";
        static string Spread(IEnumerable<double> values, string format, string unit)
        {
            var v = values.Order().ToList();
            string F(double x) => x.ToString(format, CultureInfo.InvariantCulture);
            return $"median {F(Median(v))}{unit} (min {F(v[0])}, max {F(v[^1])})";
        }
        sb.Append(CultureInfo.InvariantCulture, $"bench drill: {rounds.Count} rounds, svc1 (the seed's failover service) on the lab, DR node n3").AppendLine();
        var drilled = rounds.Where(r => r.DrillRto is not null).ToList();
        sb.Append("  drill RTO (request → every drill resource up):    ")
            .AppendLine(drilled.Count > 0 ? Spread(drilled.Select(r => r.DrillRto!.Value.TotalMilliseconds), "0", " ms") : "no drill completed");
        sb.Append("  takeover RTO (request → every resource up):       ").AppendLine(Spread(rounds.Select(r => r.TakeoverRto.TotalMilliseconds), "0", " ms"));
        sb.Append("  drill/takeover RTO ratio:                         ").AppendLine(drilled.Count > 0 ? Spread(drilled.Select(r => r.Ratio), "0.00", "") : "-");
        var measured = rounds.Where(r => r.Takeover is { Completed: true }).Select(r => r.Takeover!).ToList();
        if (measured.Count > 0)
            sb.Append("  takeover's engine overhead (request → last step's end, less the steps' driver time): ")
                .AppendLine(Spread(measured.Select(t => 100 * t.Overhead / t.Duration), "0.0", " %") +
                    string.Create(CultureInfo.InvariantCulture, $"; {Median([.. measured.Select(t => t.Overhead.TotalMilliseconds).Order()]):0} ms of {Median([.. measured.Select(t => t.Duration.TotalMilliseconds).Order()]):0} ms"));
        foreach (var failed in rounds.Where(r => r.DrillFailure is not null))
            sb.Append(CultureInfo.InvariantCulture, $"  round {failed.Round}: the drill failed: {failed.DrillFailure}").AppendLine();
        var clones = rounds.Where(r => r.CloneBytes is not null).Select(r => (double)r.CloneBytes!.Value).ToList();
        sb.Append("  bytes written to n3's disk by the clones:         ").AppendLine(clones.Count > 0 ? Spread(clones, "0", " B") : "not measured");
        var whole = rounds.Where(r => r.DrillDiskBytes is not null).Select(r => (double)r.DrillDiskBytes!.Value).ToList();
        sb.Append("  bytes written to n3's disk during the whole drill: ").AppendLine(whole.Count > 0 ? Spread(whole, "0", " B") : "not measured");
        var ratio = drilled.Count > 0 ? Median(drilled.Select(r => r.Ratio).Order().ToList()) : double.NaN;
        static string Met(bool ok) => ok ? "met" : "NOT met";
        sb.Append(CultureInfo.InvariantCulture,
            $"aims: drill RTO within 10 % of the takeover's: {Met(drilled.Count == rounds.Count && Math.Abs(ratio - 1) <= 0.10 + 1e-9)} (median ratio {ratio:0.00}); " +
            $"clones under 1 MiB: {Met(clones.Count == rounds.Count && clones.All(c => c < 1 << 20))}").AppendLine();
        return sb.ToString();
    }

    static double Median(List<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;

    static string Bytes(long? b) => b switch
    {
        null => "(not measured)",
        < 1 << 20 => string.Create(CultureInfo.InvariantCulture, $"{b.Value / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{b.Value / 1048576.0:0.0} MiB"),
    };

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}
