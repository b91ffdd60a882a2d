using FluentAssertions;
using Marten;
using MediatR;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Agent;
using OpenSvc.Infrastructure.Drivers.Fake;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Reports;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using Xunit;

namespace OpenSvc.Tests.Engine;

/// <summary>
/// The drill lifecycle on the fake cluster, through the same requests the API serves: three agents (n1, n2 primary, n3 DR)
/// on real PostgreSQL and Hangfire. Production's resources and the drill's are separate states of the fake cluster, so a
/// drill that touched production would show.
/// </summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class DrillTests : IAsyncLifetime
{
    readonly List<WebApplication> _agents = [];
    string _connection = "";
    static readonly NodeName N1 = new("n1");
    static readonly NodeName N3 = new("n3");

    /// <summary>The seed's failover service, with a disk of its own for the DR node (as the lab gives it).</summary>
    static readonly string Config = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "failover-docker-btrfs.conf"))
        .Replace("  dev@nodes = /dev/mapper/svc1.d0\n", "  dev@nodes = /dev/mapper/svc1.d0\n  dev@drpnodes = /dev/mapper/svc1.dr\n", StringComparison.Ordinal);

    IServiceProvider Services => _agents[0].Services;
    IMediator Mediator => Services.GetRequiredService<IMediator>();
    IDocumentStore Store => Services.GetRequiredService<IDocumentStore>();

    public async Task InitializeAsync()
    {
        _connection = await PostgresServer.NewDatabaseAsync("drill");
        foreach (var node in new[] { "n1", "n2", "n3" })
        {
            var app = AgentHost.Build(new AgentSettings(new NodeName(node), "127.0.0.1:0", _connection, FakeCluster: true, Workers: 2, QueuePoll: SharedProcess.QueuePoll), _connection);
            if (_agents.Count == 0)
                await app.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            await app.StartAsync();
            _agents.Add(app);
        }
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using (var query = Store.QuerySession())
                if ((await query.Query<Workflows.Agents.AgentHeartbeat>().ToListAsync()).Count >= 3)
                    break;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("agents n1..n3 did not heartbeat");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var app in _agents)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    async Task<WorkflowRun> RunAsync(ActionRequest request)
    {
        var result = await Mediator.Send(new RequestAction(request));
        result.Should().BeOfType<ActionAccepted>((result as ActionRefused)?.Refusal);
        return await WaitAsync(result.RunId());
    }

    async Task<WorkflowRun> WaitAsync(Guid id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            await using (var query = Store.QuerySession())
                if (await query.LoadAsync<WorkflowRun>(id) is { IsFinished: true } run)
                    return run;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"run {id} did not end");
            await Task.Delay(100);
        }
    }

    static ActionRequest Ask(string service, ServiceAction action, NodeName node) => new(service, action, node, "tester");

    /// <summary>Production up on n1 with both copies synced to n3 and its standby filesystems mounted.</summary>
    async Task ProtectedAsync(string service)
    {
        (await Mediator.Send(new ConfigureService(service, Config, "tester", MustExist: false, MustNotExist: true))).Accepted.Should().BeTrue();
        (await RunAsync(Ask(service, ServiceAction.Start, N1))).Status.Should().Be(RunStatus.Completed);
        await WaitForAvailAsync(service, N1, Status.Up);
        (await RunAsync(Ask(service, ServiceAction.Sync, N1))).Status.Should().Be(RunStatus.Completed);
        (await RunAsync(Ask(service, ServiceAction.StartStandby, N3))).Status.Should().Be(RunStatus.Completed);
    }

    async Task WaitForAvailAsync(string service, NodeName node, Status avail)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            await using (var query = Store.QuerySession())
                if ((await query.LoadAsync<Workflows.Monitoring.InstanceStatusReport>(Workflows.Monitoring.InstanceStatusReport.Key(service, node.Value)))?.Avail == avail)
                    return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{service} on {node} never reported {avail}");
            await Task.Delay(200);
        }
    }

    async Task<string?> Drill(string rid) => await FakeCluster.StateAsync(Store, "n3", FakeCluster.DrillRid(rid));

    [Fact]
    public async Task a_drill_starts_the_dr_copy_in_isolation_measures_rto_and_rpo_and_cleanup_removes_it()
    {
        await ProtectedAsync("svc-drill");

        var drill = await RunAsync(Ask("svc-drill", ServiceAction.Drill, N3) with { Reason = "quarterly DR exercise" });

        drill.Status.Should().Be(RunStatus.Completed, drill.Outcome);
        drill.Steps.Select(s => $"{ActionWords.Of(s.Step.Action)} {s.Step.Rid}").Should().Equal(
            "drill-start sync#0", "drill-start sync#1", "drill-start fs#0", "drill-start fs#1",
            "drill-start container#0", "drill-start ip#0", "drill-start container#1", "drill-check container#0");
        foreach (var rid in new[] { "sync#0", "sync#1", "fs#0", "fs#1", "container#0", "ip#0", "container#1" })
            (await Drill(rid)).Should().Be("up", $"the drill's {rid} runs on n3");
        (await FakeCluster.StateAsync(Store, "n3", "container#0")).Should().NotBe("up", "production's container never starts on n3 in a drill");
        (await FakeCluster.StateAsync(Store, "n1", "container#0")).Should().Be("up", "production keeps running on n1");
        var effects = await FakeCluster.EffectsAsync(Store, drill.Id);
        effects.Should().OnlyContain(e => e.Node == "n3" && e.Rid.EndsWith("@drill", StringComparison.Ordinal));

        // RTO: request → every drill resource up; RPO: the age of each copy cloned, from the sync to n3.
        var m = drill.Recovery!;
        m.Node.Should().Be(N3);
        m.Rto.Should().BePositive().And.Be(drill.Steps[6].EndedAt!.Value - drill.RequestedAt);
        m.Downtime.Should().BeNull("production never went down");
        m.DataAges.Select(d => d.Rid).Should().Equal("sync#0", "sync#1");
        m.DataAges.Should().OnlyContain(d => d.Age > TimeSpan.Zero && d.LastSyncRun != null);
        var row = (await Mediator.Send(new GetRecoveryReport("svc-drill", null))).Should().ContainSingle().Subject;
        row.Kind.Should().Be("drill");
        row.Result.Should().Be("completed");
        row.Rpo.Should().Be(m.Rpo);

        // Readiness: the drill proves the current config; the images were checked by the last image sync.
        var ready = (await Mediator.Send(new Workflows.Monitoring.GetReadiness("svc-drill", N3)))!;
        ready.Checks.Should().Contain(c => c.Check == "drill" && c.Level == Workflows.Monitoring.CheckLevel.Ok && c.Sentence.Contains("with the current config"))
            .And.Contain(c => c.Check == "images" && c.Level == Workflows.Monitoring.CheckLevel.Ok);
        var metrics = Workflows.Monitoring.PrometheusText.Write(await Mediator.Send(new Workflows.Monitoring.GetMetrics()));
        metrics.Should().MatchRegex(@"opensvc_drill_last_success_age_seconds\{service=""svc-drill"",node=""n3""\} [0-9.]+\n");

        // During the drill production syncs as usual (the drill run has ended; the drill stays up).
        (await RunAsync(Ask("svc-drill", ServiceAction.Sync, N1))).Status.Should().Be(RunStatus.Completed);
        (await Mediator.Send(new CleanUpDrills("svc-drill"))).Should().BeEmpty("a drill without --keep stays until drill-cleanup");

        var cleanup = await RunAsync(Ask("svc-drill", ServiceAction.DrillCleanup, N3));

        cleanup.Status.Should().Be(RunStatus.Completed, cleanup.Outcome);
        foreach (var rid in new[] { "sync#0", "sync#1", "fs#0", "fs#1", "container#0", "ip#0", "container#1" })
            (await Drill(rid)).Should().Be("down");
        (await FakeCluster.StateAsync(Store, "n1", "container#0")).Should().Be("up");
        (await RunAsync(Ask("svc-drill", ServiceAction.DrillCleanup, N3))).Steps.Should().OnlyContain(s => !s.Changed, "cleanup again finds nothing");

        // A config change since the drill: the drill proves an older service.
        var changed = Config.Replace("  drpnodes = n3\n", "  drpnodes = n3\n  sync_max_delay = 30\n", StringComparison.Ordinal);
        (await Mediator.Send(new ConfigureService("svc-drill", changed, "tester", MustExist: true, MustNotExist: false))).Accepted.Should().BeTrue();
        (await Mediator.Send(new Workflows.Monitoring.GetReadiness("svc-drill", N3)))!.Checks
            .Should().Contain(c => c.Check == "drill" && c.Level == Workflows.Monitoring.CheckLevel.Warn && c.Sentence.Contains("needs a new drill"));
    }

    [Fact]
    public async Task a_drill_kept_for_a_while_is_cleaned_up_on_its_own()
    {
        await ProtectedAsync("svc-keep");

        var drill = await RunAsync(Ask("svc-keep", ServiceAction.Drill, N3) with { Keep = TimeSpan.FromSeconds(2) });
        drill.Status.Should().Be(RunStatus.Completed, drill.Outcome);
        drill.Plan.Keep.Should().Be(TimeSpan.FromSeconds(2));

        // The delayed job (at request + keep) requests the cleanup; the reconciler's pass would, too.
        var cleanup = await WaitForCleanupAsync("svc-keep", drill.RequestedAt);
        cleanup.RequestedBy.Should().Be(CleanUpDrills.Requester);
        cleanup.Reason.Should().Contain("--keep");
        (await Drill("container#0")).Should().Be("down");
    }

    [Fact]
    public async Task a_drill_left_half_done_is_cleaned_up_by_the_reconciler()
    {
        await ProtectedAsync("svc-half");
        // The last drill-start fails for good, and the rollback of container#0 fails too: drill resources stay up.
        await FakeCluster.InjectAsync(Store, "n3", "container#1", ResourceAction.DrillStart, "fail", times: 10);
        await FakeCluster.InjectAsync(Store, "n3", "container#0", ResourceAction.DrillStop, "fail", times: 3);

        var drill = await RunAsync(Ask("svc-half", ServiceAction.Drill, N3));

        drill.Status.Should().Be(RunStatus.Failed);
        drill.Outcome.Should().Contain("rollback incomplete");
        (await Drill("container#0")).Should().Be("up");
        Drills.LeftUp(drill).Should().Contain("container#0");

        var started = await Mediator.Send(new CleanUpDrills("svc-half"));

        var cleanup = await WaitAsync(started.Should().ContainSingle().Subject);
        cleanup.Status.Should().Be(RunStatus.Completed, cleanup.Outcome);
        cleanup.RequestedBy.Should().Be(CleanUpDrills.Requester);
        cleanup.Reason.Should().Contain("ended failed");
        (await Drill("container#0")).Should().Be("down");
        (await Drill("fs#1")).Should().Be("down");
        (await Mediator.Send(new CleanUpDrills("svc-half"))).Should().BeEmpty("the drill is cleaned up");
    }

    async Task<WorkflowRun> WaitForCleanupAsync(string service, DateTimeOffset after)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using (var query = Store.QuerySession())
            {
                var runs = await query.Query<WorkflowRun>().Where(r => r.Service == service && r.Action == ServiceAction.DrillCleanup).ToListAsync();
                if (runs.FirstOrDefault(r => r.RequestedAt > after && r.Status == RunStatus.Completed) is { } done)
                    return done;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no drill-cleanup of {service} completed");
            await Task.Delay(200);
        }
    }
}
