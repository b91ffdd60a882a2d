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
using OpenSvc.Workflows.Runs;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Engine;

/// <summary>
/// Kills a real agent process (SIGKILL) at every step boundary of a three-step run across two nodes,
/// restarts it, and checks that the run finishes, every step's effect happened exactly once, and the
/// event stream records what really happened.
/// </summary>
public sealed class DurabilityTests(ITestOutputHelper output)
{
    public static TheoryData<string, int> Boundaries => new()
    {
        { "during-step", 1 }, { "after-effect", 1 },
        { "after-schedule", 2 }, { "during-step", 2 }, { "after-effect", 2 },
        { "after-schedule", 3 }, { "during-step", 3 }, { "after-effect", 3 },
    };

    [Theory]
    [MemberData(nameof(Boundaries))]
    public async Task a_run_survives_its_agent_being_killed(string point, int step)
    {
        var connection = await PostgresServer.NewDatabaseAsync($"dur_{point.Replace('-', '_')}_{step}");
        await using var client = await ClientAsync(connection);
        var marker = Path.Combine(Path.GetTempPath(), $"opensvc-fault-{Guid.NewGuid():N}");
        var faultEnv = new Dictionary<string, string> { ["OPENSVC_FAULT"] = $"{point}@{step}", ["OPENSVC_FAULT_MARKER"] = marker };
        var agents = new Dictionary<string, AgentProcess>
        {
            ["n1"] = AgentProcess.Start("n1", connection, faultEnv),
            ["n2"] = AgentProcess.Start("n2", connection, faultEnv),
        };
        var restarts = 0;
        try
        {
            foreach (var a in agents.Values)
                await a.WaitReadyAsync(TimeSpan.FromSeconds(180));

            var plan = new Plan("svc-dur", ServiceAction.Start, new NodeName("n1"), null, true,
            [
                Plans.Step(0, "n1", "fs#0", ResourceAction.Start),
                Plans.Step(1, "n2", "fs#1", ResourceAction.Start),
                Plans.Step(2, "n1", "container#0", ResourceAction.Start),
            ]);
            var mediator = client.GetRequiredService<IMediator>();
            var submitted = await mediator.Send(new SubmitRun(plan, "tester", $"kill at {point}@{step}", false, FakeCluster.ConfigFor(plan)));
            submitted.Accepted.Should().BeTrue();

            var store = client.GetRequiredService<IDocumentStore>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            WorkflowRun? run = null;
            while (DateTime.UtcNow < deadline)
            {
                foreach (var (node, agent) in agents.ToList())
                {
                    if (!agent.HasExited)
                        continue;
                    output.WriteLine($"agent {node} (pid {agent.Pid}) died; restarting it");
                    output.WriteLine(agent.Log);
                    agent.Dispose();
                    agents[node] = AgentProcess.Start(node, connection, faultEnv);
                    restarts++;
                }
                await using var session = store.QuerySession();
                run = await session.LoadAsync<WorkflowRun>(submitted.RunId);
                if (run is { IsFinished: true })
                    break;
                await Task.Delay(100);
            }

            File.Exists(marker).Should().BeTrue("the fault point {0}@{1} must have been reached and the agent killed", point, step);
            restarts.Should().Be(1);
            run.Should().NotBeNull();
            run!.Status.Should().Be(RunStatus.Completed, "the run must finish after the restart; agents said:\n{0}",
                string.Join("\n", agents.Values.Select(a => a.Log)));
            run.Steps.Should().OnlyContain(s => s.Status == StepStatus.Succeeded);

            // Exactly once: one effect per step in the fake cluster, whatever was killed when.
            var effects = await FakeCluster.EffectsAsync(store, run.Id);
            effects.Select(e => e.Step).Should().Equal(0, 1, 2);

            // The stream tells the true story: the interrupted step was requeued with the reason.
            await using var q = store.QuerySession();
            var events = (await q.Events.FetchStreamAsync(run.Id)).Select(e => e.Data).ToList();
            var requeued = events.OfType<StepRequeued>().Where(r => r.Step == step - 1).ToList();
            requeued.Should().NotBeEmpty();
            if (point == "after-schedule")
            {
                requeued[0].Because.Should().Contain("not in queue");
                events.OfType<StepStarted>().Count(s => s.Step == step - 1).Should().Be(1);
            }
            else
            {
                // The restarted agent replaced the dead instance ("gone"), or had not written its first
                // heartbeat yet when the reconciler looked ("stopped answering"): both name the dead instance.
                requeued[0].Because.Should().MatchRegex("agent n[12]/[0-9]+/[0-9a-f]+ (that started it is gone|stopped answering)");
                events.OfType<StepStarted>().Count(s => s.Step == step - 1).Should().Be(2);
            }
            events.OfType<StepSucceeded>().Select(s => s.Step).Should().Equal(0, 1, 2);
            events.Last().Should().BeOfType<RunCompleted>();
        }
        finally
        {
            foreach (var a in agents.Values)
                a.Dispose();
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task a_run_survives_the_agent_that_accepted_it_dying_before_the_first_enqueue()
    {
        var connection = await PostgresServer.NewDatabaseAsync("dur_submit");
        await using var local = await ClientAsync(connection);
        var marker = Path.Combine(Path.GetTempPath(), $"opensvc-fault-{Guid.NewGuid():N}");
        var faultEnv = new Dictionary<string, string> { ["OPENSVC_FAULT"] = "after-schedule@1", ["OPENSVC_FAULT_MARKER"] = marker };
        var n1 = AgentProcess.Start("n1", connection, faultEnv);
        var n2 = AgentProcess.Start("n2", connection);
        try
        {
            await n1.WaitReadyAsync(TimeSpan.FromSeconds(180));
            await n2.WaitReadyAsync(TimeSpan.FromSeconds(180));
            using var api = new OpenSvc.Host.Cli.ApiClusterClient(n1.LocalServer, null);
            const string config = "[DEFAULT]\nnodes = n1 n2\n[fs#0]\ntype = none\ndev = /dev/a\nmnt = /srv/a\n[fs#1]\ntype = none\ndev = /dev/b\nmnt = /srv/a/b\n";
            (await api.ConfigureAsync(new OpenSvc.Workflows.Services.ConfigureService("svc-submit", config, "tester", false, true), default)).Accepted.Should().BeTrue();
            await WaitForHeartbeatsAsync(api);

            // The agent that accepts the request commits the run and dies before enqueuing its first step:
            // the caller sees the connection drop.
            var submit = () => api.RequestActionAsync(new ActionRequest("svc-submit", ServiceAction.Start, new NodeName("n1"), "tester"), default);
            await submit.Should().ThrowAsync<OpenSvc.Host.Cli.UserError>();
            File.Exists(marker).Should().BeTrue();

            n1.Dispose();
            n1 = AgentProcess.Start("n1", connection, faultEnv);
            var store = local.GetRequiredService<IDocumentStore>();
            var deadline = DateTime.UtcNow.AddSeconds(90);
            WorkflowRun? run = null;
            while (DateTime.UtcNow < deadline)
            {
                await using var session = store.QuerySession();
                run = (await session.Query<WorkflowRun>().Where(r => r.Service == "svc-submit").ToListAsync()).SingleOrDefault();
                if (run is { IsFinished: true })
                    break;
                await Task.Delay(100);
            }
            run.Should().NotBeNull();
            run!.Status.Should().Be(RunStatus.Completed, "agents said:\n{0}\n{1}", n1.Log, n2.Log);
            (await FakeCluster.EffectsAsync(store, run.Id)).Select(e => e.Step).Should().Equal(0, 1);
            await using var q = store.QuerySession();
            var events = (await q.Events.FetchStreamAsync(run.Id)).Select(e => e.Data).ToList();
            events.OfType<StepRequeued>().Should().ContainSingle(r => r.Step == 0).Which.Because.Should().Contain("not in queue");
        }
        finally
        {
            n1.Dispose();
            n2.Dispose();
            File.Delete(marker);
        }
    }

    static async Task WaitForHeartbeatsAsync(OpenSvc.Workflows.Runs.IClusterClient api)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await api.AgentsAsync(default)).Count(a => a.SinceLastSeen < TimeSpan.FromSeconds(5)) < 2)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("agents did not heartbeat");
            await Task.Delay(100);
        }
    }

    static async Task<ServiceProvider> ClientAsync(string connection)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddOpenSvcEngine(new EngineOptions(connection, new NodeName("tester")) { RunAgent = false, FakeCluster = true });
        var sp = services.BuildServiceProvider();
        // Create both schemas once, before agents start, so they never race to migrate.
        await sp.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        _ = sp.GetRequiredService<JobStorage>();
        return sp;
    }
}
