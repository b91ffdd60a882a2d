using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Hangfire;
using Marten;
using MediatR;
using Npgsql;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Cli;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Infrastructure.Postgres;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.Bench;

public sealed record EngineBenchmarkSettings(
    int Workflows, int Steps, int Agents, string? Connection, int BaselineWorkflows, int Workers, int Parallel, TimeSpan Timeout)
{
    /// <summary>Chains of no-op Hangfire jobs run without the engine, the ceiling for its workflows/s (0 skips that phase).</summary>
    public int HangfireAloneChains { get; init; }

    /// <summary>Submit each workflow once the previous one ended: latencies without queueing.</summary>
    public bool Sequential { get; init; }

    /// <summary>Workflows run with Hangfire.PostgreSql's own long polling, for comparison (0 skips that phase).</summary>
    public int HangfireLongPollingWorkflows { get; init; }

    /// <summary>Seconds more of warm-up workflows after <see cref="Warmup"/>, until the agents' JIT has settled.</summary>
    public int WarmupSeconds { get; init; }

    /// <summary>Workflows run through fresh agents before the measured ones, and not counted (0: measure cold agents).</summary>
    public int Warmup { get; init; } = 10;
}

/// <summary>
/// `opensvc bench engine`: runs workflows of no-op steps on the real stack (PostgreSQL, real `opensvc agent`
/// child processes, Hangfire queues, Marten events), first with the agents' notified queues (the product's
/// default), then with Hangfire.PostgreSql's own long polling and with its default polling (the baseline), and
/// prints latencies and throughput read from the event store.
/// </summary>
public static partial class EngineBenchmark
{
    public static Command Command(Option<string?> connection, params Command[] others)
    {
        var workflows = new Option<int>("--workflows") { Description = "workflows run with long polling", DefaultValueFactory = _ => 300 };
        var steps = new Option<int>("--steps") { Description = "no-op steps per workflow, alternating nodes", DefaultValueFactory = _ => 3 };
        var agents = new Option<int>("--agents") { Description = "agent processes (nodes n1..nN)", DefaultValueFactory = _ => 2 };
        var baseline = new Option<int>("--baseline-workflows") { Description = "workflows run with Hangfire.PostgreSql's default polling (the baseline; 0 skips it)", DefaultValueFactory = _ => 20 };
        var hangfireLongPolling = new Option<int>("--hangfire-long-polling-workflows")
        {
            Description = "workflows run with Hangfire.PostgreSql's own long polling, for comparison (0 skips it)", DefaultValueFactory = _ => 100,
        };
        var workers = new Option<int>("--workers") { Description = "Hangfire workers per agent", DefaultValueFactory = _ => 8 };
        var parallel = new Option<int>("--parallel") { Description = "submissions in flight at once", DefaultValueFactory = _ => 16 };
        var sequential = new Option<bool>("--sequential") { Description = "submit each workflow once the previous one ended (latencies without queueing; --parallel is ignored)" };
        var warmup = new Option<int>("--warmup")
        {
            Description = "workflows run (all at once) through fresh agents before the measured ones in each phase, not counted: agents are long-lived, so the figures are those of warm code (0: cold agents)",
            DefaultValueFactory = _ => 10,
        };
        var hangfireAlone = new Option<int>("--hangfire-alone-chains")
        {
            Description = "chains of --steps no-op Hangfire jobs run on Hangfire alone (no Marten, no step logic), the ceiling for the engine's workflows/s on this machine (0 skips it)",
            DefaultValueFactory = _ => 300,
        };
        var warmupSeconds = new Option<int>("--warmup-seconds")
        {
            Description = "then keep running warm-up workflows (20 at a time) for this many seconds before measuring: a fresh agent's JIT recompiles its hot paths for about its first minute (0: measure right after --warmup)",
            DefaultValueFactory = _ => 60,
        };
        var timeout = new Option<int>("--timeout") { Description = "seconds the whole benchmark may take", DefaultValueFactory = _ => 900 };
        var standby = new Option<bool>("--standby")
        {
            Description = "instead: the control plane's replication cost: a primary and a hot standby here, the same phase with the standby synchronous, asynchronous and absent (commit latency, workflows/s)",
        };
        var engine = new Command("engine",
            "Run no-op workflows through the engine (PostgreSQL, agent processes, Hangfire, Marten) with the agents' notified queues, then with Hangfire.PostgreSql's long polling and its default polling, and print latencies and workflows/s. " +
            "Uses a private PostgreSQL in a temporary directory unless --connection names a scratch database.")
        {
            workflows, steps, agents, baseline, hangfireLongPolling, hangfireAlone, workers, parallel, sequential, warmup, warmupSeconds, timeout, standby,
        };
        engine.SetAction(async (p, ct) =>
        {
            var s = new EngineBenchmarkSettings(p.GetValue(workflows), p.GetValue(steps), p.GetValue(agents), p.GetValue(connection),
                p.GetValue(baseline), p.GetValue(workers), p.GetValue(parallel), TimeSpan.FromSeconds(p.GetValue(timeout)))
            {
                Warmup = p.GetValue(warmup),
                HangfireLongPollingWorkflows = p.GetValue(hangfireLongPolling),
                Sequential = p.GetValue(sequential),
                WarmupSeconds = p.GetValue(warmupSeconds),
                HangfireAloneChains = p.GetValue(hangfireAlone),
            };
            Validate(s);
            if (p.GetValue(standby))
                return await RunStandbyModesAsync(s, Console.Out, ct).ConfigureAwait(false);
            return await RunAsync(s, Console.Out, ct).ConfigureAwait(false);
        });
        var bench = new Command("bench", "Benchmarks of this build (figures, not tests)") { engine, SiteCommand(connection) };
        // Added here only, never through another parent: a subcommand with two parents does not get the root's --help.
        foreach (var other in others)
            bench.Subcommands.Add(other);
        return bench;
    }

    static void Validate(EngineBenchmarkSettings s)
    {
        if (s.Workflows is < 1 or > 100_000)
            throw new UserError($"--workflows {s.Workflows} is out of range (1-100000)");
        if (s.Steps is < 1 or > 50)
            throw new UserError($"--steps {s.Steps} is out of range (1-50)");
        if (s.Agents is < 1 or > 16)
            throw new UserError($"--agents {s.Agents} is out of range (1-16)");
        if (s.BaselineWorkflows is < 0 or > 10_000)
            throw new UserError($"--baseline-workflows {s.BaselineWorkflows} is out of range (0-10000)");
        if (s.HangfireLongPollingWorkflows is < 0 or > 100_000)
            throw new UserError($"--hangfire-long-polling-workflows {s.HangfireLongPollingWorkflows} is out of range (0-100000)");
        if (s.Workers is < 1 or > 64)
            throw new UserError($"--workers {s.Workers} is out of range (1-64)");
        if (s.Parallel is < 1 or > 256)
            throw new UserError($"--parallel {s.Parallel} is out of range (1-256)");
        if (s.Warmup is < 0 or > 1000)
            throw new UserError($"--warmup {s.Warmup} is out of range (0-1000)");
        if (s.HangfireAloneChains is < 0 or > 100_000)
            throw new UserError($"--hangfire-alone-chains {s.HangfireAloneChains} is out of range (0-100000)");
        if (s.WarmupSeconds is < 0 or > 3600)
            throw new UserError($"--warmup-seconds {s.WarmupSeconds} is out of range (0-3600)");
        if (s.Timeout < TimeSpan.FromSeconds(10))
            throw new UserError("--timeout must be at least 10 seconds");
    }

    public static async Task<int> RunAsync(EngineBenchmarkSettings settings, TextWriter output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(settings.Timeout);
        await using var agents = new AgentChildren();
        EmbeddedPostgres? embedded = null;
        string? home = null;
        try
        {
            string notifiedDb, hangfireLongPollingDb, baselineDb, aloneDb, where;
            if (!string.IsNullOrWhiteSpace(settings.Connection))
            {
                await Database.CheckReachableAsync(settings.Connection, deadline.Token).ConfigureAwait(false);
                var b = new NpgsqlConnectionStringBuilder(settings.Connection);
                where = $"PostgreSQL {b.Host}:{b.Port}/{b.Database} (--connection; every phase shares it)";
                notifiedDb = hangfireLongPollingDb = baselineDb = aloneDb = settings.Connection;
            }
            else
            {
                (embedded, home, var port) = await StartScratchPostgresAsync("bench", deadline.Token).ConfigureAwait(false);
                where = $"embedded PostgreSQL 127.0.0.1:{port} in {home} (stopped at the end)";
                notifiedDb = await embedded.CreateDatabaseAsync("bench_notified", deadline.Token).ConfigureAwait(false);
                hangfireLongPollingDb = await embedded.CreateDatabaseAsync("bench_hangfire_long_polling", deadline.Token).ConfigureAwait(false);
                baselineDb = await embedded.CreateDatabaseAsync("bench_default_polling", deadline.Token).ConfigureAwait(false);
                aloneDb = await embedded.CreateDatabaseAsync("bench_hangfire_alone", deadline.Token).ConfigureAwait(false);
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"opensvc bench engine: {settings.Workflows} workflows (Hangfire long polling {settings.HangfireLongPollingWorkflows}, default polling {settings.BaselineWorkflows}) of {settings.Steps} no-op steps after {settings.Warmup} warm-up workflows{(settings.WarmupSeconds > 0 ? $" and {settings.WarmupSeconds} s more" : "")}, " +
                $"{settings.Agents} agent processes (n1..n{settings.Agents}) x {settings.Workers} workers, {(settings.Sequential ? "one workflow at a time" : $"{settings.Parallel} submissions in flight")}, " +
                $"{Environment.ProcessorCount} CPUs, load average {LoadAverage()}; {where}"));

            var phase = new Phase(settings, agents, output, embedded is null ? () => double.NaN : embedded.CpuMilliseconds);
            const string measuredName = "notified queues";
            var measured = await phase.RunAsync(measuredName, notifiedDb, settings.Workflows, QueueWakeup.Notified, deadline.Token).ConfigureAwait(false);
            var comparisons = new List<(string Name, EngineFigures Figures)>();
            if (settings.HangfireLongPollingWorkflows > 0)
                comparisons.Add(("Hangfire long polling", await phase.RunAsync("Hangfire long polling", hangfireLongPollingDb,
                    settings.HangfireLongPollingWorkflows, QueueWakeup.HangfireLongPolling, deadline.Token).ConfigureAwait(false)));
            if (settings.BaselineWorkflows > 0)
                comparisons.Add(("default polling", await phase.RunAsync("default polling", baselineDb, settings.BaselineWorkflows,
                    QueueWakeup.Polling, deadline.Token).ConfigureAwait(false)));
            HangfireFloor.Figures? alone = null;
            if (settings.HangfireAloneChains > 0)
            {
                output.WriteLine($"Hangfire alone: {settings.HangfireAloneChains} chains of {settings.Steps} no-op jobs after {settings.Warmup * 10} warm-up chains");
                alone = await HangfireFloor.RunAsync(aloneDb, settings.HangfireAloneChains, settings.Steps, settings.Workers,
                    settings.Sequential ? 1 : settings.Parallel, settings.Warmup * 10,
                    embedded is null ? () => double.NaN : embedded.CpuMilliseconds, Phase.TransactionsAsync, deadline.Token).ConfigureAwait(false);
            }
            output.WriteLine();
            output.Write(EngineReport.Table(measuredName, measured, comparisons, settings.Steps));
            if (alone is not null)
                output.Write(HangfireFloor.Report(alone, measured, settings.Steps));
            output.WriteLine($"load average at the end: {LoadAverage()} (other processes on this machine weigh on every figure)");
            return measured.Completed == measured.Runs && comparisons.All(c => c.Figures.Completed == c.Figures.Runs)
                && (alone is null || alone.Completed == alone.Chains) ? ExitCodes.Ok : ExitCodes.Failed;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new UserError($"the benchmark did not finish within --timeout {settings.Timeout.TotalSeconds:0} s", ExitCodes.Failed);
        }
        finally
        {
            await agents.DisposeAsync().ConfigureAwait(false);
            if (embedded is not null)
                await embedded.DisposeAsync().ConfigureAwait(false);
            if (home is not null)
            {
                try { Directory.Delete(home, recursive: true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }
    }

    /// <summary>The 1, 5 and 15 minute load averages, or "unknown" off Linux.</summary>
    static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
        catch (UnauthorizedAccessException)
        {
            return "unknown";
        }
    }

    /// <summary>A private PostgreSQL for one benchmark run: a fresh directory under the temporary one, a free loopback port.</summary>
    static async Task<(EmbeddedPostgres Server, string Home, int Port)> StartScratchPostgresAsync(string purpose, CancellationToken ct)
    {
        var home = Path.Combine(Path.GetTempPath(), $"opensvc-{purpose}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(home);
        // As root the server runs as the postgres user, which must reach its data directory.
        File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101);
        var port = FreeLoopbackPort();
        try
        {
            return (await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(home, port), ct).ConfigureAwait(false), home, port);
        }
        catch (EmbeddedPostgresException ex)
        {
            throw new UserError(ex.Message, ExitCodes.Failed);
        }
    }

    static int FreeLoopbackPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>One measured phase: fresh agents on one database, N workflows submitted, waited for and read back.</summary>
    sealed class Phase(EngineBenchmarkSettings settings, AgentChildren agents, TextWriter output, Func<double> postgresCpuMs)
    {
        static readonly StepPolicy Policy = new(TimeSpan.FromSeconds(60), 1, TimeSpan.FromSeconds(1));

        public async Task<EngineFigures> RunAsync(string name, string connection, int workflows, QueueWakeup wakeup, CancellationToken ct)
        {
            var services = new ServiceCollection();
            services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
            services.AddOpenSvcEngine(new EngineOptions(connection, new NodeName("bench")) { RunAgent = false, Wakeup = wakeup });
            await using var client = services.BuildServiceProvider();
            // Create both schemas before the agents start, so they never race to migrate.
            var store = client.GetRequiredService<IDocumentStore>();
            await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync().ConfigureAwait(false);
            _ = client.GetRequiredService<JobStorage>();

            var nodes = Enumerable.Range(1, settings.Agents).Select(i => new NodeName($"n{i}")).ToList();
            var env = new Dictionary<string, string>
            {
                ["OPENSVC_QUEUE_WAKEUP"] = wakeup switch
                {
                    QueueWakeup.Polling => "polling",
                    QueueWakeup.HangfireLongPolling => "hangfire-long-polling",
                    _ => "notified",
                },
                // Every step logs a line at Information; the figures are the engine's, not the console's.
                ["Logging__LogLevel__Default"] = "Warning",
            };
            var started = Stopwatch.StartNew();
            foreach (var node in nodes)
                agents.Start(node, connection, settings.Workers, env);
            // Generous: on a loaded shared machine two agents' start (JIT, migrations check) has taken over a minute.
            await agents.WaitReadyAsync(TimeSpan.FromSeconds(180), ct).ConfigureAwait(false);
            output.WriteLine($"{name}: {nodes.Count} agents ready in {started.Elapsed.TotalSeconds:0.0} s");

            var tag = Guid.NewGuid().ToString("N")[..6];
            // The config every workflow is planned from (the same text for all: the agents resolve it once).
            var config = OpenSvc.Infrastructure.Drivers.Fake.FakeCluster.ConfigFor(Plan("bench", nodes));
            var mediator = client.GetRequiredService<IMediator>();
            if (settings.Warmup > 0)
            {
                var warm = Stopwatch.StartNew();
                var warmIds = await SubmitAsync(mediator, $"warmup-{tag}", settings.Warmup, settings.Warmup, nodes, config, ct).ConfigureAwait(false);
                await WaitForEndAsync(store, warmIds, ct).ConfigureAwait(false);
                output.WriteLine($"{name}: {settings.Warmup} warm-up workflows ended in {warm.Elapsed.TotalSeconds:0.0} s (not counted)");
            }
            if (settings.WarmupSeconds > 0)
            {
                // The agents' JIT recompiles their hot paths, optimized, for their first minutes: keep them busy
                // until the warm-up time is over, so the measured figures are those of steady state.
                var warm = Stopwatch.StartNew();
                var batches = 0;
                while (warm.Elapsed.TotalSeconds < settings.WarmupSeconds)
                {
                    var more = await SubmitAsync(mediator, $"warmup-{tag}-{batches++}", 20, settings.Parallel, nodes, config, ct).ConfigureAwait(false);
                    await WaitForEndAsync(store, more, ct).ConfigureAwait(false);
                }
                output.WriteLine($"{name}: {batches * 20} more warm-up workflows in {warm.Elapsed.TotalSeconds:0} s (not counted)");
            }
            var before = (Agents: agents.CpuMilliseconds(), Self: SelfCpuMs(), Postgres: postgresCpuMs(), Transactions: await TransactionsAsync(connection, ct).ConfigureAwait(false),
                Jit: await agents.JitMillisecondsAsync(ct).ConfigureAwait(false));
            var submit = Stopwatch.StartNew();
            Guid[] ids;
            if (settings.Sequential)
            {
                ids = new Guid[workflows];
                for (var i = 0; i < workflows; i++)
                {
                    ids[i] = (await SubmitAsync(mediator, $"bench-{tag}-{i}", 1, 1, nodes, config, ct).ConfigureAwait(false))[0];
                    await WaitForEndAsync(store, [ids[i]], ct, TimeSpan.FromMilliseconds(5)).ConfigureAwait(false);
                }
            }
            else
                ids = await SubmitAsync(mediator, $"bench-{tag}", workflows, settings.Parallel, nodes, config, ct).ConfigureAwait(false);
            output.WriteLine($"{name}: {workflows} workflows submitted in {submit.Elapsed.TotalSeconds:0.0} s");

            var finished = await WaitForEndAsync(store, ids, ct).ConfigureAwait(false);
            output.WriteLine($"{name}: {finished} of {workflows} workflows ended {submit.Elapsed.TotalSeconds:0.0} s after the first submission");
            var agentCpu = agents.CpuMilliseconds() - before.Agents;
            var selfCpu = SelfCpuMs() - before.Self;
            var postgresCpu = postgresCpuMs() - before.Postgres;
            var agentJit = await agents.JitMillisecondsAsync(ct).ConfigureAwait(false) - before.Jit;
            await agents.StopAllAsync().ConfigureAwait(false);
            // Read after the agents stopped: their backends flush their statistics when they exit.
            var transactions = await TransactionsAsync(connection, ct).ConfigureAwait(false) - before.Transactions;
            return EngineFigures.From(await StreamsAsync(store, ids, ct).ConfigureAwait(false)) with
            {
                Cost = new PhaseCost(agentCpu, selfCpu, postgresCpu, transactions) { AgentJitMs = agentJit },
            };
        }

        static double SelfCpuMs() => Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;

        /// <summary>Transactions committed or rolled back in this database so far (PostgreSQL's statistics).</summary>
        public static async Task<double> TransactionsAsync(string connection, CancellationToken ct)
        {
            await using var c = new NpgsqlConnection(connection);
            await c.OpenAsync(ct).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand(
                "SELECT pg_stat_clear_snapshot(); SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()", c);
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.NextResultAsync(ct).ConfigureAwait(false);
            return await reader.ReadAsync(ct).ConfigureAwait(false) ? Convert.ToDouble(reader.GetValue(0), CultureInfo.InvariantCulture) : double.NaN;
        }

        async Task<Guid[]> SubmitAsync(IMediator mediator, string prefix, int count, int parallel, IReadOnlyList<NodeName> nodes, string config, CancellationToken ct)
        {
            var ids = new Guid[count];
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct },
                async (i, token) =>
                {
                    var plan = Plan($"{prefix}-{i}", nodes);
                    var result = await mediator.Send(new SubmitRun(plan, "bench", "opensvc bench engine", false, config), token).ConfigureAwait(false);
                    if (!result.Accepted)
                        throw new UserError($"workflow {i} refused: {result.Refusal}", ExitCodes.Failed);
                    ids[i] = result.RunId;
                }).ConfigureAwait(false);
            return ids;
        }

        Plan Plan(string service, IReadOnlyList<NodeName> nodes)
        {
            var steps = Enumerable.Range(0, settings.Steps)
                .Select(k => new PlanStep(k, nodes[k % nodes.Count], ResourceId.Parse($"fs#{k}"), "fs", ResourceAction.Start,
                    k == 0 ? [] : [k - 1], Policy))
                .ToList();
            return new Plan(service, ServiceAction.Start, nodes[0], null, false, steps);
        }

        async Task<int> WaitForEndAsync(IDocumentStore store, Guid[] ids, CancellationToken ct, TimeSpan? poll = null)
        {
            while (true)
            {
                agents.ThrowIfOneExited();
                await using (var session = store.QuerySession())
                {
                    var running = await session.Query<WorkflowRun>().Where(r => ids.Contains(r.Id) && r.Status == RunStatus.Running)
                        .CountAsync(ct).ConfigureAwait(false);
                    if (running == 0)
                        return ids.Length;
                }
                await Task.Delay(poll ?? TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false);
            }
        }

        static async Task<IReadOnlyCollection<IReadOnlyList<object>>> StreamsAsync(IDocumentStore store, Guid[] ids, CancellationToken ct)
        {
            await using var session = store.QuerySession();
            var events = await session.Events.QueryAllRawEvents().Where(e => ids.Contains(e.StreamId)).OrderBy(e => e.Sequence)
                .ToListAsync(ct).ConfigureAwait(false);
            return events.GroupBy(e => e.StreamId).Select(g => (IReadOnlyList<object>)g.Select(e => e.Data).ToList()).ToList();
        }
    }

    /// <summary>
    /// The agent child processes: started from this very executable, killed with their process tree when a phase
    /// ends, when the benchmark fails or is interrupted, and when this process exits.
    /// </summary>
    sealed class AgentChildren : IAsyncDisposable
    {
        readonly ConcurrentDictionary<int, Child> _children = new();
        readonly EventHandler _onExit;

        public AgentChildren()
        {
            _onExit = (_, _) => KillAll();
            AppDomain.CurrentDomain.ProcessExit += _onExit;
        }

        sealed record Child(NodeName Node, Process Process, LogTail Log);

        public void Start(NodeName node, string connection, int workers, IReadOnlyDictionary<string, string> env, string drivers = "--noop-cluster")
        {
            var (file, prefix) = SelfCommand();
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in (string[])[.. prefix, "agent", "--node", node.Value, drivers, "--listen", "127.0.0.1:0",
                         "--connection", connection, "--workers", workers.ToString(CultureInfo.InvariantCulture), "--socket", "none"])
                psi.ArgumentList.Add(a);
            foreach (var (k, v) in env)
                psi.Environment[k] = v;
            psi.Environment.Remove("OPENSVC_FAULT");
            var process = new Process { StartInfo = psi };
            var log = new LogTail();
            process.OutputDataReceived += (_, e) => log.Add(e.Data);
            process.ErrorDataReceived += (_, e) => log.Add(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _children[process.Id] = new Child(node, process, log);
        }

        static (string File, string[] Prefix) SelfCommand()
        {
            var path = Environment.ProcessPath ?? throw new UserError("cannot tell which executable runs this benchmark", ExitCodes.Failed);
            return Path.GetFileNameWithoutExtension(path) == "dotnet" ? (path, [typeof(EngineBenchmark).Assembly.Location]) : (path, []);
        }

        public Task WaitReadyAsync(TimeSpan within, CancellationToken ct) => WaitForAsync("ready:", within, ct);

        /// <summary>Waits until every agent's log holds a line containing <paramref name="marker"/>.</summary>
        public async Task WaitForAsync(string marker, TimeSpan within, CancellationToken ct)
        {
            var until = DateTime.UtcNow + within;
            while (!_children.Values.All(c => c.Log.Contains(marker)))
            {
                ThrowIfOneExited();
                if (DateTime.UtcNow > until)
                    throw new UserError($"agents did not log '{marker}' within {within.TotalSeconds:0} s:\n{Logs()}", ExitCodes.Failed);
                await Task.Delay(50, ct).ConfigureAwait(false);
            }
        }

        /// <summary>Milliseconds (wall clock) the running agents' JIT has compiled so far (their /health), NaN if one did not answer.</summary>
        public async Task<double> JitMillisecondsAsync(CancellationToken ct)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var total = 0.0;
            foreach (var c in _children.Values)
            {
                if (c.Log.HealthUrl is not { } url)
                    return double.NaN;
                try
                {
                    using var doc = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri(url), ct).ConfigureAwait(false));
                    total += doc.RootElement.GetProperty("runtime").GetProperty("jitMs").GetDouble();
                }
                catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or KeyNotFoundException or TaskCanceledException)
                {
                    return double.NaN;
                }
            }
            return total;
        }

        /// <summary>CPU time the running agents have used so far, in milliseconds.</summary>
        public double CpuMilliseconds()
        {
            var total = 0.0;
            foreach (var c in _children.Values)
            {
                try
                {
                    c.Process.Refresh();
                    total += c.Process.TotalProcessorTime.TotalMilliseconds;
                }
                catch (InvalidOperationException)
                {
                    return double.NaN;
                }
            }
            return total;
        }

        public void ThrowIfOneExited()
        {
            foreach (var c in _children.Values)
                if (c.Process.HasExited)
                    throw new UserError($"agent {c.Node} (pid {c.Process.Id}) exited with code {c.Process.ExitCode}:\n{Logs()}", ExitCodes.Failed);
        }

        string Logs() => string.Join('\n', _children.Values.Select(c => $"--- {c.Node}\n{c.Log}"));

        public async Task StopAllAsync()
        {
            foreach (var (pid, c) in _children.ToList())
            {
                Kill(c.Process);
                await c.Process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                c.Process.Dispose();
                _children.TryRemove(pid, out _);
            }
        }

        void KillAll()
        {
            foreach (var c in _children.Values)
                Kill(c.Process);
        }

        static void Kill(Process p)
        {
            try
            {
                if (!p.HasExited)
                    p.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException) { }
            catch (System.ComponentModel.Win32Exception) { }
        }

        public async ValueTask DisposeAsync()
        {
            AppDomain.CurrentDomain.ProcessExit -= _onExit;
            try
            {
                await StopAllAsync().ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                KillAll();
            }
        }
    }

    /// <summary>The last lines an agent wrote, for failure messages and the readiness line.</summary>
    sealed class LogTail
    {
        readonly Queue<string> _lines = new();
        readonly Lock _gate = new();
        bool _ready;

        /// <summary>The agent's health endpoint, from its readiness line.</summary>
        public string? HealthUrl { get; private set; }

        public void Add(string? line)
        {
            if (line is null)
                return;
            lock (_gate)
            {
                _ready |= line.Contains("ready:", StringComparison.Ordinal);
                if (HealthUrl is null && System.Text.RegularExpressions.Regex.Match(line, @"health (\S+/health)") is { Success: true } m)
                    HealthUrl = m.Groups[1].Value.TrimEnd(',');
                _lines.Enqueue(line);
                while (_lines.Count > 40)
                    _lines.Dequeue();
            }
        }

        public bool Contains(string marker)
        {
            lock (_gate)
                return marker == "ready:" ? _ready : _lines.Any(l => l.Contains(marker, StringComparison.Ordinal));
        }

        public override string ToString()
        {
            lock (_gate)
                return string.Join('\n', _lines);
        }
    }
}
