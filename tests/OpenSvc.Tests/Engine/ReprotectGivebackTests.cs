using FluentAssertions;
using Hangfire;
using Marten;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Drivers.Fake;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Engine;

/// <summary>
/// The way back from a takeover on the fake cluster, through the same requests the CLI and API send: reprotect reverses
/// the protection (recorded on the service), syncs follow it, giveback brings the service home with RPO 0 and restores
/// the normal direction; a giveback whose final send fails leaves the service running where it was.
/// </summary>
public sealed class ReprotectGivebackTests
{
    const string Service = "svc-back";

    /// <summary>A failover service with a DR node: its fs is a standby one there, one container, one sync to the DR node.</summary>
    public const string Config = """
        [DEFAULT]
        nodes = n1
        drpnodes = n3
        [fs#0]
        type = ext4
        dev = /dev/fake0
        mnt = /srv/back
        always_on = drpnodes
        [container#0]
        type = docker
        image = fake/image:1
        [sync#0]
        type = rsync
        src = /srv/back/
        dst = /srv/back
        target = drpnodes
        """;

    static readonly NodeName N1 = new("n1");
    static readonly NodeName N3 = new("n3");

    [Fact]
    public async Task takeover_reprotect_sync_and_giveback_bring_the_service_home_with_rpo_zero()
    {
        await using var cluster = await InProcessCluster.StartAsync("back_lifecycle", "n1", "n3");
        var m = cluster.Mediator;
        (await m.Send(new ConfigureService(Service, Config, "tester", false, true))).Accepted.Should().BeTrue();
        await WaitForAgentsAsync(m);
        await RunAsync(cluster, ServiceAction.Start, N1);
        await WaitForAvailAsync(m, "n1", Status.Up);
        await RunAsync(cluster, ServiceAction.Sync, N1);
        await RunAsync(cluster, ServiceAction.Stop, N1);
        await RunAsync(cluster, ServiceAction.Takeover, N3);
        await WaitForAvailAsync(m, "n3", Status.Up);

        var reprotect = await RunAsync(cluster, ServiceAction.Reprotect, N3);
        reprotect.To.Should().Be(N1);
        reprotect.Steps.Select(s => $"{s.Step.Node} {ActionWords.Step(s.Step)}").Should().Equal("n1 startstandby fs#0", "n3 sync sync#0 to n1");
        var reversed = await ServiceAsync(cluster);
        reversed.Reversal.Should().NotBeNull();
        reversed.Reversal!.Direction.Should().Be("n3 → n1");
        reversed.Reversal.RunId.Should().Be(reprotect.Id);
        reversed.Reversal.By.Should().Be("tester");
        var status = await m.Send(new GetServiceStatus(Service));
        status!.Reversal!.From.Should().Be(N3);
        status.Syncs.Should().ContainSingle().Which.Target.Should().Be("n1", "while reversed, the copy that matters is the primary's");
        await WaitForAvailAsync(m, "n1", Status.StandbyUp); // its receiving fs counts as standby, the instance is not "partly up"

        // A scheduled sync follows the reversed direction; a sync from the primary is refused with the reason.
        var scheduled = await m.Send(new RequestAction(new ActionRequest(Service, ServiceAction.Sync, new NodeName("to-be-chosen"), "scheduler") { ChooseSender = true }));
        scheduled.Should().BeOfType<ActionAccepted>((scheduled as ActionRefused)?.Refusal);
        var sync = await cluster.WaitForEndAsync(scheduled.RunId());
        sync.Node.Should().Be(N3);
        sync.Steps.Should().ContainSingle().Which.Step.Target.Should().Be(N1);
        var wrongWay = await m.Send(new RequestAction(new ActionRequest(Service, ServiceAction.Start, N1, "tester")));
        wrongWay.Should().BeOfType<ActionRefused>().Which.Refusal.Should().Contain("reversed (n3 → n1");

        var giveback = await RunAsync(cluster, ServiceAction.Giveback, N3);
        giveback.Steps.Select(s => $"{s.Step.Node} {ActionWords.Step(s.Step)}").Should().Equal(
            "n1 startstandby fs#0", "n3 stop container#0", "n3 sync sync#0 to n1", "n1 start container#0");
        giveback.Recovery.Should().NotBeNull("a completed giveback records what it achieved");
        giveback.Recovery!.Node.Should().Be(N1);
        giveback.Recovery.Rpo.Should().Be(TimeSpan.Zero, "the final send ran after the service stopped writing");
        giveback.Recovery.DataAges.Should().ContainSingle().Which.LastSyncRun.Should().Be(giveback.Id);
        giveback.Recovery.Rto.Should().BePositive();
        (await ServiceAsync(cluster)).Reversal.Should().BeNull("giveback restores the normal direction");

        (await FakeCluster.StateAsync(cluster.Store, "n1", "container#0")).Should().Be("up");
        (await FakeCluster.StateAsync(cluster.Store, "n3", "container#0")).Should().Be("down");
        (await FakeCluster.StateAsync(cluster.Store, "n3", "fs#0")).Should().Be("up", "the DR node stays standby, its fs mounted");

        // The service stream tells the story in order, with who and which run.
        await using var session = cluster.Store.QuerySession();
        var serviceEvents = (await session.Events.FetchStreamAsync(ServiceActivity.StreamId(Service))).Select(e => e.Data).ToList();
        serviceEvents.OfType<ProtectionReversed>().Should().ContainSingle().Which.RunId.Should().Be(reprotect.Id);
        serviceEvents.OfType<ProtectionRestored>().Should().ContainSingle().Which.Should().Match<ProtectionRestored>(e => e.RunId == giveback.Id && e.Node == N1 && e.From == N3);
        serviceEvents.FindIndex(e => e is ProtectionRestored).Should().BeGreaterThan(serviceEvents.FindIndex(e => e is ProtectionReversed));

        // Normal again: the primary sends to the DR node.
        var after = await RunAsync(cluster, ServiceAction.Sync, N1);
        after.Steps.Should().ContainSingle().Which.Step.Target.Should().Be(N3);
    }

    [Fact]
    public async Task a_giveback_whose_final_send_fails_starts_the_service_again_where_it_ran_and_stays_reversed()
    {
        await using var cluster = await InProcessCluster.StartAsync("back_failed", "n1", "n3");
        var m = cluster.Mediator;
        (await m.Send(new ConfigureService(Service, Config, "tester", false, true))).Accepted.Should().BeTrue();
        await WaitForAgentsAsync(m);
        await RunAsync(cluster, ServiceAction.StartStandby, N3);
        await RunAsync(cluster, ServiceAction.Takeover, N3);
        await WaitForAvailAsync(m, "n3", Status.Up);
        var reprotect = await RunAsync(cluster, ServiceAction.Reprotect, N3);
        await FakeCluster.InjectAsync(cluster.Store, "n3", "sync#0", ResourceAction.Sync, "fail", times: 5);

        var result = await m.Send(new RequestAction(new ActionRequest(Service, ServiceAction.Giveback, N3, "tester")));
        result.Should().BeOfType<ActionAccepted>((result as ActionRefused)?.Refusal);
        var giveback = await cluster.WaitForEndAsync(result.RunId(), TimeSpan.FromSeconds(180)); // a send is retried once, a minute later

        giveback.Status.Should().Be(RunStatus.Failed);
        giveback.Outcome.Should().Contain("sync sync#0 on n3 to n1").And.Contain("rolled back");
        giveback.Steps.Where(s => s.Compensates is not null).Select(s => $"{s.Step.Node} {ActionWords.Step(s.Step)}").Should().Equal("n3 start container#0");
        giveback.Recovery.Should().BeNull();
        (await FakeCluster.StateAsync(cluster.Store, "n3", "container#0")).Should().Be("up", "a failed giveback leaves the service running where it ran");
        (await FakeCluster.StateAsync(cluster.Store, "n1", "container#0")).Should().NotBe("up");
        (await ServiceAsync(cluster)).Reversal!.RunId.Should().Be(reprotect.Id, "the protection stays reversed until a giveback completes");
    }

    static async Task<WorkflowRun> RunAsync(InProcessCluster cluster, ServiceAction action, NodeName node)
    {
        var result = await cluster.Mediator.Send(new RequestAction(new ActionRequest(Service, action, node, "tester")));
        result.Should().BeOfType<ActionAccepted>($"{ActionWords.Of(action)} on {node}: {(result as ActionRefused)?.Refusal}");
        var run = await cluster.WaitForEndAsync(result.RunId());
        run.Status.Should().Be(RunStatus.Completed, $"{ActionWords.Of(action)} on {node}: {run.Outcome}");
        return run;
    }

    static async Task<ServiceActivity> ServiceAsync(InProcessCluster cluster)
    {
        await using var session = cluster.Store.QuerySession();
        return (await session.LoadAsync<ServiceActivity>(ServiceActivity.StreamId(Service)))!;
    }

    /// <summary>Until both nodes' agents heartbeat (the planner refuses steps on a silent node).</summary>
    internal static async Task WaitForAgentsAsync(IMediator m)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await m.Send(new GetServiceStatus(Service)))?.Instances is not { Count: 2 } instances || !instances.All(i => i.Reachable && i.Report is not null))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("the agents of n1 and n3 did not heartbeat and report in time");
            await Task.Delay(100);
        }
    }

    internal static async Task WaitForAvailAsync(IMediator m, string node, Status avail)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await m.Send(new GetServiceStatus(Service)))?.Instances.FirstOrDefault(i => i.Node == node)?.Report?.Avail != avail)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{Service} on {node} never reported {avail}");
            await Task.Delay(100);
        }
    }
}

/// <summary>
/// Reprotect and giveback survive their agent being killed (SIGKILL) at every step boundary: real agent processes on the
/// fake cluster, the run converges, each step's effect happens once, and the service records the change of direction once.
/// The setup runs with the fault disarmed (its marker file already there); deleting the marker arms it for the run under test.
/// </summary>
public sealed class ReprotectGivebackDurabilityTests(ITestOutputHelper output)
{
    const string Service = "svc-back";

    public static TheoryData<string, string, int> Boundaries()
    {
        var data = new TheoryData<string, string, int>();
        // The nodes of each plan's steps (see the lifecycle test): a step that follows one on the same node runs in that
        // step's Hangfire job (a segment), so it is never scheduled on its own and has no after-schedule point.
        foreach (var (action, nodes) in new[] { ("reprotect", new[] { "n1", "n3" }), ("giveback", new[] { "n1", "n3", "n3", "n1" }) })
            for (var step = 1; step <= nodes.Length; step++)
                foreach (var point in new[] { "after-schedule", "during-step", "after-effect" })
                    if (point != "after-schedule" || (step > 1 && nodes[step - 2] != nodes[step - 1])) // step 1 is scheduled by the requester
                        data.Add(action, point, step);
        return data;
    }

    [Theory]
    [MemberData(nameof(Boundaries))]
    public async Task the_run_converges_with_each_effect_once_when_its_agent_is_killed(string action, string point, int step)
    {
        var connection = await PostgresServer.NewDatabaseAsync($"back_{action}_{point.Replace('-', '_')}_{step}");
        await using var client = await ClientAsync(connection);
        var store = client.GetRequiredService<IDocumentStore>();
        var mediator = client.GetRequiredService<IMediator>();
        var marker = Path.Combine(Path.GetTempPath(), $"opensvc-fault-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(marker, "disarmed during the setup");
        var faultEnv = new Dictionary<string, string> { ["OPENSVC_FAULT"] = $"{point}@{step}", ["OPENSVC_FAULT_MARKER"] = marker };
        var agents = new Dictionary<string, AgentProcess> { ["n1"] = AgentProcess.Start("n1", connection, faultEnv), ["n3"] = AgentProcess.Start("n3", connection, faultEnv) };
        try
        {
            foreach (var a in agents.Values)
                await a.WaitReadyAsync(TimeSpan.FromSeconds(180)); // two agents starting on a loaded machine
            (await mediator.Send(new ConfigureService(Service, ReprotectGivebackTests.Config, "tester", false, true))).Accepted.Should().BeTrue();
            await ReprotectGivebackTests.WaitForAgentsAsync(mediator);
            await RunAsync(mediator, store, agents, ServiceAction.StartStandby, connection, faultEnv);
            await RunAsync(mediator, store, agents, ServiceAction.Takeover, connection, faultEnv);
            await ReprotectGivebackTests.WaitForAvailAsync(mediator, "n3", Status.Up);
            if (action == "giveback")
                await RunAsync(mediator, store, agents, ServiceAction.Reprotect, connection, faultEnv);

            File.Delete(marker); // armed: the next run to reach the point dies there
            var (run, restarts) = await RunAsync(mediator, store, agents, ActionWords.ParseServiceAction(action)!.Value, connection, faultEnv);

            File.Exists(marker).Should().BeTrue("the fault point {0}@{1} must have been reached and the agent killed", point, step);
            restarts.Should().Be(1);
            run.Steps.Should().OnlyContain(s => s.Status == StepStatus.Succeeded);
            // Each step that had something to do took effect once (a giveback's receiving mount is already in place).
            (await FakeCluster.EffectsAsync(store, run.Id)).Select(e => e.Step).Should().Equal(run.Steps.Where(s => s.Changed).Select(s => s.Step.Index),
                "each step took effect once, whatever was killed when");
            await using var q = store.QuerySession();
            var events = (await q.Events.FetchStreamAsync(run.Id)).Select(e => e.Data).ToList();
            events.OfType<StepRequeued>().Should().Contain(r => r.Step == step - 1, "the interrupted step was requeued, with the reason");
            events.OfType<RunCompleted>().Should().ContainSingle();
            var serviceEvents = (await q.Events.FetchStreamAsync(ServiceActivity.StreamId(Service))).Select(e => e.Data).ToList();
            serviceEvents.OfType<ProtectionReversed>().Should().ContainSingle("the reversal is recorded once");
            if (action == "giveback")
            {
                serviceEvents.OfType<ProtectionRestored>().Should().ContainSingle().Which.RunId.Should().Be(run.Id);
                events.OfType<RecoveryMeasured>().Should().ContainSingle().Which.Rpo.Should().Be(TimeSpan.Zero);
                (await FakeCluster.StateAsync(store, "n1", "container#0")).Should().Be("up");
                (await FakeCluster.StateAsync(store, "n3", "container#0")).Should().Be("down");
            }
        }
        finally
        {
            foreach (var a in agents.Values)
                a.Dispose();
            File.Delete(marker);
        }
    }

    /// <summary>Requests an action, restarting any agent the fault killed, until the run ends; it must complete.</summary>
    async Task<(WorkflowRun Run, int Restarts)> RunAsync(IMediator mediator, IDocumentStore store, Dictionary<string, AgentProcess> agents, ServiceAction action,
        string connection, Dictionary<string, string> faultEnv)
    {
        var result = await mediator.Send(new RequestAction(new ActionRequest(Service, action, new NodeName(action is ServiceAction.StartStandby or ServiceAction.Takeover or ServiceAction.Reprotect or ServiceAction.Giveback ? "n3" : "n1"), "tester")));
        result.Should().BeOfType<ActionAccepted>($"{ActionWords.Of(action)}: {(result as ActionRefused)?.Refusal}");
        var restarts = 0;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            foreach (var (node, agent) in agents.ToList())
            {
                if (!agent.HasExited)
                    continue;
                output.WriteLine($"agent {node} (pid {agent.Pid}) died; restarting it\n{agent.Log}");
                agent.Dispose();
                agents[node] = AgentProcess.Start(node, connection, faultEnv);
                restarts++;
            }
            await using (var session = store.QuerySession())
            {
                if (await session.LoadAsync<WorkflowRun>(result.RunId()) is { IsFinished: true } run)
                {
                    run.Status.Should().Be(RunStatus.Completed, "{0} must finish; agents said:\n{1}", ActionWords.Of(action), string.Join("\n", agents.Values.Select(a => a.Log)));
                    return (run, restarts);
                }
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{ActionWords.Of(action)} did not end; agents said:\n{string.Join("\n", agents.Values.Select(a => a.Log))}");
            await Task.Delay(100);
        }
    }

    static async Task<ServiceProvider> ClientAsync(string connection)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddOpenSvcEngine(new EngineOptions(connection, new NodeName("tester")) { RunAgent = false, FakeCluster = true, AgentDeadAfter = TimeSpan.FromSeconds(3) });
        var sp = services.BuildServiceProvider();
        await sp.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        _ = sp.GetRequiredService<JobStorage>();
        return sp;
    }
}
