using Hangfire;
using Hangfire.Dashboard;
using Marten;
using Npgsql;
using OpenSvc.Domain;
using OpenSvc.Host.Access;
using OpenSvc.Host.Cli;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Infrastructure.Postgres;
using OpenSvc.Workflows.Engine;
using Scalar.AspNetCore;

namespace OpenSvc.Host.Agent;

/// <param name="QueuePoll">The safety-net poll of the notified queues (default 5 s; tests shorten it).</param>
/// <param name="Socket">The local socket the API is also served on (operators without a token: see <see cref="LocalSocket"/>), or null for none.</param>
public sealed record AgentSettings(NodeName Node, string Listen, string? Connection, bool FakeCluster, int Workers, bool NoopCluster = false, TimeSpan? QueuePoll = null,
    string? Socket = null);

/// <summary>
/// `opensvc agent`: this node's Hangfire server (its own queue and the orchestration queue), heartbeat,
/// reconciler, the Hangfire dashboard and a health endpoint, on the configured or embedded PostgreSQL.
/// </summary>
public static class AgentHost
{
    /// <summary>The advisory lock agents take while they create or migrate the schemas.</summary>
    const long SchemaLockKey = 0x0_5E7C_5C4E;

    public static async Task<int> RunAsync(AgentSettings settings, CancellationToken ct)
    {
        EmbeddedPostgres? embedded = null;
        string connection;
        string databaseLabel;
        if (Database.Configured(settings.Connection) is { } configured)
        {
            connection = PrimaryDataSource.Primary(configured);
            var b = new NpgsqlConnectionStringBuilder(configured);
            databaseLabel = b.Host?.Contains(',', StringComparison.Ordinal) == true
                ? $"PostgreSQL {b.Host}/{b.Database} (the primary among them)"
                : $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
        }
        else if (new ReplicatedPostgres(ReplicatedPostgres.DefaultHome()) is { IsConfigured: true } replicated)
        {
            // This node is part of a replicated control plane (opensvc db init): its database is run by `opensvc db`,
            // and the agent follows whichever node is primary.
            connection = replicated.AgentConnectionString();
            databaseLabel = $"replicated PostgreSQL {new NpgsqlConnectionStringBuilder(connection).Host} (primary)";
        }
        else
        {
            var home = EmbeddedPostgres.DefaultHome();
            var port = int.TryParse(Environment.GetEnvironmentVariable("OPENSVC_PG_PORT"), out var p) ? p : EmbeddedPostgres.DefaultPort;
            try
            {
                embedded = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(home, port)
                {
                    // For agents on other hosts or lab nodes: e.g. OPENSVC_PG_LISTEN_EXTRA=10.203.0.1 OPENSVC_PG_ALLOW=10.203.0.0/24.
                    ExtraListenAddresses = List("OPENSVC_PG_LISTEN_EXTRA"),
                    AllowedClientNetworks = List("OPENSVC_PG_ALLOW"),
                }, ct).ConfigureAwait(false);
            }
            catch (EmbeddedPostgresException ex)
            {
                throw new UserError(ex.Message, ExitCodes.Failed);
            }
            connection = embedded.ConnectionString;
            var extra = List("OPENSVC_PG_LISTEN_EXTRA");
            databaseLabel = $"embedded PostgreSQL {string.Join(',', ["127.0.0.1", .. extra])}:{port} ({Path.Combine(home, "pgdata")})";
        }

        try
        {
            await Database.CheckReachableAsync(connection, ct).ConfigureAwait(false);
            // Initialise both schemas now, so a problem shows at start-up rather than at the first run. Agents of a new
            // cluster often start together, and concurrent installs fail ("relation ... already exists", "could not
            // find tuple for constraint"): one agent at a time. Build() is inside, since the dashboard resolves the
            // Hangfire storage, whose constructor installs the Hangfire schema.
            WebApplication app;
            // Its own unpooled session: closing it releases the lock (a pooled one would keep it held).
            await using (var schemaLock = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection) { Pooling = false }.ConnectionString))
            {
                await schemaLock.OpenAsync(ct).ConfigureAwait(false);
                bool taken;
                await using (var tryTake = new NpgsqlCommand($"select pg_try_advisory_lock({SchemaLockKey})", schemaLock))
                    taken = (bool)(await tryTake.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
                if (!taken)
                {
                    // Said, so that an agent that is slow to start says why (a cold agent installs both schemas in tens of seconds).
                    Console.WriteLine($"opensvc agent {settings.Node}: another agent is creating or migrating the database schema; waiting for it ({databaseLabel})");
                    await using var take = new NpgsqlCommand($"select pg_advisory_lock({SchemaLockKey})", schemaLock) { CommandTimeout = 300 };
                    await take.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                }
                app = Build(settings, connection);
                await app.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync().ConfigureAwait(false);
                _ = app.Services.GetRequiredService<JobStorage>();
            }
            await app.StartAsync(ct).ConfigureAwait(false);
            var url = TcpUrl(app);
            var socket = settings.Socket is null ? "" : $", local API unix:{settings.Socket}";
            Console.WriteLine($"opensvc agent {settings.Node} ready: console {url}/ (sign in with a token from `opensvc token add NAME --role operator|viewer`), " +
                $"dashboard {url}/hangfire, health {url}/health, database {databaseLabel}{socket}");
            // In the background: readiness is not delayed (on a loaded machine a warm-up before it cost agents their start-up deadline).
            var warmUp = Task.Run(() => WarmUpAsync(app, settings.Node, ct), ct);
            await app.WaitForShutdownAsync(ct).ConfigureAwait(false);
            try
            {
                await warmUp.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            return ExitCodes.Ok;
        }
        finally
        {
            if (embedded is not null)
                await embedded.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs a takeover's code paths once as the agent starts (<see cref="AgentWarmUp"/>); a failure only costs the first run its JIT.</summary>
    static async Task WarmUpAsync(WebApplication app, NodeName node, CancellationToken ct)
    {
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OpenSvc.Agent");
        // On by default: it cuts a fresh agent's first takeover overhead by about a third (docs/engine-cost.md).
        // OPENSVC_AGENT_WARMUP=off leaves it out (the test suite's many short-lived agents do).
        if (Environment.GetEnvironmentVariable("OPENSVC_AGENT_WARMUP") == "off")
            return;
        try
        {
            var took = await AgentWarmUp.RunAsync(app.Services, node, ct).ConfigureAwait(false);
            log.LogInformation("warm-up: a takeover's code paths ran once in {Took}", took);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning("warm-up failed (the first run compiles its code paths instead): {Error}", ex.Message);
        }
    }

    /// <summary>The agent's TCP address (http://host:port), not its local socket.</summary>
    public static string TcpUrl(WebApplication app) =>
        app.Urls.FirstOrDefault(u => !u.StartsWith("http://unix:", StringComparison.Ordinal)) ?? throw new InvalidOperationException("the agent listens on no TCP address");

    public static WebApplication Build(AgentSettings settings, string connection, Action<WebApplicationBuilder>? configure = null, AccessPolicy? access = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        configure?.Invoke(builder);
        if (settings.Socket is { } socket)
        {
            LocalSocket.Prepare(socket);
            builder.WebHost.UseUrls($"http://{settings.Listen}", $"http://unix:{socket}");
        }
        else
        {
            builder.WebHost.UseUrls($"http://{settings.Listen}");
        }
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; o.IncludeScopes = true; });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Hangfire", LogLevel.Warning);
        builder.Logging.AddFilter("Marten", LogLevel.Warning);
        builder.Logging.AddFilter("JasperFx", LogLevel.Warning);
        builder.Services.AddOpenSvcEngine(Tuning(new EngineOptions(connection, settings.Node)
        {
            RunAgent = true,
            FakeCluster = settings.FakeCluster,
            NoopCluster = settings.NoopCluster,
            Workers = settings.Workers,
            QueuePollInterval = settings.QueuePoll,
        }));

        builder.Services.ConfigureHttpJsonOptions(o => Api.ApiJson.Configure(o.SerializerOptions));
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        try
        {
            access ??= AccessPolicy.FromEnvironment();
        }
        catch (TokenFileException e)
        {
            throw new UserError(e.Message, ExitCodes.Failed);
        }
        builder.Services.AddOpenSvcAccess(access);
        WebConsole.ConsoleSetup.AddOpenSvcConsole(builder.Services);

        var app = builder.Build();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OpenSvc.Access");
        access.Tokens.Report = problem => log.LogError("{Problem}", problem);
        if (settings.Socket is { } bound)
            app.Lifetime.ApplicationStarted.Register(() => LocalSocket.Restrict(bound));
        app.UseOpenSvcAccess(RequestGuard.For(settings.Node.Value));
        Api.ApiEndpoints.Map(app);
        app.MapOpenApi().RequireAuthorization(AccessPolicy.Viewer);
        app.MapScalarApiReference().RequireAuthorization(AccessPolicy.Viewer);
        // Anonymous probes learn whether the agent and its database are up, not why the database is not.
        app.MapGet("/health", async (HttpContext http, CancellationToken token) =>
        {
            string server;
            try
            {
                await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connection) { Timeout = 3 }.ConnectionString);
                await conn.OpenAsync(token).ConfigureAwait(false);
                await using var cmd = new NpgsqlCommand("select host(inet_server_addr()) || ':' || inet_server_port()", conn);
                server = await cmd.ExecuteScalarAsync(token).ConfigureAwait(false) as string ?? "local socket";
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                var database = AccessPolicy.IsViewer(http) ? ex.Message : "unreachable (sign in or use a token for the reason)";
                return Results.Json(new { status = "unhealthy", node = settings.Node.Value, database }, statusCode: 503);
            }
            // databaseHost: the server this agent's connections reach now (with several hosts listed, the primary).
            return Results.Json(new { status = "ok", node = settings.Node.Value, database = "ok", databaseHost = server, runtime = RuntimeFigures.Now() });
        });
        WebConsole.ConsoleSetup.MapOpenSvcConsole(app);
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            // "Back to site" goes to the console; its navigation gets a link there too (ConsoleSetup).
            AppPath = "/",
            DashboardTitle = $"OpenSvc · agent {settings.Node}",
            Authorization = [new DashboardAccessFilter()],
            IsReadOnlyFunc = DashboardAccessFilter.IsReadOnly,
            // Every dashboard POST must carry the antiforgery token its pages hold (Hangfire checks it with IAntiforgery).
            IgnoreAntiforgeryToken = false,
        });
        return app;
    }

    /// <summary>A comma-separated environment variable as a list (empty when unset).</summary>
    static string[] List(string name) =>
        (Environment.GetEnvironmentVariable(name) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Timing knobs for tests and benchmarks (milliseconds): OPENSVC_HEARTBEAT_MS, OPENSVC_RECONCILE_MS,
    /// OPENSVC_SCHEDULED_GRACE_MS, OPENSVC_AGENT_DEAD_MS, OPENSVC_QUEUE_POLL_MS, OPENSVC_STATUS_MS (status refresh period), and
    /// OPENSVC_QUEUE_WAKEUP=polling|hangfire-long-polling|notified (the benchmark's comparisons; notified is the default). Operators keep the defaults.
    /// </summary>
    static EngineOptions Tuning(EngineOptions o)
    {
        static TimeSpan? Ms(string name) =>
            int.TryParse(Environment.GetEnvironmentVariable(name), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms > 0 ? TimeSpan.FromMilliseconds(ms) : null;
        return o with
        {
            HeartbeatEvery = Ms("OPENSVC_HEARTBEAT_MS") ?? o.HeartbeatEvery,
            ReconcileEvery = Ms("OPENSVC_RECONCILE_MS") ?? o.ReconcileEvery,
            ScheduledGrace = Ms("OPENSVC_SCHEDULED_GRACE_MS") ?? o.ScheduledGrace,
            AgentDeadAfter = Ms("OPENSVC_AGENT_DEAD_MS") ?? o.AgentDeadAfter,
            StatusEvery = Ms("OPENSVC_STATUS_MS") ?? o.StatusEvery,
            QueuePollInterval = Ms("OPENSVC_QUEUE_POLL_MS") ?? o.QueuePollInterval,
            Wakeup = Environment.GetEnvironmentVariable("OPENSVC_QUEUE_WAKEUP") switch
            {
                "polling" => QueueWakeup.Polling,
                "hangfire-long-polling" => QueueWakeup.HangfireLongPolling,
                "notified" => QueueWakeup.Notified,
                _ => o.Wakeup,
            },
        };
    }
}

/// <summary>
/// What the agent's runtime has spent so far, on /health: CPU, JIT (a fresh agent compiles its hot paths again,
/// optimized, for its first minutes) and GC pauses. The benchmark reads it to tell warm-up from steady state.
/// </summary>
public sealed record RuntimeFigures(double CpuMs, double JitMs, long JitMethods, double GcPauseMs, double UptimeS)
{
    static readonly DateTime Started = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public static RuntimeFigures Now() => new(
        System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds,
        System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds,
        System.Runtime.JitInfo.GetCompiledMethodCount(),
        GC.GetTotalPauseDuration().TotalMilliseconds,
        (DateTime.UtcNow - Started).TotalSeconds);
}
