using System.CommandLine;
using System.Globalization;
using Npgsql;
using OpenSvc.Infrastructure.Postgres;

namespace OpenSvc.Host.Cli;

/// <summary>
/// `opensvc db`: this node's part of the control plane's database replicated across sites (docs/control-plane.md):
/// init (primary, or hot standby from a base backup), start, stop, status (from any node), promote (the DR site's
/// explicit decision), rejoin (a returning former primary comes back as a standby) and mode (sync or async).
/// </summary>
public static class DbCommands
{
    public static Command Create(Option<string?> connection)
    {
        var home = new Option<string?>("--db-home") { Description = "the replicated node's directory (default: OPENSVC_HOME/db, i.e. /var/lib/opensvc/db)", Recursive = true };
        var cmd = new Command("db", "The control plane's database replicated across sites: init, start, stop, status, promote, rejoin, mode") { home };
        cmd.Subcommands.Add(Init(home, connection));
        cmd.Subcommands.Add(Simple("start", "Start this node's database (a former primary refuses while another node is primary: rejoin instead)", home,
            async (db, _, ct) => { await db.StartAsync(ct).ConfigureAwait(false); Console.WriteLine($"database {db.Config.Name} ({db.Config.Role}) running on {db.Config.Self.Address}"); }));
        cmd.Subcommands.Add(Simple("stop", "Stop this node's database", home,
            async (db, _, ct) => { await db.StopAsync(ct).ConfigureAwait(false); Console.WriteLine($"database {db.Config.Name} stopped"); }));
        cmd.Subcommands.Add(Status(home, connection));
        cmd.Subcommands.Add(Promote(home));
        cmd.Subcommands.Add(Simple("rejoin", "Bring this node's former primary back as a standby of the node now primary (pg_rewind, else a fresh base backup)", home,
            async (db, _, ct) =>
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                var (method, primary) = await db.RejoinAsync(Who(), line => Console.WriteLine($"  {line}"), ct).ConfigureAwait(false);
                Console.WriteLine($"database {db.Config.Name} rejoined as a standby of {primary.Name} ({primary.Address}) by {method} in {sw.Elapsed.TotalSeconds:F1}s; mode {db.Config.Mode}");
            }));
        var mode = new Argument<string>("mode") { Description = "sync (a commit waits until the other site has it) or async (it does not; the lag is what a site loss costs)" };
        var modeCmd = new Command("mode", "Set the replication mode (on the primary it applies at once)") { mode };
        modeCmd.SetAction(async (p, ct) =>
        {
            var db = Open(p, home);
            await Guard(() => db.SetModeAsync(p.GetValue(mode)!, ct)).ConfigureAwait(false);
            Console.WriteLine($"replication mode: {db.Config.Mode}");
            return ExitCodes.Ok;
        });
        cmd.Subcommands.Add(modeCmd);
        return cmd;
    }

    static ReplicatedPostgres Open(ParseResult p, Option<string?> home) => new(p.GetValue(home) ?? ReplicatedPostgres.DefaultHome());

    /// <summary>Who runs the command, for the audit: the sudo user if any, on this node.</summary>
    static string Who() => $"{RunCommands.Operator()}@{ClusterSession.LocalNodeName()}";

    static Command Simple(string name, string description, Option<string?> home, Func<ReplicatedPostgres, ParseResult, CancellationToken, Task> action)
    {
        var cmd = new Command(name, description);
        cmd.SetAction(async (p, ct) =>
        {
            await Guard(() => action(Open(p, home), p, ct)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static async Task Guard(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (ReplicationException e)
        {
            throw new UserError(e.Message, e.Refused ? ExitCodes.Refused : ExitCodes.Failed);
        }
        catch (EmbeddedPostgresException e)
        {
            throw new UserError(e.Message, ExitCodes.Failed);
        }
    }

    static Command Init(Option<string?> home, Option<string?> connection)
    {
        var name = new Option<string?>("--name") { Description = "this database node's name (default: this node's name); names its replication slot" };
        var listen = new Option<string>("--listen") { Description = "this node's address the other site reaches (also listens on 127.0.0.1)", Required = true };
        var port = new Option<int>("--port") { Description = "server port", DefaultValueFactory = _ => EmbeddedPostgres.DefaultPort };
        var allow = new Option<string[]>("--allow") { Description = "client network (CIDR) allowed to connect and replicate; repeat for each", AllowMultipleArgumentsPerToken = true };
        var peer = new Option<string[]>("--peer") { Description = "the other site's database node, NAME=HOST[:PORT]; repeat for each (a standby's first peer is its primary)", AllowMultipleArgumentsPerToken = true };
        var mode = new Option<string>("--mode") { Description = "sync or async", DefaultValueFactory = _ => "sync" };
        var standby = new Option<bool>("--standby") { Description = "make this node a hot standby of its first peer (pg_basebackup); needs the primary's password: --connection or OPENSVC_CONNECTION" };
        var cmd = new Command("init", "Create this node's database: the primary (default) or, with --standby, a hot standby streaming from the primary")
        {
            name, listen, port, allow, peer, mode, standby,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var db = Open(p, home);
            await Guard(async () =>
            {
                var self = p.GetValue(name) ?? ClusterSession.LocalNodeName();
                ReplicatedPostgres.SlotName(self);
                var config = new DbNodeConfig(self, DbNodeConfig.PrimaryRole, ReplicatedPostgres.CheckHost(p.GetValue(listen)!), p.GetValue(port),
                    p.GetValue(allow) ?? [], [.. (p.GetValue(peer) ?? []).Select(x => ReplicatedPostgres.ParsePeer(x, p.GetValue(port)))],
                    ReplicatedPostgres.CheckMode(p.GetValue(mode)!));
                if (config.Peers.Count == 0)
                    throw new ReplicationException("name the other site's database node: --peer NAME=HOST[:PORT]");
                var sw = System.Diagnostics.Stopwatch.StartNew();
                if (p.GetValue(standby))
                {
                    var cs = Database.Configured(p.GetValue(connection))
                        ?? throw new ReplicationException("a standby needs the primary's password: --connection or OPENSVC_CONNECTION (the agents' connection string)");
                    var password = new NpgsqlConnectionStringBuilder(cs).Password ?? throw new ReplicationException("the connection string has no password");
                    await db.InitStandbyAsync(config, password, ct).ConfigureAwait(false);
                    Console.WriteLine($"database {self}: hot standby of {config.Peers[0].Name} ({config.Peers[0].Address}), streaming, mode {config.Mode}, in {sw.Elapsed.TotalSeconds:F1}s");
                }
                else
                {
                    await db.InitPrimaryAsync(config, ct).ConfigureAwait(false);
                    Console.WriteLine($"database {self}: primary on {config.Self.Address}, mode {config.Mode}, slot(s) {string.Join(", ", config.Peers.Select(x => ReplicatedPostgres.SlotName(x.Name)))}, in {sw.Elapsed.TotalSeconds:F1}s");
                }
                var file = Path.Combine(db.Home, "agent-connection");
                if (File.Exists(file))
                    File.Delete(file);
                EmbeddedPostgres.WritePrivateFile(file, db.AgentConnectionString() + "\n");
                Console.WriteLine($"agents' connection string (every database node, the primary whichever it is): {file} (0600)");
            }).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static Command Status(Option<string?> home, Option<string?> connection)
    {
        var cmd = new Command("status", "Primary, standby, replication state and lag (bytes, seconds) of every database node; from any node");
        cmd.SetAction(async (p, ct) =>
        {
            var db = Open(p, home);
            string cs;
            if (Database.Configured(p.GetValue(connection)) is { } configured)
                cs = configured;
            else if (db.IsConfigured)
                cs = db.AgentConnectionString();
            else
                throw new UserError("no database nodes to ask: --connection or OPENSVC_CONNECTION (the agents' connection string), or run on a node with opensvc db init");
            var builder = new NpgsqlConnectionStringBuilder(cs);
            var password = builder.Password ?? "";
            var states = new List<DbNodeState>();
            // On the control plane's database: each node's last event says which events a loss would cost.
            foreach (var node in ReplicatedPostgres.NodesOf(cs))
                states.Add(await ReplicatedPostgres.ProbeAsync(node, password, ct, builder.Database ?? "postgres").ConfigureAwait(false));
            Console.Write(Format(states));
            return states.Count(s => s is { Reachable: true, InRecovery: false }) == 1 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return cmd;
    }

    /// <summary>The status table: one line per node, then each primary's view of its standbys and slots.</summary>
    public static string Format(IReadOnlyList<DbNodeState> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        var w = new System.Text.StringBuilder();
        w.AppendLine(CultureInfo.InvariantCulture, $"{"NODE",-22} {"ROLE",-8} {"TL",3}  {"WAL LSN",-12} {"REPLAYED",-12} {"RECEIVER",-10} LAG");
        foreach (var s in states)
        {
            if (!s.Reachable)
            {
                w.AppendLine(CultureInfo.InvariantCulture, $"{s.Address,-22} {"down",-8} {"-",3}  {"-",-12} {"-",-12} {"-",-10} -   ({s.Error})");
                continue;
            }
            // A standby that receives nothing cannot tell how far behind it is (it replayed all it has): the primary's view says.
            var lag = !s.InRecovery ? "-"
                : s.ReceiverStatus != "streaming" ? "? (receives nothing: what it lacks is the primary's to tell)"
                : $"{s.ReplayLagSeconds?.ToString("F3", CultureInfo.InvariantCulture) ?? "?"} s since the last replayed commit";
            w.AppendLine(CultureInfo.InvariantCulture,
                $"{s.Address,-22} {(s.InRecovery ? "standby" : "primary"),-8} {s.Timeline,3}  {s.Lsn ?? "-",-12} {(s.InRecovery ? s.ReplayLsn ?? "-" : "-"),-12} {(s.InRecovery ? s.ReceiverStatus ?? "none" : "-"),-10} {lag}");
        }
        var primaries = states.Where(s => s is { Reachable: true, InRecovery: false }).ToList();
        foreach (var pr in primaries)
        {
            var mode = string.IsNullOrEmpty(pr.SynchronousStandbyNames) ? "asynchronous" : $"synchronous ({pr.SynchronousStandbyNames})";
            w.AppendLine(CultureInfo.InvariantCulture, $"primary {pr.Address}: replication {mode}");
            if (pr.LastEventSequence is { } prSeq)
                w.AppendLine(CultureInfo.InvariantCulture, $"  last event #{prSeq} at {Time(pr.LastEventAt)}");
            if (pr.Standbys.Count == 0)
                w.AppendLine("  no standby connected: a loss of this site loses what was committed since the standby left");
            foreach (var sb in pr.Standbys)
                w.AppendLine(CultureInfo.InvariantCulture,
                    $"  standby {sb.Name} ({sb.ClientAddress}): {sb.State}, {sb.SyncState}, lag {sb.LagBytes?.ToString(CultureInfo.InvariantCulture) ?? "?"} bytes, {sb.LagSeconds?.ToString("F3", CultureInfo.InvariantCulture) ?? "?"} s" +
                    $", not yet on its disk {sb.UnflushedBytes?.ToString(CultureInfo.InvariantCulture) ?? "?"} bytes");
            foreach (var sl in pr.Slots)
                w.AppendLine(CultureInfo.InvariantCulture,
                    $"  slot {sl.Name}: {(sl.Active ? "active" : "inactive")}, retains {sl.RetainedBytes?.ToString(CultureInfo.InvariantCulture) ?? "?"} bytes of WAL{(sl.Active ? "" : " (WAL its standby has not received)")}");
            foreach (var sb in states.Where(s => s is { Reachable: true, InRecovery: true }))
                w.AppendLine(Exposure(pr, sb));
        }
        if (primaries.Count == 0)
            w.AppendLine("no primary answers: agents cannot write. On the DR site, if the primary site is lost: opensvc db promote --force --reason \"...\"");
        else if (primaries.Count > 1)
            w.AppendLine("SPLIT BRAIN: more than one primary answers. Stop the one that was not promoted and run opensvc db rejoin on it.");
        return w.ToString();
    }

    /// <summary>
    /// Which events a loss of <paramref name="primary"/>'s site would cost now: those after the last one
    /// <paramref name="standby"/> replayed, and over how long they were committed (the lag in seconds of history).
    /// </summary>
    public static string Exposure(DbNodeState primary, DbNodeState standby)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(standby);
        if (primary.LastEventSequence is not { } last)
            return $"  standby {standby.Address}: no event store on the primary to compare";
        var held = standby.LastEventSequence ?? 0;
        var received = ReplicatedPostgres.LsnBytes(standby.Lsn) - ReplicatedPostgres.LsnBytes(standby.ReplayLsn);
        if (held >= last)
            return string.Create(CultureInfo.InvariantCulture, $"  standby {standby.Address} holds every event (last #{last}): a loss of this site now loses none");
        var window = primary.LastEventAt is { } p2 && standby.LastEventAt is { } s2 ? (p2 - s2).TotalSeconds : (double?)null;
        var span = string.Create(CultureInfo.InvariantCulture, $"#{held + 1}-#{last}, committed over {window?.ToString("F3", CultureInfo.InvariantCulture) ?? "?"} s after it");
        // A hot standby shows only what it replayed; WAL it received and has not replayed is not lost (a promotion replays it first).
        return received > 0
            ? string.Create(CultureInfo.InvariantCulture,
                $"  standby {standby.Address} replayed events up to #{held} at {Time(standby.LastEventAt)}; it received {received} bytes of WAL it has not replayed yet, which a promotion replays first: " +
                $"a loss of this site now loses at most the events {span} (the bytes not yet on its disk, above, are what it lacks)")
            : string.Create(CultureInfo.InvariantCulture,
                $"  standby {standby.Address} holds events up to #{held} at {Time(standby.LastEventAt)}: a loss of this site now loses the events {span}");
    }

    static Command Promote(Option<string?> home)
    {
        var force = new Option<bool>("--force") { Description = "promote even though the primary still answers (fencing it is then your job); needs --reason" };
        var reason = new Option<string?>("--reason") { Description = "why (recorded in the control plane's event)" };
        var cmd = new Command("promote", "On the DR site: make this node's standby the primary (refused while the primary answers, unless --force --reason)") { force, reason };
        cmd.SetAction(async (p, ct) =>
        {
            var db = Open(p, home);
            await Guard(async () =>
            {
                var r = await db.PromoteAsync(Who(), p.GetValue(force), p.GetValue(reason), ct).ConfigureAwait(false);
                var e = r.Event;
                Console.WriteLine($"database {e.Node} promoted: primary on timeline {e.Timeline.ToString(CultureInfo.InvariantCulture)}, accepting writes, in {r.Took.TotalSeconds:F1}s");
                Console.WriteLine($"  by {e.By} at {e.At.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff} UTC{(e.Forced ? $", forced: {e.Reason}" : e.Reason is null ? "" : $": {e.Reason}")}");
                Console.WriteLine($"  former primary {e.PreviousPrimary ?? "?"}, last replayed position {e.ReplayedLsn}, last replayed commit {Time(e.LastReplayedCommitAt)}");
                Console.WriteLine($"  last event replicated before the loss: #{e.LastEventSequence.ToString(CultureInfo.InvariantCulture)} at {Time(e.LastEventBefore)} (mode {e.Mode})");
                Console.WriteLine("  agents listing every database node follow within seconds; when the other site returns: opensvc db rejoin there");
            }).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static string Time(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture) : "none";
}
