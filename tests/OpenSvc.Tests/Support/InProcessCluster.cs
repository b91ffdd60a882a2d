using FluentAssertions;
using Marten;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Tests.Support;

/// <summary>
/// The engine for real (Marten, Hangfire on PostgreSQL with notified queues, MediatR) with one agent host per
/// node in this process, all driving the fake cluster. A client host without a Hangfire server submits.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    readonly List<IHost> _agents = [];
    IHost _client = null!;
    QueueWakeup _wakeup;
    TimeSpan _queuePoll;
    IReadOnlyDictionary<string, TimeSpan> _skew = new Dictionary<string, TimeSpan>();
    Action<string, IServiceCollection>? _configure;

    public string ConnectionString { get; private init; } = "";
    public IServiceProvider Client => _client.Services;
    public IDocumentStore Store => Client.GetRequiredService<IDocumentStore>();
    public IMediator Mediator => Client.GetRequiredService<IMediator>();

    public static Task<InProcessCluster> StartAsync(string name, params string[] nodes) =>
        StartAsync(name, SharedProcess.Wakeup, SharedProcess.QueuePoll, nodes);

    /// <param name="wakeup">How the agents learn of their jobs.</param>
    /// <param name="queuePoll">The poll: Hangfire's interval, or the safety net of notified queues.</param>
    public static async Task<InProcessCluster> StartAsync(string name, QueueWakeup wakeup, TimeSpan queuePoll, params string[] nodes) =>
        await StartOnAsync(await PostgresServer.NewDatabaseAsync(name), wakeup, queuePoll, null, nodes);

    /// <summary>
    /// A cluster whose agents' services a test adjusts, node by node (<paramref name="configure"/> runs after the engine's
    /// registrations, so what it adds replaces them): a fault injector that holds a step where the test wants it, say.
    /// </summary>
    public static async Task<InProcessCluster> StartAsync(string name, Action<string, IServiceCollection> configure, params string[] nodes) =>
        await StartOnAsync(await PostgresServer.NewDatabaseAsync(name), SharedProcess.Wakeup, SharedProcess.QueuePoll, null, nodes, configure);

    /// <summary>
    /// A cluster on a given database (a private server a test restarts), with agents whose clocks may be skewed: a
    /// node's agent then reads a wall clock <paramref name="clockSkew"/>[node] off the truth (timers are not affected).
    /// </summary>
    public static Task<InProcessCluster> StartOnAsync(string cs, QueueWakeup wakeup, TimeSpan queuePoll,
        IReadOnlyDictionary<string, TimeSpan>? clockSkew, params string[] nodes) =>
        StartOnAsync(cs, wakeup, queuePoll, clockSkew, nodes, null);

    static async Task<InProcessCluster> StartOnAsync(string cs, QueueWakeup wakeup, TimeSpan queuePoll,
        IReadOnlyDictionary<string, TimeSpan>? clockSkew, string[] nodes, Action<string, IServiceCollection>? configure)
    {
        var cluster = new InProcessCluster
        {
            ConnectionString = cs, _wakeup = wakeup, _queuePoll = queuePoll, _skew = clockSkew ?? new Dictionary<string, TimeSpan>(), _configure = configure,
        };
        cluster._client = cluster.Build(cs, new NodeName("client"), agent: false);
        await cluster._client.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await cluster._client.StartAsync();
        foreach (var n in nodes)
        {
            var host = cluster.Build(cs, new NodeName(n), agent: true);
            await host.StartAsync();
            cluster._agents.Add(host);
        }
        return cluster;
    }

    /// <summary>Starts the agent of one more node (a node whose queue had no worker until now).</summary>
    public async Task AddAgentAsync(string node)
    {
        var host = Build(ConnectionString, new NodeName(node), agent: true);
        await host.StartAsync();
        _agents.Add(host);
    }

    /// <summary>Stops one node's agent and starts a new one for it (an agent restart, as a node boots).</summary>
    public async Task RestartAgentAsync(string node)
    {
        var old = _agents.Single(a => a.Services.GetRequiredService<EngineOptions>().Node.Value == node);
        await old.StopAsync(TimeSpan.FromSeconds(10));
        old.Dispose();
        _agents.Remove(old);
        await AddAgentAsync(node);
    }

    /// <summary>Waits until the start-up pass of <paramref name="node"/>'s agent (its orchestrated starts) has ended.</summary>
    public Task WaitForOrchestratorPassAsync(string node, TimeSpan? within = null) =>
        _agents.Single(a => a.Services.GetRequiredService<EngineOptions>().Node.Value == node)
            .Services.GetServices<IHostedService>().OfType<OrchestratorService>().Single()
            .StartupPass.WaitAsync(within ?? TimeSpan.FromSeconds(30));

    /// <summary>The id of the first job waiting in a Hangfire queue, once there is one.</summary>
    public async Task<long> WaitForQueuedJobAsync(string queue, TimeSpan? within = null)
    {
        var deadline = DateTimeOffset.UtcNow + (within ?? TimeSpan.FromSeconds(30));
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        while (true)
        {
            await using var command = new Npgsql.NpgsqlCommand("SELECT jobid FROM hangfire.jobqueue WHERE queue = $1 ORDER BY id LIMIT 1", connection);
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = queue });
            if (await command.ExecuteScalarAsync() is long id)
                return id;
            if (DateTimeOffset.UtcNow > deadline)
                throw new TimeoutException($"no job reached queue {queue} in time");
            await Task.Delay(50);
        }
    }

    /// <summary>Marks a queued job as fetched <paramref name="ago"/> by a worker that never started it.</summary>
    public async Task MarkFetchedAsync(long jobId, TimeSpan ago)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("UPDATE hangfire.jobqueue SET fetchedat = now() - $2 WHERE jobid = $1", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = jobId });
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = ago });
        (await command.ExecuteNonQueryAsync()).Should().Be(1);
    }

    IHost Build(string cs, NodeName node, bool agent)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (_skew.TryGetValue(node.Value, out var skew))
            builder.Services.AddSingleton<TimeProvider>(new SkewedClock(skew));
        builder.Services.AddOpenSvcEngine(new EngineOptions(cs, node)
        {
            RunAgent = agent,
            FakeCluster = true,
            HeartbeatEvery = TimeSpan.FromMilliseconds(500),
            ReconcileEvery = TimeSpan.FromSeconds(1),
            ScheduledGrace = TimeSpan.FromSeconds(3),
            AgentDeadAfter = TimeSpan.FromSeconds(3),
            Wakeup = _wakeup,
            QueuePollInterval = _queuePoll,
        });
        if (agent)
            _configure?.Invoke(node.Value, builder.Services);
        return builder.Build();
    }

    /// <summary>Waits until step <paramref name="step"/> of the run reaches <paramref name="status"/>.</summary>
    public async Task WaitForStepAsync(Guid runId, int step, StepStatus status, TimeSpan within)
    {
        var deadline = DateTimeOffset.UtcNow + within;
        while (true)
        {
            await using (var session = Store.QuerySession())
            {
                var run = await session.LoadAsync<WorkflowRun>(runId);
                if (run is not null && step < run.Steps.Count && run.Steps[step].Status == status)
                    return;
            }
            if (DateTimeOffset.UtcNow > deadline)
                throw new TimeoutException($"step {step + 1} of run {runId} did not reach {status} in time");
            await Task.Delay(50);
        }
    }

    public async Task<WorkflowRun> WaitForEndAsync(Guid runId, TimeSpan? within = null)
    {
        var deadline = DateTimeOffset.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            await using var session = Store.QuerySession();
            var run = await session.LoadAsync<WorkflowRun>(runId);
            if (run is { IsFinished: true })
                return run;
            if (DateTimeOffset.UtcNow > deadline)
                throw new TimeoutException($"run {runId} did not end in time; last state: {run?.Status}, steps: " +
                    string.Join(", ", run?.Steps.Select(s => $"{s.Step.Index + 1}:{s.Status}") ?? []) +
                    $"\nHangfire's view (newest jobs):\n{await HangfireViewAsync(ConnectionString)}{await StacksAsync()}");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// The newest Hangfire jobs with their state and queue row, and the servers' heartbeats: what a run stuck with a
    /// step Scheduled needs to tell "never enqueued", "enqueued but not fetched" and "fetched but not started" apart.
    /// </summary>
    public static async Task<string> HangfireViewAsync(string connectionString)
    {
        try
        {
            await using var connection = new Npgsql.NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT 'job ' || j.id || ' ' || coalesce(j.statename, '?') || ' created ' || to_char(j.createdat, 'HH24:MI:SS.MS')
                       || coalesce(' queue ' || q.queue || ' fetched ' || coalesce(to_char(q.fetchedat, 'HH24:MI:SS.MS'), 'no'), ' (no queue row)')
                       || ' ' || left(j.invocationdata::text, 160)
                FROM hangfire.job j LEFT JOIN hangfire.jobqueue q ON q.jobid = j.id
                ORDER BY j.id DESC LIMIT 8
                """;
            var lines = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync())
                while (await reader.ReadAsync())
                    lines.Add("  " + reader.GetString(0));
            command.CommandText = "SELECT 'server ' || id || ' heartbeat ' || to_char(lastheartbeat, 'HH24:MI:SS.MS') || ' ' || left(data::text, 120) FROM hangfire.server";
            await using (var reader = await command.ExecuteReaderAsync())
                while (await reader.ReadAsync())
                    lines.Add("  " + reader.GetString(0));
            command.CommandText = "SELECT 'lock ' || resource || ' acquired ' || coalesce(to_char(acquired, 'HH24:MI:SS.MS'), '?') FROM hangfire.lock";
            await using (var reader = await command.ExecuteReaderAsync())
                while (await reader.ReadAsync())
                    lines.Add("  " + reader.GetString(0));
            command.CommandText = """
                SELECT 'backend ' || pid || ' ' || coalesce(state, '?') || ' since ' || coalesce(to_char(state_change, 'HH24:MI:SS.MS'), '?')
                       || coalesce(' wait ' || wait_event_type || ':' || wait_event, '') || ' ' || left(regexp_replace(query, '\s+', ' ', 'g'), 140)
                FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                """;
            await using (var reader = await command.ExecuteReaderAsync())
                while (await reader.ReadAsync())
                    lines.Add("  " + reader.GetString(0));
            lines.Add($"  now {DateTime.UtcNow:HH:mm:ss.fff} UTC");
            return string.Join('\n', lines);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException)
        {
            return $"  (cannot read Hangfire's tables: {e.Message})";
        }
    }

    /// <summary>
    /// When OPENSVC_TEST_STACKS names a dotnet-stack executable (a diagnostics run, never CI), the managed stacks
    /// of this process go to a file: what a stuck Hangfire worker was doing.
    /// </summary>
    public static async Task<string> StacksAsync()
    {
        var tool = Environment.GetEnvironmentVariable("OPENSVC_TEST_STACKS");
        if (string.IsNullOrEmpty(tool) || !File.Exists(tool))
            return "";
        var file = Path.Combine(Path.GetTempPath(), $"opensvc-stacks-{Environment.ProcessId}-{DateTime.UtcNow:HHmmss}.txt");
        var psi = new System.Diagnostics.ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "report", "-p", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        await File.WriteAllTextAsync(file, output);
        return $"\n  stacks: {file}";
    }

    public async Task<IReadOnlyList<object>> EventsAsync(Guid runId)
    {
        await using var session = Store.QuerySession();
        var events = await session.Events.FetchStreamAsync(runId);
        return events.Select(e => e.Data).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var a in _agents)
        {
            await a.StopAsync(TimeSpan.FromSeconds(10));
            a.Dispose();
        }
        await _client.StopAsync();
        _client.Dispose();
    }
}

/// <summary>A wall clock that is <paramref name="skew"/> off the machine's (a node whose clock lags or leads); timers run true.</summary>
public sealed class SkewedClock(TimeSpan skew) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + skew;
}

/// <summary>
/// Hosts sharing this test process are woken as agents are (notified queues: each host listens on its own
/// connection, so hosts of one process do not take each other's wake-ups), with a short poll as the safety net so
/// that a test never waits long for a job. NotifiedQueueTests prove the notifications alone, with a poll too long
/// to help.
/// </summary>
public static class SharedProcess
{
    public const QueueWakeup Wakeup = QueueWakeup.Notified;
    public static readonly TimeSpan QueuePoll = TimeSpan.FromMilliseconds(200);
}
