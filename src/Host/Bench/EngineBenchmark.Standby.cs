using System.Diagnostics;
using System.Globalization;
using Npgsql;
using OpenSvc.Host.Cli;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Infrastructure.Postgres;

namespace OpenSvc.Host.Bench;

/// <summary>
/// `opensvc bench engine --standby`: what the control plane's replication costs. A primary and a hot standby on this
/// machine (the product's own `opensvc db` machinery: slot, base backup, streaming), then the same phase three times,
/// each on a fresh database of the primary: standby synchronous (a commit waits until the standby has flushed it),
/// asynchronous (it does not), and absent (the standby stopped). Each phase measures single-statement commit latency
/// (the agents' event appends commit like this) and then the engine's workflows, figures read from the event store.
/// </summary>
public static partial class EngineBenchmark
{
    /// <summary>Commits measured per phase for the commit latency figure.</summary>
    const int CommitSamples = 400;

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
            var phase = new Phase(settings, agents, output, () => double.NaN);
            var results = new List<(string Name, EngineFigures Figures, Percentiles Commit)>();
            foreach (var (name, mode) in new[] { ("standby synchronous", DbNodeConfig.Sync), ("standby asynchronous", DbNodeConfig.Async), ("standby absent", "") })
            {
                if (mode.Length > 0)
                    await primary.SetModeAsync(mode, deadline.Token).ConfigureAwait(false);
                else
                {
                    await primary.SetModeAsync(DbNodeConfig.Async, deadline.Token).ConfigureAwait(false);
                    await standby.StopAsync(deadline.Token).ConfigureAwait(false);
                }
                var db = await CreateDatabaseAsync(admin, $"bench_{name.Replace(' ', '_')}", deadline.Token).ConfigureAwait(false);
                var commit = await CommitLatencyAsync(db, CommitSamples, deadline.Token).ConfigureAwait(false);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {CommitSamples} single-row commits, p50 {commit.P50:0.00} ms, p99 {commit.P99:0.00} ms"));
                results.Add((name, await phase.RunAsync(name, db, settings.Workflows, QueueWakeup.Notified, deadline.Token).ConfigureAwait(false), commit));
            }
            output.WriteLine();
            output.Write(EngineReport.Table(results[0].Name, results[0].Figures, [.. results.Skip(1).Select(r => (r.Name, r.Figures))], settings.Steps));
            foreach (var r in results)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"commit latency, {r.Name,-21}: p50 {r.Commit.P50,6:0.00} ms  p95 {r.Commit.P95,6:0.00} ms  p99 {r.Commit.P99,6:0.00} ms  max {r.Commit.Max,6:0.00} ms"));
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

    /// <summary>Single-row INSERT commits one after the other (synchronous_commit on, as the event appends): wall time of each.</summary>
    static async Task<Percentiles> CommitLatencyAsync(string connection, int samples, CancellationToken ct)
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
        return Percentiles.Of(times);
    }
}
