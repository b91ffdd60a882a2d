using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Marten;
using Npgsql;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Infrastructure.Postgres;

/// <summary>A database node of the replicated control plane: its name (slot and application name) and address.</summary>
public sealed record DbPeer(string Name, string Host, int Port)
{
    public string Address => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// This node's part in the replicated control plane (HOME/db/db.json): its role, where it listens, which networks may
/// connect and replicate, the other site's database node(s), and the replication mode (sync: a commit waits until the
/// other site has it; async: it does not, and the lag is what a site loss can cost).
/// </summary>
public sealed record DbNodeConfig(string Name, string Role, string Listen, int Port, IReadOnlyList<string> Allow, IReadOnlyList<DbPeer> Peers, string Mode,
    string Database = "opensvc")
{
    public const string PrimaryRole = "primary";
    public const string StandbyRole = "standby";
    public const string Sync = "sync";
    public const string Async = "async";

    /// <summary>The primary a standby follows (its first peer).</summary>
    public DbPeer? Upstream => Role == StandbyRole ? Peers.FirstOrDefault() : null;

    public DbPeer Self => new(Name, Listen, Port);

    /// <summary>Every database node, sorted by name: the host list of the agents' connection string.</summary>
    public IReadOnlyList<DbPeer> All => [.. Peers.Append(Self).OrderBy(p => p.Name, StringComparer.Ordinal)];
}

/// <summary>Thrown for what the operator must decide or fix; <see cref="Refused"/> when the request is refused for safety.</summary>
public sealed class ReplicationException(string message, bool refused = false) : Exception(message)
{
    public bool Refused { get; } = refused;
}

/// <summary>
/// What one database node answered (or not) to `opensvc db status`. <paramref name="LastEventSequence"/> and
/// <paramref name="LastEventAt"/>: the last event of the control plane's event store this node holds (on a standby, the
/// last one replayed), when the node was probed on the control plane's database: what tells which events a loss costs.
/// </summary>
public sealed record DbNodeState(string Address, bool Reachable, string? Error, bool InRecovery, int Timeline, string? Lsn, string? ReplayLsn,
    DateTimeOffset? LastReplayedCommitAt, double? ReplayLagSeconds, string? ReceiverStatus, string? SynchronousStandbyNames, IReadOnlyList<DbStandbyState> Standbys,
    IReadOnlyList<DbSlotState> Slots, long? LastEventSequence = null, DateTimeOffset? LastEventAt = null);

/// <summary>
/// A standby as its primary sees it (pg_stat_replication): <paramref name="LagBytes"/> not yet replayed there,
/// <paramref name="UnflushedBytes"/> not yet on its disk (what a loss of the primary's site costs now).
/// </summary>
public sealed record DbStandbyState(string Name, string? ClientAddress, string State, string SyncState, long? LagBytes, double? LagSeconds, long? UnflushedBytes = null);

public sealed record DbSlotState(string Name, bool Active, long? RetainedBytes);

/// <summary>
/// PostgreSQL streaming replication of the agents' database between the sites, with the machine's own PostgreSQL
/// tools: <c>initdb</c> and a replication slot per standby on the primary, <c>pg_basebackup</c> and
/// <c>primary_conninfo</c>/<c>primary_slot_name</c> on the standby, <c>pg_promote()</c> to promote, and
/// <c>pg_rewind</c> (or a fresh base backup) for a former primary to come back as a standby. The server is the embedded
/// one (<see cref="EmbeddedPostgres"/>) with replication settings; every value written to its files is checked here.
/// </summary>
public sealed partial class ReplicatedPostgres
{
    const string User = "opensvc";
    readonly string _home;

    public ReplicatedPostgres(string home) => _home = home;

    /// <summary>HOME/db: the replicated node's own directory (the single-machine embedded default keeps HOME/pgdata).</summary>
    public static string DefaultHome() => Path.Combine(EmbeddedPostgres.DefaultHome(), "db");

    public string Home => _home;
    string ConfigFile => Path.Combine(_home, "db.json");
    string PasswordFile => Path.Combine(_home, "pg-password");
    string PassFile => Path.Combine(_home, "pgpass");
    string DataDirectory => Path.Combine(_home, "pgdata");

    public bool IsConfigured => File.Exists(ConfigFile);

    public DbNodeConfig Config => IsConfigured
        ? JsonSerializer.Deserialize<DbNodeConfig>(File.ReadAllText(ConfigFile), Json) ?? throw new ReplicationException($"{ConfigFile} is empty")
        : throw new ReplicationException($"this node has no replicated database ({ConfigFile} is missing): run opensvc db init first");

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    string Password => File.ReadAllText(PasswordFile).Trim();

    /// <summary>The connection string agents use: every database node, the primary whichever it is.</summary>
    public static string AgentConnectionString(DbNodeConfig config, string password)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new NpgsqlConnectionStringBuilder
        {
            Host = string.Join(',', config.All.Select(p => p.Address)),
            Username = User,
            Password = password,
            Database = config.Database,
            TargetSessionAttributes = "primary",
            // A host found standby (or down) is tried again after this: after a promotion agents find the new primary in
            // seconds, and a lost site's host is not waited for on every connection meanwhile.
            HostRecheckSeconds = 5,
            // A lost site's host answers nothing: each open gives up on it after this and goes on to the next host,
            // well within the agent's lease (a heartbeat that takes longer than the lease is worth nothing).
            Timeout = 3,
            MaxPoolSize = 100,
        }.ConnectionString;
    }

    public string AgentConnectionString() => AgentConnectionString(Config, Password);

    // ---- checked values ------------------------------------------------------------------------------------------

    [GeneratedRegex(@"^[a-z][a-z0-9_]{0,30}$")]
    private static partial Regex SafeName();

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")]
    private static partial Regex SafeHost();

    /// <summary>A node name as a slot and application name: lowercase letters, digits, underscores.</summary>
    public static string SlotName(string node)
    {
        var s = node.ToLowerInvariant().Replace('-', '_').Replace('.', '_');
        if (!SafeName().IsMatch(s))
            throw new ReplicationException($"node name '{node}' cannot name a replication slot (letters, digits, '-', '_', '.'; starting with a letter)");
        return s;
    }

    /// <summary>Parses NAME=HOST[:PORT] (the port defaults to <paramref name="defaultPort"/>).</summary>
    public static DbPeer ParsePeer(string text, int defaultPort)
    {
        ArgumentNullException.ThrowIfNull(text);
        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
            throw new ReplicationException($"--peer '{text}' is not NAME=HOST[:PORT] (e.g. n3=10.0.3.13)");
        var name = text[..eq];
        SlotName(name);
        var rest = text[(eq + 1)..];
        var port = defaultPort;
        var colon = rest.LastIndexOf(':');
        if (colon > 0 && !rest.Contains(']', StringComparison.Ordinal))
        {
            if (!int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                throw new ReplicationException($"--peer '{text}': the port is not a number from 1 to 65535");
            rest = rest[..colon];
        }
        return new DbPeer(name, CheckHost(rest), port);
    }

    public static string CheckHost(string host)
    {
        if (IPAddress.TryParse(host, out var ip))
            return ip.ToString();
        if (!SafeHost().IsMatch(host))
            throw new ReplicationException($"'{host}' is neither an IP address nor a host name");
        return host;
    }

    public static string CheckMode(string mode) => mode switch
    {
        DbNodeConfig.Sync or "synchronous" => DbNodeConfig.Sync,
        DbNodeConfig.Async or "asynchronous" => DbNodeConfig.Async,
        _ => throw new ReplicationException($"replication mode '{mode}' is neither sync nor async"),
    };

    /// <summary>synchronous_standby_names for a primary in this mode with these standbys ('' for async or none).</summary>
    public static string SynchronousNames(string mode, IEnumerable<DbPeer> standbys)
    {
        var names = standbys.Select(s => SlotName(s.Name)).ToList();
        return mode == DbNodeConfig.Sync && names.Count > 0 ? $"ANY 1 ({string.Join(", ", names)})" : "";
    }

    /// <summary>The settings every node of a replicated control plane runs with, plus a standby's upstream.</summary>
    public IReadOnlyList<string> Settings(DbNodeConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var lines = new List<string>
        {
            "wal_level = replica",
            "max_wal_senders = 10",
            "max_replication_slots = 10",
            // pg_rewind needs every page change logged once after a checkpoint (hint bits included).
            "wal_log_hints = on",
            "wal_keep_size = '512MB'",
            "hot_standby = on",
            "hot_standby_feedback = on",
            "wal_receiver_status_interval = '1s'",
            "wal_sender_timeout = '10s'",
            "wal_receiver_timeout = '10s'",
            "recovery_target_timeline = 'latest'",
        };
        if (config.Upstream is { } up)
        {
            var slot = SlotName(config.Name);
            // The password is read from a 0600 file of the server's user, never written into a setting.
            lines.Add($"primary_conninfo = 'host={CheckHost(up.Host)} port={up.Port.ToString(CultureInfo.InvariantCulture)} user={User} application_name={slot} passfile={PassFile} connect_timeout=5'");
            lines.Add($"primary_slot_name = '{slot}'");
        }
        return lines;
    }

    EmbeddedPostgresOptions Options(DbNodeConfig config) => new(_home, config.Port, "127.0.0.1")
    {
        ExtraListenAddresses = config.Listen == "127.0.0.1" ? [] : [config.Listen],
        AllowedClientNetworks = config.Allow,
        AllowReplication = true,
        ExtraSettings = Settings(config),
        DatabaseName = config.Database,
    };

    void Save(DbNodeConfig config)
    {
        Directory.CreateDirectory(_home);
        File.WriteAllText(ConfigFile + ".tmp", JsonSerializer.Serialize(config, Json));
        File.Move(ConfigFile + ".tmp", ConfigFile, overwrite: true);
    }

    async Task WritePassFileAsync(EmbeddedPostgres pg, string password, CancellationToken ct)
    {
        if (File.Exists(PassFile))
            File.Delete(PassFile);
        EmbeddedPostgres.WritePrivateFile(PassFile, $"*:*:*:{User}:{password}\n");
        if (pg.OsUser is { } user)
        {
            var r = await Execution.ProcessRunner.RunAsync("chown", [$"{user}:{user}", PassFile], cancellationToken: ct).ConfigureAwait(false);
            if (!r.Succeeded)
                throw new ReplicationException($"cannot give {PassFile} to {user}: {r.Tail(300)}");
        }
    }

    Dictionary<string, string> ToolEnvironment() => new() { ["PGPASSFILE"] = PassFile, ["PGCONNECT_TIMEOUT"] = "5" };

    // ---- init ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Creates this site's primary: the cluster (initdb, unless it exists), replication settings, a replication slot per
    /// standby (so the primary keeps the WAL a standby has not received), synchronous_standby_names for the mode.
    /// </summary>
    public async Task<string> InitPrimaryAsync(DbNodeConfig config, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (IsConfigured)
            throw new ReplicationException($"this node already has a replicated database ({ConfigFile}, role {Config.Role}): use db start, db promote or db rejoin");
        config = config with { Role = DbNodeConfig.PrimaryRole };
        Directory.CreateDirectory(_home);
        var options = Options(config);
        // EmbeddedPostgres writes the password file the first time.
        var pg = await EmbeddedPostgres.StartAsync(options, ct).ConfigureAwait(false);
        await WritePassFileAsync(pg, Password, ct).ConfigureAwait(false);
        Save(config);
        await using var conn = await OpenLocalAsync(config, ct).ConfigureAwait(false);
        foreach (var peer in config.Peers)
            await EnsureSlotAsync(conn, SlotName(peer.Name), ct).ConfigureAwait(false);
        // No synchronous standby yet: a commit would wait for one that does not exist. The standby's init sets it once it streams.
        await SetSynchronousNamesAsync(conn, "", ct).ConfigureAwait(false);
        return AgentConnectionString();
    }

    /// <summary>
    /// Creates this site's hot standby from the primary: the primary's password (from its connection string), a base
    /// backup through this node's replication slot, then the server started in recovery, streaming from the primary.
    /// </summary>
    public async Task InitStandbyAsync(DbNodeConfig config, string password, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (IsConfigured)
            throw new ReplicationException($"this node already has a replicated database ({ConfigFile}, role {Config.Role}): use db start or db rejoin");
        config = config with { Role = DbNodeConfig.StandbyRole };
        var upstream = config.Upstream ?? throw new ReplicationException("a standby needs its primary: --peer NAME=HOST[:PORT]");
        Directory.CreateDirectory(_home);
        if (File.Exists(PasswordFile))
            File.Delete(PasswordFile);
        EmbeddedPostgres.WritePrivateFile(PasswordFile, password + "\n");
        var pg = await EmbeddedPostgres.ForAsync(Options(config), password, ct).ConfigureAwait(false);
        await WritePassFileAsync(pg, password, ct).ConfigureAwait(false);
        // The slot first (on the primary), so no WAL the backup needs is removed meanwhile.
        await using (var primary = await OpenAsync(upstream, password, "postgres", ct).ConfigureAwait(false))
            await EnsureSlotAsync(primary, SlotName(config.Name), ct).ConfigureAwait(false);
        await BaseBackupAsync(pg, config, upstream, ct).ConfigureAwait(false);
        Save(config);
        await pg.StartServerAsync(ct).ConfigureAwait(false);
        await WaitStreamingThenApplyModeAsync(config, upstream, ct).ConfigureAwait(false);
    }

    /// <summary>Waits (bounded) until this standby streams from <paramref name="primary"/>, then sets the primary's mode (sync: commits wait for it from now on).</summary>
    async Task WaitStreamingThenApplyModeAsync(DbNodeConfig config, DbPeer primary, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        DbNodeState local;
        do
        {
            await Task.Delay(300, ct).ConfigureAwait(false);
            local = await ProbeAsync(new DbPeer(config.Name, "127.0.0.1", config.Port), Password, ct).ConfigureAwait(false);
        }
        while (local.ReceiverStatus != "streaming" && DateTime.UtcNow < deadline);
        if (local.ReceiverStatus != "streaming")
            throw new ReplicationException($"this node's database started but does not stream from {primary.Address} ({local.ReceiverStatus ?? local.Error ?? "no receiver"}): see {Path.Combine(_home, "postgres.log")}");
        await using var conn = await OpenAsync(primary, Password, "postgres", ct).ConfigureAwait(false);
        await SetSynchronousNamesAsync(conn, SynchronousNames(config.Mode, [config.Self]), ct).ConfigureAwait(false);
    }

    async Task BaseBackupAsync(EmbeddedPostgres pg, DbNodeConfig config, DbPeer upstream, CancellationToken ct)
    {
        if (Directory.Exists(DataDirectory))
            Directory.Delete(DataDirectory, recursive: true);
        Directory.CreateDirectory(DataDirectory);
        Directory.CreateDirectory(Path.Combine(_home, "pgsocket"));
        File.SetUnixFileMode(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await pg.GiveToServerUserAsync(ct).ConfigureAwait(false);
        var backup = await pg.RunToolAsync("pg_basebackup",
            ["-h", upstream.Host, "-p", upstream.Port.ToString(CultureInfo.InvariantCulture), "-U", User, "-D", DataDirectory,
             "-X", "stream", "-S", SlotName(config.Name), "--checkpoint=fast", "--no-password"],
            ToolEnvironment(), TimeSpan.FromMinutes(30), ct).ConfigureAwait(false);
        if (!backup.Succeeded)
            throw new ReplicationException($"pg_basebackup from {upstream.Address} failed: {backup.Tail(600)}");
        await BecomeStandbyFilesAsync(pg, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// After a base backup or pg_rewind copied the source's files: this node's own settings again (listen address,
    /// networks, its upstream), nothing of the source's ALTER SYSTEM, and standby.signal.
    /// </summary>
    async Task BecomeStandbyFilesAsync(EmbeddedPostgres pg, CancellationToken ct)
    {
        await File.WriteAllTextAsync(Path.Combine(DataDirectory, "postgresql.auto.conf"),
            "# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM command.\n", ct).ConfigureAwait(false);
        foreach (var stale in new[] { "postmaster.pid", "postmaster.opts", "recovery.signal" })
            File.Delete(Path.Combine(DataDirectory, stale));
        await File.WriteAllTextAsync(Path.Combine(DataDirectory, "standby.signal"), "", ct).ConfigureAwait(false);
        await pg.WriteSettingsAsync(ct).ConfigureAwait(false);
    }

    // ---- start / stop -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Starts this node's server. A primary starts only when no other database node answers as a primary: a site
    /// coming back after the other one was promoted must rejoin as its standby, never run as a second primary.
    /// </summary>
    public async Task StartAsync(CancellationToken ct)
    {
        var config = Config;
        var pg = await EmbeddedPostgres.ForAsync(Options(config), Password, ct).ConfigureAwait(false);
        if (await pg.IsRunningAsync(ct).ConfigureAwait(false))
            return;
        if (config.Role == DbNodeConfig.PrimaryRole || !File.Exists(Path.Combine(DataDirectory, "standby.signal")))
            foreach (var peer in config.Peers)
                if (await ProbeAsync(peer, Password, ct).ConfigureAwait(false) is { Reachable: true, InRecovery: false })
                    throw new ReplicationException(
                        $"{peer.Name} ({peer.Address}) is a primary: this database was primary before and must not run as a second one; bring it back as {peer.Name}'s standby with: opensvc db rejoin",
                        refused: true);
        await pg.WriteSettingsAsync(ct).ConfigureAwait(false);
        await pg.StartServerAsync(ct).ConfigureAwait(false);
    }

    public async Task StopAsync(CancellationToken ct)
    {
        var pg = await EmbeddedPostgres.ForAsync(Options(Config), Password, ct).ConfigureAwait(false);
        if (await pg.IsRunningAsync(ct).ConfigureAwait(false))
            await pg.StopAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Sets the replication mode on this node (the primary applies it at once).</summary>
    public async Task SetModeAsync(string mode, CancellationToken ct)
    {
        var config = Config with { Mode = CheckMode(mode) };
        Save(config);
        if (config.Role != DbNodeConfig.PrimaryRole)
            return;
        await using var conn = await OpenLocalAsync(config, ct).ConfigureAwait(false);
        await SetSynchronousNamesAsync(conn, SynchronousNames(config.Mode, config.Peers), ct).ConfigureAwait(false);
    }

    // ---- status ---------------------------------------------------------------------------------------------------

    /// <summary>The database nodes of a connection string's host list (or this node's configuration).</summary>
    public static IReadOnlyList<DbPeer> NodesOf(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        var nodes = new List<DbPeer>();
        foreach (var h in (b.Host ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = h.LastIndexOf(':');
            if (colon > 0 && int.TryParse(h[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
                nodes.Add(new DbPeer(h[..colon], h[..colon], port));
            else
                nodes.Add(new DbPeer(h, h, b.Port));
        }
        return nodes;
    }

    /// <summary>A WAL position (pg_lsn text, "16/B374D848") as a byte offset; 0 for none.</summary>
    public static long LsnBytes(string? lsn)
    {
        if (lsn is null)
            return 0;
        var slash = lsn.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0
            || !ulong.TryParse(lsn.AsSpan(0, slash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hi)
            || !ulong.TryParse(lsn.AsSpan(slash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var lo))
            return 0;
        return (long)((hi << 32) | lo);
    }

    /// <summary>What one database node says about itself and, if primary, about its standbys. Never throws for an unreachable node.</summary>
    public static async Task<DbNodeState> ProbeAsync(DbPeer node, string password, CancellationToken ct, string database = "postgres")
    {
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            await using var conn = await OpenAsync(node, password, database, ct).ConfigureAwait(false);
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = """
                SELECT pg_is_in_recovery(),
                       CASE WHEN pg_is_in_recovery()
                            THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver LIMIT 1), (SELECT timeline_id FROM pg_control_checkpoint()))
                            ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
                       CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()::text ELSE pg_current_wal_lsn()::text END,
                       pg_last_wal_replay_lsn()::text,
                       pg_last_xact_replay_timestamp(),
                       CASE WHEN NOT pg_is_in_recovery() THEN NULL
                            WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
                            ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 END,
                       (SELECT status FROM pg_stat_wal_receiver LIMIT 1),
                       current_setting('synchronous_standby_names')
                """;
            bool recovery;
            int timeline;
            string? lsn, replay, receiver, syncNames;
            DateTimeOffset? replayedAt;
            double? lag;
            await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                await r.ReadAsync(ct).ConfigureAwait(false);
                recovery = r.GetBoolean(0);
                timeline = r.IsDBNull(1) ? 0 : r.GetInt32(1);
                lsn = r.IsDBNull(2) ? null : r.GetString(2);
                replay = r.IsDBNull(3) ? null : r.GetString(3);
                replayedAt = r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4);
                lag = r.IsDBNull(5) ? null : r.GetDouble(5);
                receiver = r.IsDBNull(6) ? null : r.GetString(6);
                syncNames = r.IsDBNull(7) ? null : r.GetString(7);
            }
            var standbys = new List<DbStandbyState>();
            var slots = new List<DbSlotState>();
            if (!recovery)
            {
                await using var rep = conn.CreateCommand();
                rep.CommandText = """
                    SELECT application_name, client_addr::text, state, sync_state,
                           pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint,
                           COALESCE(extract(epoch FROM replay_lag), 0)::float8,
                           pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn)::bigint
                    FROM pg_stat_replication ORDER BY application_name
                    """;
                await using (var r = await rep.ExecuteReaderAsync(ct).ConfigureAwait(false))
                    while (await r.ReadAsync(ct).ConfigureAwait(false))
                        standbys.Add(new DbStandbyState(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.IsDBNull(2) ? "?" : r.GetString(2),
                            r.IsDBNull(3) ? "?" : r.GetString(3), r.IsDBNull(4) ? null : r.GetInt64(4), r.IsDBNull(5) ? null : r.GetDouble(5),
                            r.IsDBNull(6) ? null : r.GetInt64(6)));
                await using var sl = conn.CreateCommand();
                sl.CommandText = "SELECT slot_name, active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots ORDER BY slot_name";
                await using (var r = await sl.ExecuteReaderAsync(ct).ConfigureAwait(false))
                    while (await r.ReadAsync(ct).ConfigureAwait(false))
                        slots.Add(new DbSlotState(r.GetString(0), r.GetBoolean(1), r.IsDBNull(2) ? null : r.GetInt64(2)));
            }
            var last = await LastEventAsync(conn, ct).ConfigureAwait(false);
            return new DbNodeState(node.Address, true, null, recovery, timeline, lsn, replay, replayedAt, lag, receiver, syncNames, standbys, slots,
                last?.Sequence, last?.At);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException or InvalidOperationException)
        {
            return new DbNodeState(node.Address, false, ex.InnerException?.Message ?? ex.Message, false, 0, null, null, null, null, null, null, [], []);
        }
    }

    /// <summary>The last event of the control plane's event store in the connection's database (none when it has no event store).</summary>
    static async Task<(long Sequence, DateTimeOffset At)?> LastEventAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT to_regclass('{WorkflowStore.DefaultSchema}.mt_events') IS NOT NULL";
        if (await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true)
            return null;
        cmd.CommandText = $"SELECT seq_id, timestamp FROM {WorkflowStore.DefaultSchema}.mt_events ORDER BY seq_id DESC LIMIT 1";
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await r.ReadAsync(ct).ConfigureAwait(false) ? (r.GetInt64(0), r.GetFieldValue<DateTimeOffset>(1)) : null;
    }

    /// <summary>
    /// Lets a standby replay all the WAL it received before its position is read: a replay paused by an operator
    /// (pg_wal_replay_pause) is resumed, then this waits (bounded) until the replayed position reaches the received one
    /// or stops moving (a record cut off at the end of what was received is never replayed). The promotion replays
    /// the same WAL; reading the position only after it would race with the agents, which write as soon as it ends.
    /// </summary>
    static async Task CatchUpReplayAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT pg_wal_replay_resume() WHERE pg_get_wal_replay_pause_state() <> 'not paused'";
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        cmd.CommandText = "SELECT pg_last_wal_replay_lsn() >= COALESCE(pg_last_wal_receive_lsn(), '0/0'), pg_last_wal_replay_lsn()::text";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string? previous = null;
        while (DateTime.UtcNow < deadline)
        {
            bool caughtUp;
            string? replayed;
            await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                await r.ReadAsync(ct).ConfigureAwait(false);
                caughtUp = !r.IsDBNull(0) && r.GetBoolean(0);
                replayed = r.IsDBNull(1) ? null : r.GetString(1);
            }
            if (caughtUp || (replayed is not null && replayed == previous))
                return;
            previous = replayed;
            await Task.Delay(500, ct).ConfigureAwait(false);
        }
    }

    static async Task<NpgsqlConnection> OpenAsync(DbPeer node, string password, string database, CancellationToken ct)
    {
        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = node.Host, Port = node.Port, Username = User, Password = password, Database = database, Pooling = false, Timeout = 3, CommandTimeout = 30,
        }.ConnectionString;
        var conn = new NpgsqlConnection(cs);
        try
        {
            await conn.OpenAsync(ct).ConfigureAwait(false);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    Task<NpgsqlConnection> OpenLocalAsync(DbNodeConfig config, CancellationToken ct) =>
        OpenAsync(new DbPeer(config.Name, "127.0.0.1", config.Port), Password, "postgres", ct);

    static async Task EnsureSlotAsync(NpgsqlConnection conn, string slot, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT pg_create_physical_replication_slot(@s, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = @s)";
        cmd.Parameters.AddWithValue("s", slot);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    static async Task CheckpointAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = "CHECKPOINT";
        cmd.CommandTimeout = 300;
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    static async Task SetSynchronousNamesAsync(NpgsqlConnection conn, string names, CancellationToken ct)
    {
        // ALTER SYSTEM takes no parameter: the value is built from checked slot names only (SlotName).
        await using (var set = conn.CreateCommand())
        {
            set.CommandText = $"ALTER SYSTEM SET synchronous_standby_names = '{names}'";
            await set.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        await using var reload = conn.CreateCommand();
        reload.CommandText = "SELECT pg_reload_conf()";
        await reload.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    // ---- promote --------------------------------------------------------------------------------------------------

    /// <summary>What `opensvc db promote` did.</summary>
    public sealed record Promotion(DatabasePromoted Event, TimeSpan Took, string AgentConnection);

    /// <summary>
    /// Promotes this node's standby: refused while a primary answers (unless forced with a reason); records, before the
    /// promotion, the last replayed position and the last event replicated; promotes (pg_promote, waiting); drops the
    /// synchronous standby (the other site is gone: a commit must not wait for it); then appends the decision to the
    /// control plane's stream as the promoted database's first event.
    /// </summary>
    public async Task<Promotion> PromoteAsync(string by, bool force, string? reason, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var config = Config;
        if (force && string.IsNullOrWhiteSpace(reason))
            throw new ReplicationException("--force needs --reason: say why the primary is overridden");
        var local = await ProbeAsync(new DbPeer(config.Name, "127.0.0.1", config.Port), Password, ct, config.Database).ConfigureAwait(false);
        if (!local.Reachable)
            throw new ReplicationException($"this node's database does not answer ({local.Error}): start it with opensvc db start");
        if (!local.InRecovery)
            throw new ReplicationException($"this node's database ({config.Name}) is already a primary: nothing to promote", refused: true);
        DbPeer? previous = config.Upstream;
        foreach (var peer in config.Peers)
        {
            var state = await ProbeAsync(peer, Password, ct).ConfigureAwait(false);
            if (state is { Reachable: true, InRecovery: false } && !force)
                throw new ReplicationException(
                    $"the primary {peer.Name} ({peer.Address}) still answers: promoting now would make two primaries. If its site is really lost (or must be fenced), use --force --reason \"...\"",
                    refused: true);
        }

        // What the standby holds before it becomes the primary: the control plane's RPO. It replays what it received
        // first (pg_promote would, after which the agents write at once): the figures are those of the promoted history.
        DateTimeOffset? lastEvent = null;
        long lastSeq = 0;
        await using (var conn = await OpenAsync(new DbPeer(config.Name, "127.0.0.1", config.Port), Password, config.Database, ct).ConfigureAwait(false))
        {
            await CatchUpReplayAsync(conn, ct).ConfigureAwait(false);
            if (await LastEventAsync(conn, ct).ConfigureAwait(false) is { } last)
                (lastSeq, lastEvent) = last;
        }
        var before = await ProbeAsync(new DbPeer(config.Name, "127.0.0.1", config.Port), Password, ct).ConfigureAwait(false);

        await using (var conn = await OpenLocalAsync(config, ct).ConfigureAwait(false))
        {
            await using var promote = conn.CreateCommand();
            promote.CommandText = "SELECT pg_promote(true, 120)";
            promote.CommandTimeout = 150;
            if (await promote.ExecuteScalarAsync(ct).ConfigureAwait(false) is not true)
                throw new ReplicationException("pg_promote did not finish within 120 s: see the server log " + Path.Combine(_home, "postgres.log"));
            await SetSynchronousNamesAsync(conn, "", ct).ConfigureAwait(false);
            await CheckpointAsync(conn, ct).ConfigureAwait(false); // the new timeline in the control file (pg_rewind of the other site reads it)
            foreach (var peer in config.Peers)
                await EnsureSlotAsync(conn, SlotName(peer.Name), ct).ConfigureAwait(false);
        }
        config = config with { Role = DbNodeConfig.PrimaryRole };
        Save(config);
        var pg = await EmbeddedPostgres.ForAsync(Options(config), Password, ct).ConfigureAwait(false);
        await pg.WriteSettingsAsync(ct).ConfigureAwait(false); // no primary_conninfo any more

        var after = await ProbeAsync(new DbPeer(config.Name, "127.0.0.1", config.Port), Password, ct).ConfigureAwait(false);
        using var store = DocumentStore.For(o => WorkflowStore.Configure(o, LocalConnectionString(config)));
        await using var session = store.LightweightSession();
        var now = await DatabaseClock.For(LocalConnectionString(config)).NowAsync(ct).ConfigureAwait(false);
        var e = new DatabasePromoted(config.Name, by, now, force, reason, previous?.Address, before.ReplayLsn ?? "?", before.LastReplayedCommitAt, lastEvent, lastSeq,
            after.Timeline, config.Mode);
        session.Events.Append(ControlPlaneHistory.Id, e);
        await session.SaveChangesAsync(ct).ConfigureAwait(false);
        return new Promotion(e, started.Elapsed, AgentConnectionString());
    }

    string LocalConnectionString(DbNodeConfig config) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1", Port = config.Port, Username = User, Password = Password, Database = config.Database, Pooling = false, Timeout = 5,
    }.ConnectionString;

    // ---- rejoin ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// Brings this node's database back as a standby of the node that is primary now: never as a second primary. The
    /// server is stopped (if it runs), rewound onto the primary's timeline with pg_rewind (after the crash recovery
    /// pg_rewind runs itself), or, when that fails, replaced by a fresh base backup; then it starts in recovery and
    /// streams through its slot. In sync mode the primary waits for it again once it streams.
    /// </summary>
    public async Task<(string Method, DbPeer Primary)> RejoinAsync(string by, Action<string> progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var config = Config;
        DbPeer? primary = null;
        foreach (var peer in config.Peers)
            if (await ProbeAsync(peer, Password, ct).ConfigureAwait(false) is { Reachable: true, InRecovery: false })
                primary = peer;
        if (primary is null)
            throw new ReplicationException($"no other database node answers as a primary ({string.Join(", ", config.Peers.Select(p => p.Address))}): nothing to rejoin", refused: true);
        config = config with { Role = DbNodeConfig.StandbyRole, Peers = [primary, .. config.Peers.Where(p => p != primary)] };
        var pg = await EmbeddedPostgres.ForAsync(Options(config), Password, ct).ConfigureAwait(false);
        if (await pg.IsRunningAsync(ct).ConfigureAwait(false))
        {
            progress("stopping this node's database");
            await pg.StopAsync(ct).ConfigureAwait(false);
        }
        await WritePassFileAsync(pg, Password, ct).ConfigureAwait(false);
        await using (var conn = await OpenAsync(primary, Password, "postgres", ct).ConfigureAwait(false))
        {
            await EnsureSlotAsync(conn, SlotName(config.Name), ct).ConfigureAwait(false);
            // pg_rewind reads the source's timeline from its control file, which a promotion updates only at the next
            // checkpoint: without one, a just-promoted source looks like the same timeline and nothing is rewound.
            await CheckpointAsync(conn, ct).ConfigureAwait(false);
        }

        string method;
        progress($"pg_rewind from {primary.Name} ({primary.Address})");
        var source = $"host={primary.Host} port={primary.Port.ToString(CultureInfo.InvariantCulture)} user={User} dbname=postgres connect_timeout=5";
        var rewind = await pg.RunToolAsync("pg_rewind", ["-D", DataDirectory, "--source-server", source, "--progress"], ToolEnvironment(), TimeSpan.FromMinutes(30), ct)
            .ConfigureAwait(false);
        if (rewind.Succeeded)
        {
            method = "pg_rewind";
            await BecomeStandbyFilesAsync(pg, ct).ConfigureAwait(false);
        }
        else
        {
            progress($"pg_rewind failed ({rewind.Tail(300).Trim()}): fresh base backup from {primary.Name}");
            method = "base backup";
            await BaseBackupAsync(pg, config, primary, ct).ConfigureAwait(false);
        }
        Save(config);
        progress("starting as a standby");
        await pg.WriteSettingsAsync(ct).ConfigureAwait(false);
        await pg.StartServerAsync(ct).ConfigureAwait(false);

        await WaitStreamingThenApplyModeAsync(config, primary, ct).ConfigureAwait(false);

        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = primary.Host, Port = primary.Port, Username = User, Password = Password, Database = config.Database, Pooling = false, Timeout = 5,
        }.ConnectionString;
        using var store = DocumentStore.For(o => WorkflowStore.Configure(o, cs));
        await using var session = store.LightweightSession();
        var now = await DatabaseClock.For(cs).NowAsync(ct).ConfigureAwait(false);
        session.Events.Append(ControlPlaneHistory.Id, new DatabaseRejoined(config.Name, by, now, primary.Address, method));
        await session.SaveChangesAsync(ct).ConfigureAwait(false);
        return (method, primary);
    }
}
