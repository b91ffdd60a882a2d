using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using OpenSvc.Infrastructure.Execution;

namespace OpenSvc.Infrastructure.Postgres;

public sealed record EmbeddedPostgresOptions(string Home, int Port = EmbeddedPostgres.DefaultPort, string ListenAddress = "127.0.0.1")
{
    /// <summary>
    /// More addresses to listen on besides <see cref="ListenAddress"/> (e.g. the lab bridge's host address, so agents
    /// inside lab nodes reach the database). Each must be an IP address of this machine.
    /// </summary>
    public IReadOnlyList<string> ExtraListenAddresses { get; init; } = [];

    /// <summary>
    /// Client networks (CIDR, e.g. 10.203.0.0/24) allowed to connect over TCP with the password (scram-sha-256), on
    /// top of loopback. Empty: loopback only, initdb's default.
    /// </summary>
    public IReadOnlyList<string> AllowedClientNetworks { get; init; } = [];

    /// <summary>
    /// More lines for opensvc.conf (replication: wal_level, primary_conninfo...), each <c>name = value</c> with the value
    /// already quoted by the caller (<see cref="ReplicatedPostgres"/> builds them from checked values only).
    /// </summary>
    public IReadOnlyList<string> ExtraSettings { get; init; } = [];

    /// <summary>Also allow streaming replication connections (pg_basebackup, pg_rewind's source, standbys) from the allowed networks.</summary>
    public bool AllowReplication { get; init; }

    /// <summary>The database agents use (default opensvc).</summary>
    public string DatabaseName { get; init; } = "opensvc";

    /// <summary>Where initdb and pg_ctl are; null: OPENSVC_PG_BIN, else the machine's newest PostgreSQL.</summary>
    public string? BinDirectory { get; init; }

    public string DataDirectory => Path.Combine(Home, "pgdata");
    public string SocketDirectory => Path.Combine(Home, "pgsocket");
    public string LogFile => Path.Combine(Home, "postgres.log");
    public string InfoFile => Path.Combine(Home, "embedded-postgres.json");
}

/// <summary>Thrown for problems an operator fixes (missing binaries, busy port): the message says how.</summary>
public sealed class EmbeddedPostgresException(string message) : Exception(message);

/// <summary>
/// The zero-configuration default database: a private PostgreSQL cluster started from the machine's own
/// PostgreSQL binaries in the product's data directory, listening on loopback only, with a generated
/// password kept in a 0600 file next to it.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    public const int DefaultPort = 54329;
    const string Superuser = "opensvc";

    readonly EmbeddedPostgresOptions _options;
    readonly string _binDir;
    readonly string? _osUser;
    bool _startedHere;

    EmbeddedPostgres(EmbeddedPostgresOptions options, string binDir, string? osUser, string connectionString)
    {
        _options = options;
        _binDir = binDir;
        _osUser = osUser;
        ConnectionString = connectionString;
    }

    public string ConnectionString { get; }

    string Database => _options.DatabaseName;

    /// <summary>The PostgreSQL binaries this instance runs.</summary>
    public string BinDirectory => _binDir;

    /// <summary>The system user the server runs as (postgres when this process is root), or null for this process's user.</summary>
    public string? OsUser => _osUser;

    /// <summary>True when this instance started the server (and so stops it on dispose).</summary>
    public bool StartedHere => _startedHere;

    /// <summary>
    /// CPU time the server has used so far, in milliseconds: the postmaster, its live backends and the ones that
    /// exited (their time is added to the postmaster's children total), read from /proc. NaN off Linux or if unreadable.
    /// </summary>
    public double CpuMilliseconds()
    {
        try
        {
            var pid = int.Parse(File.ReadLines(Path.Combine(_options.DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
            // /proc/<pid>/stat fields after the command: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17), in 1/100 s.
            static long[]? Stat(string dir)
            {
                try
                {
                    var text = File.ReadAllText(Path.Combine(dir, "stat"));
                    var f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                    return [long.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[11], CultureInfo.InvariantCulture), long.Parse(f[12], CultureInfo.InvariantCulture),
                        long.Parse(f[13], CultureInfo.InvariantCulture), long.Parse(f[14], CultureInfo.InvariantCulture)];
                }
                catch (IOException)
                {
                    return null; // exited meanwhile
                }
            }
            var main = Stat($"/proc/{pid}") ?? throw new IOException("postmaster gone");
            var ticks = main[1] + main[2] + main[3] + main[4];
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out _) && Stat(dir) is { } child && child[0] == pid)
                    ticks += child[1] + child[2];
            return ticks * 10.0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return double.NaN;
        }
    }

    /// <summary>The default home of the product's state: OPENSVC_HOME, else /var/lib/opensvc for root, else ~/.local/share/opensvc.</summary>
    public static string DefaultHome()
    {
        var env = Environment.GetEnvironmentVariable("OPENSVC_HOME");
        if (!string.IsNullOrWhiteSpace(env))
            return env;
        if (Environment.UserName == "root")
            return "/var/lib/opensvc";
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "opensvc");
    }

    /// <summary>Reads the connection string of an embedded cluster started by another process, if any.</summary>
    public static string? TryReadRunningConnectionString(string home)
    {
        var info = Path.Combine(home, "embedded-postgres.json");
        if (!File.Exists(info))
            return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(info));
            return doc.RootElement.GetProperty("connectionString").GetString();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static async Task<EmbeddedPostgres> StartAsync(EmbeddedPostgresOptions options, CancellationToken cancellationToken = default)
    {
        var binDir = options.BinDirectory ?? FindBinDirectory();
        string? osUser = null;
        if (Environment.UserName == "root")
        {
            // PostgreSQL refuses to run as root: the cluster belongs to the postgres system user.
            var id = await ProcessRunner.RunAsync("id", ["-u", "postgres"], cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!id.Succeeded)
                throw new EmbeddedPostgresException(
                    "the embedded PostgreSQL needs the 'postgres' system user when run as root: install postgresql (scripts/install-deps.sh) or set OPENSVC_CONNECTION");
            osUser = "postgres";
        }

        Directory.CreateDirectory(options.Home);
        var passwordFile = Path.Combine(options.Home, "pg-password");
        if (!File.Exists(passwordFile))
            WritePrivate(passwordFile, Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant() + "\n");
        else
            File.SetUnixFileMode(passwordFile, OwnerOnly); // one written by an earlier version may be 0644
        var password = File.ReadAllText(passwordFile).Trim();

        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = options.ListenAddress,
            Port = options.Port,
            Username = Superuser,
            Password = password,
            Database = options.DatabaseName,
            MaxPoolSize = 100,
            Timeout = 10,
        }.ConnectionString;

        var pg = new EmbeddedPostgres(options, binDir, osUser, connectionString);
        await pg.EnsureInitializedAsync(password, cancellationToken).ConfigureAwait(false);
        await pg.EnsureRunningAsync(cancellationToken).ConfigureAwait(false);
        await pg.EnsureDatabaseAsync(cancellationToken).ConfigureAwait(false);
        // It holds the password: written 0600 from its creation, then moved over the previous one.
        var info = options.InfoFile + ".tmp";
        File.Delete(info);
        WritePrivate(info, JsonSerializer.Serialize(new Dictionary<string, object> { ["connectionString"] = connectionString, ["port"] = options.Port }));
        File.Move(info, options.InfoFile, overwrite: true);
        return pg;
    }

    const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates <paramref name="path"/> (which must not exist) readable by its owner only from the first byte.</summary>
    static void WritePrivate(string path, string text)
    {
        using var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnly });
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }

    public static string FindBinDirectory()
    {
        var env = Environment.GetEnvironmentVariable("OPENSVC_PG_BIN");
        if (!string.IsNullOrWhiteSpace(env) && File.Exists(Path.Combine(env, "initdb")))
            return env;
        const string root = "/usr/lib/postgresql";
        if (Directory.Exists(root))
        {
            var best = Directory.GetDirectories(root)
                .Select(d => (dir: Path.Combine(d, "bin"), version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0))
                .Where(x => File.Exists(Path.Combine(x.dir, "initdb")) && File.Exists(Path.Combine(x.dir, "pg_ctl")))
                .OrderByDescending(x => x.version)
                .FirstOrDefault();
            if (best.dir is not null)
                return best.dir;
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
                return dir;
        throw new EmbeddedPostgresException(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install them with scripts/install-deps.sh (Debian package postgresql-15), set OPENSVC_PG_BIN, or configure OPENSVC_CONNECTION");
    }

    /// <summary>Creates the cluster (initdb) unless it exists, and writes its settings; does not start it.</summary>
    public static async Task<EmbeddedPostgres> PrepareAsync(EmbeddedPostgresOptions options, string password, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var pg = await ForAsync(options, password, cancellationToken).ConfigureAwait(false);
        await pg.EnsureInitializedAsync(password, cancellationToken).ConfigureAwait(false);
        return pg;
    }

    /// <summary>An instance over an existing (or future) data directory, doing nothing yet.</summary>
    public static async Task<EmbeddedPostgres> ForAsync(EmbeddedPostgresOptions options, string password, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var binDir = options.BinDirectory ?? FindBinDirectory();
        string? osUser = null;
        if (Environment.UserName == "root")
        {
            var id = await ProcessRunner.RunAsync("id", ["-u", "postgres"], cancellationToken: cancellationToken).ConfigureAwait(false);
            if (!id.Succeeded)
                throw new EmbeddedPostgresException("PostgreSQL needs the 'postgres' system user when run as root: install postgresql (scripts/install-deps.sh)");
            osUser = "postgres";
        }
        Directory.CreateDirectory(options.Home);
        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = options.ListenAddress, Port = options.Port, Username = Superuser, Password = password, Database = options.DatabaseName, MaxPoolSize = 100, Timeout = 10,
        }.ConnectionString;
        return new EmbeddedPostgres(options, binDir, osUser, cs);
    }

    /// <summary>Rewrites opensvc.conf and pg_hba.conf from the options (after a base backup or pg_rewind copied another server's).</summary>
    public Task WriteSettingsAsync(CancellationToken ct) => WriteRuntimeConfigAsync(ct);

    /// <summary>Starts the server if it does not run (the database itself is not created: a standby has its primary's).</summary>
    public Task StartServerAsync(CancellationToken ct) => EnsureRunningAsync(ct);

    /// <summary>Gives the data and socket directories to the server's user.</summary>
    public Task GiveToServerUserAsync(CancellationToken ct) => ChownAsync(ct);

    /// <summary>Runs a PostgreSQL program of <see cref="BinDirectory"/> as the server's user.</summary>
    public Task<ProcessResult> RunToolAsync(string tool, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, CancellationToken ct) =>
        ProcessRunner.RunAsync(Path.Combine(_binDir, tool), args, new ProcessRunOptions { RunAsUser = _osUser, Timeout = timeout, Environment = environment }, ct);

    /// <summary>Writes a private (0600) password file for initdb or the server user's tools.</summary>
    public static void WritePrivateFile(string path, string text) => WritePrivate(path, text);

    async Task EnsureInitializedAsync(string password, CancellationToken ct)
    {
        var data = _options.DataDirectory;
        Directory.CreateDirectory(_options.SocketDirectory);
        if (File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            await WriteRuntimeConfigAsync(ct).ConfigureAwait(false);
            return;
        }
        Directory.CreateDirectory(data);
        // initdb (run as the postgres user) reads the superuser password from a file: in a directory only that user may
        // enter, created so from the start, and itself 0600, so no other user can read it even for the instant it exists.
        var pwDir = Path.Combine(_options.Home, ".initdb-pw.d");
        if (Directory.Exists(pwDir))
            Directory.Delete(pwDir, recursive: true);
        Directory.CreateDirectory(pwDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var pwFile = Path.Combine(pwDir, "pw");
        try
        {
            WritePrivate(pwFile, password + "\n");
            if (_osUser is not null)
            {
                var owned = await ProcessRunner.RunAsync("chown", ["-R", "--", $"{_osUser}:{_osUser}", pwDir], cancellationToken: ct).ConfigureAwait(false);
                if (!owned.Succeeded)
                    throw new EmbeddedPostgresException($"cannot give {pwDir} to {_osUser}: {owned.Tail(300)}");
            }
            await ChownAsync(ct).ConfigureAwait(false);
            File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var init = await ProcessRunner.RunAsync(Path.Combine(_binDir, "initdb"),
                ["-D", data, "-U", Superuser, "--pwfile", pwFile, "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8", "--locale=C"],
                new ProcessRunOptions { RunAsUser = _osUser, Timeout = TimeSpan.FromMinutes(2) }, ct).ConfigureAwait(false);
            if (!init.Succeeded)
                throw new EmbeddedPostgresException($"initdb failed in {data}: {init.Tail(500)}");
        }
        finally
        {
            Directory.Delete(pwDir, recursive: true);
        }
        await File.AppendAllTextAsync(Path.Combine(data, "postgresql.conf"), "\ninclude_if_exists = 'opensvc.conf'\n", ct).ConfigureAwait(false);
        await WriteRuntimeConfigAsync(ct).ConfigureAwait(false);
    }

    /// <summary>listen_addresses: the main address then the extra ones, each checked to be an IP address.</summary>
    public static string ListenAddresses(EmbeddedPostgresOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var all = new List<string> { options.ListenAddress };
        foreach (var a in options.ExtraListenAddresses)
        {
            if (!IPAddress.TryParse(a, out var ip))
                throw new EmbeddedPostgresException($"extra listen address '{a}' is not an IP address");
            var text = ip.ToString();
            if (!all.Contains(text))
                all.Add(text);
        }
        return string.Join(',', all);
    }

    const string HbaBegin = "# BEGIN opensvc allowed client networks (rewritten at every start)";
    const string HbaEnd = "# END opensvc allowed client networks";

    /// <summary>
    /// pg_hba.conf with the managed block of allowed client networks replaced: one <c>host all all NET scram-sha-256</c>
    /// line per network (networks parsed and normalised, so nothing but a CIDR ever lands in the file).
    /// </summary>
    public static string HbaWithNetworks(string hba, IReadOnlyList<string> networks, bool replication = false)
    {
        ArgumentNullException.ThrowIfNull(hba);
        ArgumentNullException.ThrowIfNull(networks);
        var kept = new List<string>();
        var inBlock = false;
        foreach (var line in hba.Split('\n'))
        {
            if (line == HbaBegin)
                inBlock = true;
            else if (line == HbaEnd)
                inBlock = false;
            else if (!inBlock)
                kept.Add(line);
        }
        while (kept.Count > 0 && kept[^1].Length == 0)
            kept.RemoveAt(kept.Count - 1);
        if (networks.Count > 0)
        {
            kept.Add("");
            kept.Add(HbaBegin);
            foreach (var n in networks)
            {
                if (!IPNetwork.TryParse(n, out var net))
                    throw new EmbeddedPostgresException($"allowed client network '{n}' is not a CIDR network (e.g. 10.203.0.0/24)");
                kept.Add($"host all all {net} scram-sha-256");
                if (replication)
                    kept.Add($"host replication all {net} scram-sha-256");
            }
            kept.Add(HbaEnd);
        }
        return string.Join('\n', kept) + "\n";
    }

    async Task WriteRuntimeConfigAsync(CancellationToken ct)
    {
        var hbaPath = Path.Combine(_options.DataDirectory, "pg_hba.conf");
        if (File.Exists(hbaPath))
        {
            var hba = await File.ReadAllTextAsync(hbaPath, ct).ConfigureAwait(false);
            var updated = HbaWithNetworks(hba, _options.AllowedClientNetworks, _options.AllowReplication);
            if (updated != hba)
                await File.WriteAllTextAsync(hbaPath, updated, ct).ConfigureAwait(false);
        }
        // Settings live in a file, not in pg_ctl's -o string, so no value ever goes through a shell.
        string[] lines =
        [
            $"listen_addresses = '{ListenAddresses(_options)}'",
            $"port = {_options.Port.ToString(CultureInfo.InvariantCulture)}",
            $"unix_socket_directories = '{_options.SocketDirectory}'",
            "max_connections = 300",
            "shared_buffers = 128MB",
            "fsync = on",
            .. _options.ExtraSettings,
            "",
        ];
        var conf = string.Join('\n', lines);
        var path = Path.Combine(_options.DataDirectory, "opensvc.conf");
        await File.WriteAllTextAsync(path, conf, ct).ConfigureAwait(false);
        await ChownAsync(ct).ConfigureAwait(false);
    }

    async Task ChownAsync(CancellationToken ct)
    {
        if (_osUser is null)
            return;
        foreach (var dir in new[] { _options.DataDirectory, _options.SocketDirectory })
        {
            var r = await ProcessRunner.RunAsync("chown", ["-R", $"{_osUser}:{_osUser}", dir], cancellationToken: ct).ConfigureAwait(false);
            if (!r.Succeeded)
                throw new EmbeddedPostgresException($"cannot give {dir} to {_osUser}: {r.Tail(300)}");
        }
        // The log file is written by the server process.
        if (!File.Exists(_options.LogFile))
            await File.WriteAllTextAsync(_options.LogFile, "", ct).ConfigureAwait(false);
        await ProcessRunner.RunAsync("chown", [$"{_osUser}:{_osUser}", _options.LogFile], cancellationToken: ct).ConfigureAwait(false);
    }

    public async Task<bool> IsRunningAsync(CancellationToken ct)
    {
        var status = await ProcessRunner.RunAsync(Path.Combine(_binDir, "pg_ctl"), ["status", "-D", _options.DataDirectory],
            new ProcessRunOptions { RunAsUser = _osUser, Timeout = TimeSpan.FromSeconds(30) }, ct).ConfigureAwait(false);
        if (status.ExitCode != 0)
            return false;
        if (!PostmasterIsZombie(out var lockFile))
            return true;
        // pg_ctl status and the server's own lock check only ask whether the pid in postmaster.pid exists. A postmaster
        // killed outright whose parent does not reap it (pg_ctl daemonizes it under PID 1, which in some containers reaps
        // nothing) stays a zombie: it holds no memory, port or file, yet would read as running and block every restart.
        File.Delete(lockFile);
        return false;
    }

    bool PostmasterIsZombie(out string lockFile)
    {
        lockFile = Path.Combine(_options.DataDirectory, "postmaster.pid");
        try
        {
            var first = File.ReadLines(lockFile).FirstOrDefault();
            if (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                return false;
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var afterName = stat.LastIndexOf(')');
            return afterName > 0 && stat.AsSpan(afterName + 1).TrimStart().StartsWith("Z", StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    async Task EnsureRunningAsync(CancellationToken ct)
    {
        if (await IsRunningAsync(ct).ConfigureAwait(false))
            return;
        if (!PortIsFree(_options.ListenAddress, _options.Port))
            throw new EmbeddedPostgresException(
                $"port {_options.Port} on {_options.ListenAddress} is taken by another program: stop it, choose another port with OPENSVC_PG_PORT, or configure OPENSVC_CONNECTION");
        var start = await ProcessRunner.RunAsync(Path.Combine(_binDir, "pg_ctl"),
            ["start", "-D", _options.DataDirectory, "-l", _options.LogFile, "-w", "-t", "60"],
            new ProcessRunOptions { RunAsUser = _osUser, Timeout = TimeSpan.FromSeconds(90) }, ct).ConfigureAwait(false);
        if (!start.Succeeded)
        {
            var log = File.Exists(_options.LogFile) ? string.Join('\n', File.ReadLines(_options.LogFile).TakeLast(5)) : "";
            throw new EmbeddedPostgresException($"the embedded PostgreSQL did not start ({start.Tail(300)}); last log lines: {log}");
        }
        _startedHere = true;
    }

    static bool PortIsFree(string address, int port)
    {
        try
        {
            using var client = new TcpClient();
            var connect = client.ConnectAsync(address, port);
            return !connect.Wait(TimeSpan.FromMilliseconds(500)) || !client.Connected;
        }
        catch (AggregateException)
        {
            return true;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    async Task EnsureDatabaseAsync(CancellationToken ct)
    {
        var admin = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync(ct).ConfigureAwait(false);
        await using var exists = new NpgsqlCommand("select 1 from pg_database where datname = @n", conn);
        exists.Parameters.AddWithValue("n", Database);
        if (await exists.ExecuteScalarAsync(ct).ConfigureAwait(false) is null)
        {
            await using var create = new NpgsqlCommand($"create database \"{Database}\"", conn);
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
    }

    /// <summary>Creates a fresh database on this server (used by tests to isolate test classes).</summary>
    public async Task<string> CreateDatabaseAsync(string name, CancellationToken ct = default)
    {
        var admin = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString;
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync(ct).ConfigureAwait(false);
        var safe = new string(name.Where(c => char.IsAsciiLetterOrDigit(c) || c == '_').ToArray()).ToLowerInvariant();
        await using (var drop = new NpgsqlCommand($"drop database if exists \"{safe}\" with (force)", conn))
            await drop.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await using (var create = new NpgsqlCommand($"create database \"{safe}\"", conn))
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = safe }.ConnectionString;
    }

    public async Task StopAsync(CancellationToken ct = default)
    {
        var stop = await ProcessRunner.RunAsync(Path.Combine(_binDir, "pg_ctl"), ["stop", "-D", _options.DataDirectory, "-m", "fast", "-w", "-t", "60"],
            new ProcessRunOptions { RunAsUser = _osUser, Timeout = TimeSpan.FromSeconds(90) }, ct).ConfigureAwait(false);
        if (File.Exists(_options.InfoFile))
            File.Delete(_options.InfoFile);
        if (!stop.Succeeded && await IsRunningAsync(ct).ConfigureAwait(false))
            throw new EmbeddedPostgresException($"the embedded PostgreSQL did not stop: {stop.Tail(300)}");
    }

    public async ValueTask DisposeAsync()
    {
        if (_startedHere)
            await StopAsync().ConfigureAwait(false);
    }
}
