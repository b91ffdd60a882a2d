using System.Diagnostics;
using System.Globalization;
using Npgsql;
using OpenSvc.Host.Cli;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Infrastructure.Postgres;

namespace OpenSvc.Host.Bench;

/// <summary>
/// `opensvc bench engine --standby`: what the control plane's replication costs. A primary and a hot standby on this
/// machine (the product's own `opensvc db` machinery: slot, base backup, streaming); single-statement commit latency
/// (the agents' event appends commit like this) in rounds alternating the standby absent (its server stopped),
/// synchronous (a commit waits until the standby has flushed it) and asynchronous (it does not); then the engine's
/// workflows once per mode (after an uncompared phase that warms this process), each on a fresh database of the
/// primary, figures read from the event store and given as ratios to the standby absent.
/// </summary>
public static partial class EngineBenchmark
{
    /// <summary>Commits measured per mode for the commit latency figure, in <see cref="CommitRounds"/> rounds.</summary>
    const int CommitSamples = 600;

    const int CommitRounds = 3;

    const string Absent = "";

    /// <summary>The modes measured, the baseline (no standby) first.</summary>
    static readonly (string Name, string Mode)[] Modes = [("standby absent", Absent), ("standby synchronous", DbNodeConfig.Sync), ("standby asynchronous", DbNodeConfig.Async)];

    static async Task<int> RunStandbyModesAsync(EngineBenchmarkSettings settings, TextWriter output, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(settings.Timeout);
        await using var agents = new AgentChildren();
        var home = Path.Combine(Path.GetTempPath(), $"opensvc-bench-standby-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101);
        var primary = new ReplicatedPostgres(Path.Combine(home, "a"));
        var standby = new ReplicatedPostgres(Path.Combine(home, "b"));
        try
        {
            var (portA, portB) = (FreeLoopbackPort(), FreeLoopbackPort());
            var init = Stopwatch.StartNew();
            var agentCs = await primary.InitPrimaryAsync(new DbNodeConfig("a", DbNodeConfig.PrimaryRole, "127.0.0.1", portA, ["127.0.0.0/8"],
                [new DbPeer("b", "127.0.0.1", portB)], DbNodeConfig.Sync), deadline.Token).ConfigureAwait(false);
            var password = new NpgsqlConnectionStringBuilder(agentCs).Password!;
            await standby.InitStandbyAsync(new DbNodeConfig("b", DbNodeConfig.StandbyRole, "127.0.0.1", portB, ["127.0.0.0/8"],
                [new DbPeer("a", "127.0.0.1", portA)], DbNodeConfig.Sync), password, deadline.Token).ConfigureAwait(false);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"opensvc bench engine --standby: primary 127.0.0.1:{portA} and hot standby 127.0.0.1:{portB} (slot, base backup, streaming) ready in {init.Elapsed.TotalSeconds:0.0} s in {home}; " +
                $"{settings.Workflows} workflows of {settings.Steps} no-op steps per phase after {settings.Warmup} warm-up workflows{(settings.WarmupSeconds > 0 ? $" and {settings.WarmupSeconds} s more" : "")}, " +
                $"{settings.Agents} agents x {settings.Workers} workers, {(settings.Sequential ? "one workflow at a time" : $"{settings.Parallel} submissions in flight")}, " +
                $"{Environment.ProcessorCount} CPUs, load average {LoadAverage()}"));
            output.WriteLine("the standby is on this machine: a real DR site adds its network round trip to every synchronous commit");

            var admin = new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1", Port = portA, Username = "opensvc", Password = password, Database = "postgres", Pooling = false, Timeout = 10,
            }.ConnectionString;
            var primaryNode = new DbPeer("a", "127.0.0.1", portA);

            // The standby in one mode: absent is its server stopped (and the primary asynchronous, or no commit would end);
            // present, it is started again if needed and streams before anything is measured.
            async Task StandbyAsync(string mode)
            {
                if (mode == Absent)
                {
                    await primary.SetModeAsync(DbNodeConfig.Async, deadline.Token).ConfigureAwait(false);
                    await standby.StopAsync(deadline.Token).ConfigureAwait(false);
                    return;
                }
                await standby.StartAsync(deadline.Token).ConfigureAwait(false);
                var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (!(await ReplicatedPostgres.ProbeAsync(primaryNode, password, deadline.Token).ConfigureAwait(false)).Standbys.Any(s => s.State == "streaming"))
                {
                    if (DateTime.UtcNow > until)
                        throw new UserError($"the standby does not stream again within 60 s: see {Path.Combine(standby.Home, "postgres.log")}", ExitCodes.Failed);
                    await Task.Delay(200, deadline.Token).ConfigureAwait(false);
                }
                await primary.SetModeAsync(mode, deadline.Token).ConfigureAwait(false);
            }

            // Commit latency in rounds that alternate the modes, a load change on a shared machine hitting the three alike;
            // each round starts with the next mode, and each batch waits for the disk writes of the standby's stop or
            // start to settle (both servers share this machine's disk), so no mode always comes right after one.
            var commitDb = await CreateDatabaseAsync(admin, "bench_commit", deadline.Token).ConfigureAwait(false);
            var times = Modes.ToDictionary(m => m.Mode, _ => new List<double>());
            for (var round = 0; round < CommitRounds; round++)
                for (var i = 0; i < Modes.Length; i++)
                {
                    var mode = Modes[(round + i) % Modes.Length].Mode;
                    await StandbyAsync(mode).ConfigureAwait(false);
                    await Task.Delay(TimeSpan.FromSeconds(3), deadline.Token).ConfigureAwait(false);
                    times[mode].AddRange(await CommitTimesAsync(commitDb, CommitSamples / CommitRounds, deadline.Token).ConfigureAwait(false));
                }
            var commits = Modes.ToDictionary(m => m.Mode, m => Percentiles.Of(times[m.Mode]));
            foreach (var (name, mode) in Modes)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {times[mode].Count} single-row commits in {CommitRounds} rounds, p50 {commits[mode].P50:0.00} ms, p99 {commits[mode].P99:0.00} ms"));

            // The engine's workflows, one phase per mode, each on a fresh database. The first phase of this process runs
            // with its own code cold (its submitter CPU per step was 3-4 times the later phases'), so a phase with the
            // standby absent comes first and is not compared; the baseline is the standby absent again, last.
            var phase = new Phase(settings, agents, output, () => double.NaN);
            var results = new List<(string Name, EngineFigures Figures, Percentiles Commit)>();
            (string Name, string Mode)[] order = [("warm-up, standby absent", Absent), Modes[1], Modes[2], Modes[0]];
            for (var i = 0; i < order.Length; i++)
            {
                var (name, mode) = order[i];
                await StandbyAsync(mode).ConfigureAwait(false);
                var db = await CreateDatabaseAsync(admin, $"bench_phase_{i}", deadline.Token).ConfigureAwait(false);
                var figures = await phase.RunAsync(name, db, settings.Workflows, QueueWakeup.Notified, deadline.Token).ConfigureAwait(false);
                if (i == 0)
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {figures.WorkflowsPerSecond:0.0} workflows/s (this process's first phase: not compared)"));
                else
                    results.Add((name, figures, commits[mode]));
            }
            var absent = results[^1];
            output.WriteLine();
            output.Write(EngineReport.Table(absent.Name, absent.Figures, [.. results.SkipLast(1).Select(r => (r.Name, r.Figures))], settings.Steps));
            foreach (var r in results.TakeLast(1).Concat(results.SkipLast(1)))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"commit latency, {r.Name,-21}: p50 {r.Commit.P50,6:0.00} ms ({r.Commit.P50 / absent.Commit.P50,4:0.00}x)  p95 {r.Commit.P95,6:0.00} ms  p99 {r.Commit.P99,6:0.00} ms ({r.Commit.P99 / absent.Commit.P99,4:0.00}x)  max {r.Commit.Max,6:0.00} ms"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"engine throughput against the standby absent: synchronous {results[0].Figures.WorkflowsPerSecond / absent.Figures.WorkflowsPerSecond:0.00}x, asynchronous {results[1].Figures.WorkflowsPerSecond / absent.Figures.WorkflowsPerSecond:0.00}x"));
            output.WriteLine($"load average at the end: {LoadAverage()}");
            return results.All(r => r.Figures.Completed == r.Figures.Runs) ? ExitCodes.Ok : ExitCodes.Failed;
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new UserError($"the benchmark did not finish within --timeout {settings.Timeout.TotalSeconds:0} s", ExitCodes.Failed);
        }
        catch (Exception ex) when (ex is ReplicationException or EmbeddedPostgresException)
        {
            throw new UserError(ex.Message, ExitCodes.Failed);
        }
        finally
        {
            await agents.DisposeAsync().ConfigureAwait(false);
            foreach (var node in new[] { standby, primary })
            {
                try
                {
                    if (node.IsConfigured)
                        await node.StopAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ReplicationException or EmbeddedPostgresException)
                {
                    output.WriteLine($"could not stop the benchmark's database in {node.Home}: {ex.Message}");
                }
            }
            try { Directory.Delete(home, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    static async Task<string> CreateDatabaseAsync(string admin, string name, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync(ct).ConfigureAwait(false);
        await using (var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn))
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        return new NpgsqlConnectionStringBuilder(admin) { Database = name, Pooling = true, MaxPoolSize = 100 }.ConnectionString;
    }

    /// <summary>Single-row INSERT commits one after the other (synchronous_commit on, as the event appends): wall time of each, after 20 not counted.</summary>
    static async Task<List<double>> CommitTimesAsync(string connection, int samples, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync(ct).ConfigureAwait(false);
        await using (var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS bench_commit (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(), payload text)", conn))
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        await using var insert = new NpgsqlCommand("INSERT INTO bench_commit (payload) VALUES (@p)", conn);
        insert.Parameters.AddWithValue("p", new string('x', 200));
        await insert.PrepareAsync(ct).ConfigureAwait(false);
        var times = new List<double>(samples);
        for (var i = 0; i < samples + 20; i++)
        {
            var sw = Stopwatch.StartNew();
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            if (i >= 20)
                times.Add(sw.Elapsed.TotalMilliseconds);
        }
        return times;
    }
}
