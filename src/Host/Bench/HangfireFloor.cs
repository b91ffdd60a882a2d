using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.States;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OpenSvc.Infrastructure.Engine;

namespace OpenSvc.Host.Bench;

/// <summary>
/// What Hangfire.PostgreSql alone does on this machine: chains of no-op jobs shaped like the benchmark's
/// workflows (job k+1 enqueued by job k on the other node's queue), on two Hangfire servers of this process with
/// the agents' storage settings and notified queues, and no Marten, MediatR or step logic at all. One Hangfire
/// job per step is the engine's design, so this is the ceiling the engine's workflows/s can approach.
/// </summary>
public static class HangfireFloor
{
    static readonly System.Reflection.MethodInfo Hop = typeof(HangfireFloor).GetMethod(nameof(RunHop))!;
    static IBackgroundJobClient? _client;
    static readonly ConcurrentBag<double> Dispatch = [];
    static readonly ConcurrentDictionary<string, DateTime> Ended = new();
    static int _steps;

    public sealed record Figures(int Chains, int Completed, int Jobs, Percentiles Dispatch, TimeSpan Span, double CpuMs, double PostgresCpuMs, double Transactions)
    {
        public double ChainsPerSecond => Span > TimeSpan.Zero ? Completed / Span.TotalSeconds : double.NaN;
        public double PerJob(double total) => Jobs > 0 && !double.IsNaN(total) ? total / Jobs : double.NaN;
    }

    /// <summary>The job: a hop of a chain. Public and static so Hangfire invokes it without an activator.</summary>
    [AutomaticRetry(Attempts = 0)]
    public static void RunHop(string chain, int step, long enqueuedTicks)
    {
        Dispatch.Add((DateTime.UtcNow - new DateTime(enqueuedTicks, DateTimeKind.Utc)).TotalMilliseconds);
        if (step + 1 < _steps)
            Enqueue(chain, step + 1);
        else
            Ended[chain] = DateTime.UtcNow;
    }

    static void Enqueue(string chain, int step)
    {
        var queue = QueueOf(step);
        _client!.Create(new Hangfire.Common.Job(typeof(HangfireFloor), Hop, [chain, step, DateTime.UtcNow.Ticks], queue), new EnqueuedState(queue));
    }

    static string QueueOf(int step) => step % 2 == 0 ? "node_n1" : "node_n2";

    public static async Task<Figures> RunAsync(string connection, int chains, int steps, int workers, int parallel, int warmup,
        Func<double> postgresCpuMs, Func<string, CancellationToken, Task<double>> transactions, CancellationToken ct)
    {
        _steps = steps;
        var hangfireConnection = EngineServices.HangfireConnectionString(connection);
        var options = EngineServices.HangfireStorageOptions(new EngineOptions(connection, new OpenSvc.Domain.NodeName("floor")) { RunAgent = true });
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(hangfireConnection, options), options);
        using var queues = new NotifiedJobQueueProvider(storage, hangfireConnection, options, TimeSpan.FromSeconds(5), NullLogger.Instance);
        NotifiedJobQueueProvider.InstallTrigger(hangfireConnection, options.SchemaName);
        storage.QueueProviders.Add(queues, ["node_n1", "node_n2"]);
        _client = new BackgroundJobClient(storage);
        // Their own activator: the static one belongs to whichever container configured Hangfire last (see EngineServices).
        var activator = new JobActivator();
        using var n1 = new BackgroundJobServer(new BackgroundJobServerOptions { Queues = ["node_n1"], WorkerCount = workers, ServerName = "floor-n1", Activator = activator }, storage);
        using var n2 = new BackgroundJobServer(new BackgroundJobServerOptions { Queues = ["node_n2"], WorkerCount = workers, ServerName = "floor-n2", Activator = activator }, storage);

        await RunChainsAsync("warmup", warmup, parallel, ct).ConfigureAwait(false);
        Dispatch.Clear();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds;
        var pg = postgresCpuMs();
        var tx = await transactions(connection, ct).ConfigureAwait(false);
        var started = DateTime.UtcNow;
        var last = await RunChainsAsync("chain", chains, parallel, ct).ConfigureAwait(false);
        var figures = new Figures(chains, last.Completed, Dispatch.Count, Percentiles.Of([.. Dispatch]), last.At - started,
            Process.GetCurrentProcess().TotalProcessorTime.TotalMilliseconds - cpu, postgresCpuMs() - pg, double.NaN);
        n1.SendStop();
        n2.SendStop();
        n1.Dispose();
        n2.Dispose();
        return figures with { Transactions = await transactions(connection, ct).ConfigureAwait(false) - tx };
    }

    static async Task<(int Completed, DateTime At)> RunChainsAsync(string prefix, int count, int parallel, CancellationToken ct)
    {
        var names = Enumerable.Range(0, count).Select(i => $"{prefix}-{i}").ToList();
        var before = Ended.Count;
        var submitted = 0;
        foreach (var name in names)
        {
            // At most `parallel` chains in flight, as the engine phases submit.
            while (submitted - (Ended.Count - before) >= parallel)
                await Task.Delay(1, ct).ConfigureAwait(false);
            Enqueue(name, 0);
            submitted++;
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60 + count);
        while (Ended.Count - before < count && DateTime.UtcNow < deadline)
            await Task.Delay(5, ct).ConfigureAwait(false);
        var ended = names.Where(Ended.ContainsKey).ToList();
        return (ended.Count, ended.Count == 0 ? DateTime.UtcNow : ended.Max(n => Ended[n]));
    }

    public static string Report(Figures f, EngineFigures engine, int steps)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(engine);
        static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(v >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Hangfire alone (no-op jobs chained {steps} at a time like the steps, two servers of the benchmark's process, notified queues, no Marten):").AppendLine();
        sb.Append(CultureInfo.InvariantCulture, $"  chains completed {f.Completed}/{f.Chains}, {f.Jobs} jobs, hop p50 {F(f.Dispatch.P50)} ms, p99 {F(f.Dispatch.P99)} ms, {F(f.ChainsPerSecond)} chains/s").AppendLine();
        sb.Append(CultureInfo.InvariantCulture, $"  per job: process CPU {F(f.PerJob(f.CpuMs))} ms (servers and client), PostgreSQL CPU {F(f.PerJob(f.PostgresCpuMs))} ms, {F(f.PerJob(f.Transactions))} transactions").AppendLine();
        var ratio = f.ChainsPerSecond > 0 ? engine.WorkflowsPerSecond / f.ChainsPerSecond : double.NaN;
        sb.Append(CultureInfo.InvariantCulture, $"  the engine's workflows/s are {F(ratio * 100)} % of Hangfire's chains/s on this machine in this run").AppendLine();
        return sb.ToString();
    }
}
