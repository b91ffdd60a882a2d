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
/// The engine for real (Marten, Hangfire on PostgreSQL with long polling, MediatR) with one agent host per
/// node in this process, all driving the fake cluster. A client host without a Hangfire server submits.
/// </summary>
public sealed class InProcessCluster : IAsyncDisposable
{
    readonly List<IHost> _agents = [];
    IHost _client = null!;

    public string ConnectionString { get; private init; } = "";
    public IServiceProvider Client => _client.Services;
    public IDocumentStore Store => Client.GetRequiredService<IDocumentStore>();
    public IMediator Mediator => Client.GetRequiredService<IMediator>();

    public static async Task<InProcessCluster> StartAsync(string name, params string[] nodes)
    {
        var cs = await PostgresServer.NewDatabaseAsync(name);
        var cluster = new InProcessCluster { ConnectionString = cs };
        cluster._client = Build(cs, new NodeName("client"), agent: false);
        await cluster._client.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await cluster._client.StartAsync();
        foreach (var n in nodes)
        {
            var host = Build(cs, new NodeName(n), agent: true);
            await host.StartAsync();
            cluster._agents.Add(host);
        }
        return cluster;
    }

    static IHost Build(string cs, NodeName node, bool agent)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddOpenSvcEngine(new EngineOptions(cs, node)
        {
            RunAgent = agent,
            FakeCluster = true,
            HeartbeatEvery = TimeSpan.FromMilliseconds(500),
            ReconcileEvery = TimeSpan.FromSeconds(1),
            ScheduledGrace = TimeSpan.FromSeconds(3),
            AgentDeadAfter = TimeSpan.FromSeconds(3),
        });
        return builder.Build();
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
                    string.Join(", ", run?.Steps.Select(s => $"{s.Step.Index + 1}:{s.Status}") ?? []));
            await Task.Delay(50);
        }
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
