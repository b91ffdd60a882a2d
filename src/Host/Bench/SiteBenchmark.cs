using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.States;
using Marten;
using MediatR;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Cli;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Infrastructure.Postgres;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;

namespace OpenSvc.Host.Bench;

public sealed record SiteBenchmarkSettings(int Services, int Workers, int Parallel, int Warmup, int WarmSingles, string? Connection, TimeSpan Timeout);

/// <summary>
/// `opensvc bench site`: site A is lost and every one of its services is taken over on the DR node at once. N failover
/// services of five resources (two filesystems, a container, an address in it, a second container: the seed's shape)
/// on the fake cluster, one real `opensvc agent --fake-cluster` process for the DR node n3, every takeover requested
/// through the planner (forced, with a reason: the primary's agent is gone). Prints the time until all are up, against
/// plain Hangfire jobs run in the same process on the same PostgreSQL with the agents' storage settings: as many jobs
/// as the engine needs (one per service: its five steps on one node run as one segment), and one job per step.
/// Also the first takeover of the fresh agent (cold) against a warm one, as engine overhead: request to end minus
/// the steps' own driver time.
/// </summary>
public static partial class EngineBenchmark
{
    const int SiteSteps = 5;

    static Command SiteCommand(Option<string?> connection)
    {
        var services = new Option<int>("--services") { Description = "services of site A taken over at once onto the DR node n3", DefaultValueFactory = _ => 100 };
        var workers = new Option<int>("--workers") { Description = "Hangfire workers of the DR agent (and of the Hangfire-alone server)", DefaultValueFactory = _ => 8 };
        var parallel = new Option<int>("--parallel")
        {
            Description = "takeover requests in flight at once (0: all of them; each request reads the database clock, whose pool holds 4 connections)",
            DefaultValueFactory = _ => 16,
        };
        var warmup = new Option<int>("--warmup") { Description = "services taken over (all at once, then again) before the measured site, not counted", DefaultValueFactory = _ => 50 };
        var singles = new Option<int>("--warm-singles") { Description = "single takeovers of the warm agent, one at a time (their median is the warm figure)", DefaultValueFactory = _ => 5 };
        var timeout = new Option<int>("--timeout") { Description = "seconds the whole benchmark may take", DefaultValueFactory = _ => 600 };
        var site = new Command("site",
            "Take over N five-resource services onto one DR node at once on the fake cluster (a lost site) and print the time until all are up, " +
            "against the same number of plain Hangfire jobs in the same run; also the first takeover of a fresh agent against a warm one.")
        {
            services, workers, parallel, warmup, singles, timeout,
        };
        site.SetAction(async (p, ct) =>
        {
            var s = new SiteBenchmarkSettings(p.GetValue(services), p.GetValue(workers), p.GetValue(parallel), p.GetValue(warmup), p.GetValue(singles),
                p.GetValue(connection), TimeSpan.FromSeconds(p.GetValue(timeout)));
            if (s.Services is < 1 or > 10_000)
                throw new UserError($"--services {s.Services} is out of range (1-10000)");
            if (s.Workers is < 1 or > 64)
                throw new UserError($"--workers {s.Workers} is out of range (1-64)");
            if (s.Parallel is < 0 or > 10_000)
                throw new UserError($"--parallel {s.Parallel} is out of range (0-10000)");
            if (s.Warmup is < 0 or > 10_000 || s.WarmSingles is < 1 or > 100)
                throw new UserError("--warmup is 0-10000 and --warm-singles 1-100");
            if (s.Timeout < TimeSpan.FromSeconds(10))
                throw new UserError("--timeout must be at least 10 seconds");
            return await RunSiteAsync(s, Console.Out, ct).ConfigureAwait(false);
        });
        return site;
    }

    /// <summary>A takeover as the event store tells it: request to end, and the steps' own driver time.</summary>
    public sealed record TakeoverFigures(DateTimeOffset RequestedAt, DateTimeOffset? EndedAt, bool Completed, int Steps, TimeSpan DriverTime)
    {
        /// <summary>"scheduled +0, started +540, ended +780 (driver 12), ..." per step, in ms from the request: where a run's time went.</summary>
        public string Timeline { get; init; } = "";

        public TimeSpan Duration => EndedAt is { } e ? e - RequestedAt : TimeSpan.Zero;

        /// <summary>What the engine added: request to end, minus the steps' own driver time.</summary>
        public TimeSpan Overhead => Duration - DriverTime;

        public static TakeoverFigures From(IReadOnlyList<object> events)
        {
            ArgumentNullException.ThrowIfNull(events);
            var requested = events.OfType<RunRequested>().Single();
            var ok = events.OfType<StepSucceeded>().ToList();
            DateTimeOffset? ended = events.OfType<RunCompleted>().Select(e => (DateTimeOffset?)e.At).FirstOrDefault()
                ?? events.OfType<RunFailed>().Select(e => (DateTimeOffset?)e.At).FirstOrDefault();
            string At(DateTimeOffset t) => ((t - requested.At).TotalMilliseconds).ToString("0", CultureInfo.InvariantCulture);
            var timeline = string.Join("; ", ok.Select(done =>
            {
                var scheduled = events.OfType<StepScheduled>().LastOrDefault(e => e.Step == done.Step && e.At <= done.At);
                var started = events.OfType<StepStarted>().LastOrDefault(e => e.Step == done.Step && e.At <= done.At);
                return $"step {done.Step + 1}: scheduled +{(scheduled is null ? "?" : At(scheduled.At))}, started +{(started is null ? "?" : At(started.At))}, " +
                       $"ended +{At(done.At)} (driver {done.Duration.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)})";
            }));
            return new TakeoverFigures(requested.At, ended, events.OfType<RunCompleted>().Any(), ok.Count,
                ok.Aggregate(TimeSpan.Zero, (t, e) => t + e.Duration)) { Timeline = timeline };
        }
    }

    /// <summary>The service the bench takes over: the seed's five resources, primary n1 (site A), DR node n3, fake drivers.</summary>
    public static string SiteServiceConfig(string service) => $"""
        [DEFAULT]
        nodes = n1
        drpnodes = n3
        [fs#0]
        type = ext4
        dev = /dev/fake-{service}-0
        mnt = /srv/{service}/docker
        [fs#1]
        type = ext4
        dev = /dev/fake-{service}-1
        mnt = /srv/{service}/data
        [container#0]
        type = docker
        run_image = fake/busybox:1
        run_args = --net=none
        [ip#0]
        type = docker
        ipdev = eth0
        ipname = 192.0.2.10
        netmask = 255.255.255.0
        container_rid = container#0
        [container#1]
        type = docker
        run_image = fake/httpd:1
        run_args = --net=container:{service}.container.0
        """;

    static async Task<int> RunSiteAsync(SiteBenchmarkSettings settings, TextWriter output, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(settings.Timeout);
        await using var agents = new AgentChildren();
        EmbeddedPostgres? embedded = null;
        string? home = null;
        try
        {
            string siteDb, aloneDb, where;
            if (!string.IsNullOrWhiteSpace(settings.Connection))
            {
                await Database.CheckReachableAsync(settings.Connection, deadline.Token).ConfigureAwait(false);
                siteDb = aloneDb = settings.Connection;
                where = "PostgreSQL of --connection (both phases share it)";
            }
            else
            {
                (embedded, home, var port) = await StartScratchPostgresAsync("site", deadline.Token).ConfigureAwait(false);
                where = $"embedded PostgreSQL 127.0.0.1:{port} (stopped at the end)";
                siteDb = await embedded.CreateDatabaseAsync("bench_site", deadline.Token).ConfigureAwait(false);
                aloneDb = await embedded.CreateDatabaseAsync("bench_site_hangfire", deadline.Token).ConfigureAwait(false);
            }
            Func<double> pgCpu = embedded is null ? () => double.NaN : embedded.CpuMilliseconds;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"opensvc bench site: {settings.Services} services of {SiteSteps} resources taken over onto n3 at once (fake cluster), one agent x {settings.Workers} workers, " +
                $"{Environment.ProcessorCount} CPUs, load average {LoadAverage()}; {where}"));
            var site = await SitePhaseAsync(settings, siteDb, agents, output, pgCpu, deadline.Token).ConfigureAwait(false);
            output.WriteLine($"Hangfire alone: {settings.Services} jobs, then {settings.Services} chains of {SiteSteps} jobs, on one server of {settings.Workers} workers");
            var alone = await SiteFloor.RunAsync(aloneDb, settings.Services, settings.Workers, pgCpu, deadline.Token).ConfigureAwait(false);
            output.WriteLine();
            output.Write(SiteReport(settings, site, alone));
            output.WriteLine($"load average at the end: {LoadAverage()} (other processes on this machine weigh on every figure)");
            return site.Site.All(t => t.Completed) && site.Cold.Completed ? ExitCodes.Ok : ExitCodes.Failed;
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

    public sealed record SitePhase(TakeoverFigures Cold, IReadOnlyList<TakeoverFigures> Warm, IReadOnlyList<TakeoverFigures> Site, DateTimeOffset FirstRequest,
        TimeSpan Requesting, PhaseCost Cost);

    static async Task<SitePhase> SitePhaseAsync(SiteBenchmarkSettings settings, string connection, AgentChildren agents, TextWriter output,
        Func<double> postgresCpuMs, CancellationToken ct)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddOpenSvcEngine(new EngineOptions(connection, new NodeName("bench")) { RunAgent = false });
        await using var client = services.BuildServiceProvider();
        var store = client.GetRequiredService<IDocumentStore>();
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync().ConfigureAwait(false);
        _ = client.GetRequiredService<JobStorage>();
        var mediator = client.GetRequiredService<IMediator>();

        var names = Enumerable.Range(0, settings.Services).Select(i => $"site{i:0000}").ToList();
        var warmNames = Enumerable.Range(0, settings.Warmup).Select(i => $"warm{i:0000}").ToList();
        var singles = Enumerable.Range(0, settings.WarmSingles).Select(i => $"single{i:00}").ToList();
        var created = Stopwatch.StartNew();
        foreach (var name in names.Concat(warmNames).Concat(singles).Prepend("cold"))
        {
            var stored = await mediator.Send(new ConfigureService(name, SiteServiceConfig(name), "bench", false, true), ct).ConfigureAwait(false);
            if (!stored.Accepted)
                throw new UserError($"service {name} not stored: {stored.Refusal}: {string.Join("; ", stored.Problems.Select(x => x.ToString()))}", ExitCodes.Failed);
        }
        output.WriteLine($"site: {names.Count + warmNames.Count + singles.Count + 1} services stored in {created.Elapsed.TotalSeconds:0.0} s");

        // This process requests the takeovers. In production the request reaches a running agent, whose warm-up covers its
        // own request path: this process's path (a step job created through Hangfire's client) is warmed once here, so
        // the cold figure is the fresh agent's, not this process's first enqueue. The job goes to a queue no agent
        // fetches and is deleted at once.
        {
            var warm = Stopwatch.StartNew();
            var jobs = client.GetRequiredService<IBackgroundJobClient>();
            jobs.Delete(jobs.Create(StepJob.WarmUp("bench requester warm-up", "bench_requester_warmup"), new EnqueuedState("bench_requester_warmup")));
            output.WriteLine($"site: this process's request path warmed in {warm.Elapsed.TotalMilliseconds:0} ms (one step job created and deleted)");
        }
        var env = new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning", ["Logging__LogLevel__OpenSvc.Agent"] = "Information" };
        var warmingUp = Environment.GetEnvironmentVariable("OPENSVC_AGENT_WARMUP") != "off";
        var started = Stopwatch.StartNew();
        agents.Start(new NodeName("n3"), connection, settings.Workers, env, "--fake-cluster");
        await agents.WaitReadyAsync(TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
        // Planning refuses a node whose agent has not heartbeated yet: wait for its first heartbeat.
        while (true)
        {
            agents.ThrowIfOneExited();
            await using (var q = store.QuerySession())
                if (await q.Query<OpenSvc.Workflows.Agents.AgentHeartbeat>().AnyAsync(ct).ConfigureAwait(false))
                    break;
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        output.WriteLine($"site: the DR agent n3 ready and heartbeating in {started.Elapsed.TotalSeconds:0.0} s");
        if (warmingUp)
        {
            // The agent warms up in the background once ready: the cold takeover is the first one after that warm-up.
            await agents.WaitForAsync("warm-up", TimeSpan.FromSeconds(120), ct).ConfigureAwait(false);
            output.WriteLine($"site: the DR agent's warm-up (OPENSVC_AGENT_WARMUP=off leaves it out) ended {started.Elapsed.TotalSeconds:0.0} s after its start");
        }

        // This process's planning path, warmed by a dry run of the cold takeover (it writes nothing and asks nothing of
        // the agent): the cold figure is the fresh agent's, not this requester's first plan.
        {
            var dry = Stopwatch.StartNew();
            var planned = await mediator.Send(new PlanAction(new ActionRequest("cold", ServiceAction.Takeover, new NodeName("n3"), "bench")
            {
                Force = true,
                Reason = "opensvc bench site: warming the requester",
            }), ct).ConfigureAwait(false);
            output.WriteLine($"site: this process's planning warmed by a dry run of the cold takeover in {dry.Elapsed.TotalMilliseconds:0} ms ({planned.GetType().Name})");
        }

        // Cold: the fresh agent's first takeover.
        var coldRequest = Stopwatch.StartNew();
        var coldRequested = TimeSpan.Zero;
        var cold = (await TakeOverAsync(mediator, store, agents, ["cold"], 1, ct, () => coldRequested = coldRequest.Elapsed).ConfigureAwait(false)).Single();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"site: cold takeover {Ms(cold.Duration)} ms (steps {Ms(cold.DriverTime)} ms; this process's request took {Ms(coldRequested)} ms)"));
        output.WriteLine($"  its timeline, ms from the request: {cold.Timeline}");
        if (warmNames.Count > 0)
        {
            var warm = Stopwatch.StartNew();
            await TakeOverAsync(mediator, store, agents, warmNames, warmNames.Count, ct).ConfigureAwait(false);
            output.WriteLine($"site: {warmNames.Count} warm-up takeovers at once ended in {warm.Elapsed.TotalSeconds:0.0} s (not counted)");
        }
        var singleFigures = new List<TakeoverFigures>();
        foreach (var one in singles)
            singleFigures.Add((await TakeOverAsync(mediator, store, agents, [one], 1, ct).ConfigureAwait(false)).Single());
        if (singleFigures.Count > 0)
            output.WriteLine($"site: the last warm single takeover's timeline, ms from the request: {singleFigures[^1].Timeline}");

        // Let the status refreshes of the warm-up settle, then the site.
        await Task.Delay(TimeSpan.FromSeconds(2), ct).ConfigureAwait(false);
        var before = (Agents: agents.CpuMilliseconds(), Self: Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds, Postgres: postgresCpuMs(),
            Transactions: await Phase.TransactionsAsync(connection, ct).ConfigureAwait(false), Jit: await agents.JitMillisecondsAsync(ct).ConfigureAwait(false));
        var first = DateTimeOffset.UtcNow;
        var requesting = Stopwatch.StartNew();
        var site = await TakeOverAsync(mediator, store, agents, names, settings.Parallel > 0 ? settings.Parallel : names.Count, ct, () => requesting.Stop())
            .ConfigureAwait(false);
        var cost = new PhaseCost(agents.CpuMilliseconds() - before.Agents, Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - before.Self,
            postgresCpuMs() - before.Postgres, double.NaN) { AgentJitMs = await agents.JitMillisecondsAsync(ct).ConfigureAwait(false) - before.Jit };
        await agents.StopAllAsync().ConfigureAwait(false);
        cost = cost with { Transactions = await Phase.TransactionsAsync(connection, ct).ConfigureAwait(false) - before.Transactions };
        return new SitePhase(cold, singleFigures, site, first, requesting.Elapsed, cost);
    }

    /// <summary>Requests the forced takeover of each service onto n3 (site A is lost), waits for every run to end, reads them back.</summary>
    static async Task<IReadOnlyList<TakeoverFigures>> TakeOverAsync(IMediator mediator, IDocumentStore store, AgentChildren agents, IReadOnlyList<string> names,
        int parallel, CancellationToken ct, Action? requested = null)
    {
        var ids = new Guid[names.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, names.Count), new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct },
            async (i, token) =>
            {
                var result = await mediator.Send(new RequestAction(new ActionRequest(names[i], ServiceAction.Takeover, new NodeName("n3"), "bench")
                {
                    Force = true,
                    Reason = "opensvc bench site: site A is lost",
                }), token).ConfigureAwait(false);
                ids[i] = result switch
                {
                    ActionAccepted { RunId: { } id } => id,
                    ActionRefused r => throw new UserError($"takeover of {names[i]} refused: {r.Refusal}", ExitCodes.Failed),
                    _ => throw new UserError($"takeover of {names[i]}: {result}", ExitCodes.Failed),
                };
            }).ConfigureAwait(false);
        requested?.Invoke();
        while (true)
        {
            agents.ThrowIfOneExited();
            await using (var session = store.QuerySession())
            {
                var running = await session.Query<WorkflowRun>().Where(r => ids.Contains(r.Id) && r.Status == RunStatus.Running).CountAsync(ct).ConfigureAwait(false);
                if (running == 0)
                    break;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(names.Count == 1 ? 5 : 50), ct).ConfigureAwait(false);
        }
        await using var query = store.QuerySession();
        var events = await query.Events.QueryAllRawEvents().Where(e => ids.Contains(e.StreamId)).OrderBy(e => e.Sequence).ToListAsync(ct).ConfigureAwait(false);
        var byRun = events.GroupBy(e => e.StreamId).ToDictionary(g => g.Key, g => (IReadOnlyList<object>)g.Select(e => e.Data).ToList());
        return ids.Select(id => TakeoverFigures.From(byRun[id])).ToList();
    }

    static string SiteReport(SiteBenchmarkSettings settings, SitePhase site, SiteFloor.Figures alone)
    {
        static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(v >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        var done = site.Site.Count(t => t.Completed);
        var last = site.Site.Where(t => t.EndedAt is not null).Select(t => t.EndedAt!.Value).DefaultIfEmpty(site.FirstRequest).Max();
        var allUp = last - site.FirstRequest;
        var steps = site.Site.Sum(t => t.Steps);
        var durations = Percentiles.Of(site.Site.Select(t => t.Duration.TotalMilliseconds).ToList());
        var driver = site.Site.Aggregate(TimeSpan.Zero, (t, x) => t + x.DriverTime);
        sb.Append(CultureInfo.InvariantCulture, $"site: {done}/{settings.Services} takeovers completed, {steps} steps in {settings.Services} Hangfire jobs (a service's {SiteSteps} steps on n3 run as one segment)").AppendLine();
        sb.Append(CultureInfo.InvariantCulture, $"  all up {F(allUp.TotalSeconds)} s after the first request (requests took {F(site.Requesting.TotalSeconds)} s); run p50 {F(durations.P50)} ms, p95 {F(durations.P95)} ms, max {F(durations.Max)} ms").AppendLine();
        sb.Append(CultureInfo.InvariantCulture, $"  steps' own driver time (fake cluster: PostgreSQL reads and writes) {F(driver.TotalMilliseconds / Math.Max(1, steps))} ms/step").AppendLine();
        double Per(double v) => steps > 0 ? v / steps : double.NaN;
        sb.Append(CultureInfo.InvariantCulture, $"  per step: agent CPU {F(Per(site.Cost.AgentCpuMs))} ms, JIT wall {F(Per(site.Cost.AgentJitMs))} ms, requester CPU {F(Per(site.Cost.SubmitterCpuMs))} ms, PostgreSQL CPU {F(Per(site.Cost.PostgresCpuMs))} ms, {F(Per(site.Cost.Transactions))} transactions").AppendLine();
        sb.Append(CultureInfo.InvariantCulture, $"Hangfire alone, same run, same PostgreSQL server, one server of {settings.Workers} workers, no-op jobs enqueued at once:").AppendLine();
        sb.Append(CultureInfo.InvariantCulture, $"  {alone.Jobs} jobs (as many as the engine's segments): all done in {F(alone.JobsSpan.TotalSeconds)} s; {alone.Jobs * SiteSteps} jobs ({alone.Jobs} chains of {SiteSteps}, one job per step): {F(alone.ChainsSpan.TotalSeconds)} s").AppendLine();
        sb.Append(CultureInfo.InvariantCulture, $"  per job: process CPU {F(alone.CpuMsPerJob)} ms, PostgreSQL CPU {F(alone.PostgresCpuMsPerJob)} ms").AppendLine();
        var sameJobs = allUp.TotalSeconds > 0 ? alone.JobsSpan.TotalSeconds / allUp.TotalSeconds : double.NaN;
        var perStep = allUp.TotalSeconds > 0 ? alone.ChainsSpan.TotalSeconds / allUp.TotalSeconds : double.NaN;
        sb.Append(CultureInfo.InvariantCulture, $"  ratio (Hangfire alone's time over the engine's): {F(sameJobs)} for the same {alone.Jobs} jobs, {F(perStep)} against one job per step").AppendLine();
        var warm = Percentiles.Of(site.Warm.Select(t => t.Overhead.TotalMilliseconds).ToList());
        var warmRun = Percentiles.Of(site.Warm.Select(t => t.Duration.TotalMilliseconds).ToList());
        var coldRatio = warm.P50 > 0 ? site.Cold.Overhead.TotalMilliseconds / warm.P50 : double.NaN;
        sb.Append(CultureInfo.InvariantCulture, $"cold: the fresh agent's first takeover {F(site.Cold.Duration.TotalMilliseconds)} ms, of which steps {F(site.Cold.DriverTime.TotalMilliseconds)} ms, engine overhead {F(site.Cold.Overhead.TotalMilliseconds)} ms").AppendLine();
        sb.Append(CultureInfo.InvariantCulture, $"warm: single takeovers (median of {site.Warm.Count}) {F(warmRun.P50)} ms, engine overhead {F(warm.P50)} ms (min {F(site.Warm.Min(t => t.Overhead.TotalMilliseconds))}, max {F(warm.Max)}); cold over warm overhead {F(coldRatio)}x").AppendLine();
        static string Met(bool ok) => ok ? "met" : "NOT met";
        sb.Append(CultureInfo.InvariantCulture,
            $"aims: all up within 5 s: {Met(done == settings.Services && allUp.TotalSeconds <= 5)} ({F(allUp.TotalSeconds)} s); engine >= 90 % of Hangfire alone for its jobs: {Met(sameJobs >= 0.9)} ({F(sameJobs * 100)} %); " +
            $"cold overhead within 2x of warm: {Met(coldRatio <= 2)} ({F(coldRatio)}x)").AppendLine();
        return sb.ToString();
    }

    /// <summary>One run's figures from its events in the store at <paramref name="connection"/> (the demo's takeover on the lab), or null.</summary>
    public static async Task<TakeoverFigures?> RunFiguresAsync(string connection, Guid runId, CancellationToken ct)
    {
        await using var store = DocumentStore.For(o => WorkflowStore.Configure(o, connection));
        await using var query = store.QuerySession();
        var events = await query.Events.FetchStreamAsync(runId, token: ct).ConfigureAwait(false);
        return events.Count == 0 ? null : TakeoverFigures.From(events.Select(e => e.Data).ToList());
    }

    /// <summary>"engine overhead 120ms of 2.9s (4.1 %)": request to the end, less the steps' own driver time.</summary>
    public static string OverheadLine(TakeoverFigures f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var share = f.Duration > TimeSpan.Zero ? f.Overhead / f.Duration * 100 : double.NaN;
        return string.Create(CultureInfo.InvariantCulture,
            $"engine overhead {f.Overhead.TotalMilliseconds:0} ms of {f.Duration.TotalMilliseconds:0} ms ({share:0.0} %): request to the last step's end, less the {f.Steps} steps' own driver time ({f.DriverTime.TotalMilliseconds:0} ms)");
    }

    static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);

    /// <summary>
    /// Plain no-op Hangfire jobs on the DR node's queue, one server with the agent's storage settings and notified queue:
    /// first N jobs enqueued at once (what the engine needs: one segment per service), then N chains of five jobs (one
    /// per step, each enqueuing the next).
    /// </summary>
    public static class SiteFloor
    {
        static readonly System.Reflection.MethodInfo Hop = typeof(SiteFloor).GetMethod(nameof(RunJob))!;
        static IBackgroundJobClient? _client;
        static readonly ConcurrentDictionary<string, DateTime> Ended = new();
        static int _chain;

        public sealed record Figures(int Jobs, TimeSpan JobsSpan, TimeSpan ChainsSpan, double CpuMsPerJob, double PostgresCpuMsPerJob);

        /// <summary>The job. Public and static so Hangfire invokes it without an activator.</summary>
        [AutomaticRetry(Attempts = 0)]
        public static void RunJob(string name, int step)
        {
            if (step + 1 < _chain)
                Enqueue(name, step + 1);
            else
                Ended[name] = DateTime.UtcNow;
        }

        static void Enqueue(string name, int step) =>
            _client!.Create(new Hangfire.Common.Job(typeof(SiteFloor), Hop, [name, step], "node_n3"), new EnqueuedState("node_n3"));

        public static async Task<Figures> RunAsync(string connection, int jobs, int workers, Func<double> postgresCpuMs, CancellationToken ct)
        {
            var hangfireConnection = EngineServices.HangfireConnectionString(connection);
            var options = EngineServices.HangfireStorageOptions(new EngineOptions(connection, new NodeName("floor")) { RunAgent = true });
            var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(hangfireConnection, options), options);
            using var queues = new NotifiedJobQueueProvider(storage, hangfireConnection, options, TimeSpan.FromSeconds(5), NullLogger.Instance);
            NotifiedJobQueueProvider.InstallTrigger(hangfireConnection, options.SchemaName);
            storage.QueueProviders.Add(queues, ["node_n3"]);
            _client = new BackgroundJobClient(storage);
            using var server = new BackgroundJobServer(
                new BackgroundJobServerOptions { Queues = ["node_n3"], WorkerCount = workers, ServerName = "site-floor", Activator = new JobActivator() }, storage);
            await BatchAsync("warm", jobs, SiteSteps, ct).ConfigureAwait(false);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
            var pg = postgresCpuMs();
            var single = await BatchAsync("job", jobs, 1, ct).ConfigureAwait(false);
            var chains = await BatchAsync("chain", jobs, SiteSteps, ct).ConfigureAwait(false);
            var all = jobs * (1 + SiteSteps);
            var figures = new Figures(jobs, single, chains, (Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - cpu) / all, (postgresCpuMs() - pg) / all);
            server.SendStop();
            return figures;
        }

        static async Task<TimeSpan> BatchAsync(string prefix, int count, int chain, CancellationToken ct)
        {
            _chain = chain;
            var names = Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").ToList();
            var started = DateTime.UtcNow;
            foreach (var name in names)
                Enqueue(name, 0);
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(60 + count);
            while (!names.All(Ended.ContainsKey))
            {
                if (DateTime.UtcNow > until)
                    throw new UserError($"Hangfire alone: {names.Count(n => !Ended.ContainsKey(n))} of {count} {prefix} jobs not done in time", ExitCodes.Failed);
                await Task.Delay(2, ct).ConfigureAwait(false);
            }
            return names.Max(n => Ended[n]) - started;
        }
    }
}
