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
using OpenSvc.Workflows.Services;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Engine;

/// <summary>
/// Every run ends, and a dead node never locks a service: real agent processes on the fake cluster, one of them
/// killed (SIGKILL) while it runs a step.
/// </summary>
public sealed class DeadNodeTests(ITestOutputHelper output)
{
    static readonly StepPolicy Long = new(TimeSpan.FromMinutes(5), 3, TimeSpan.FromMilliseconds(200));

    [Fact]
    public async Task cancelling_a_run_whose_step_runs_on_a_killed_agent_ends_it_and_frees_the_service()
    {
        var connection = await PostgresServer.NewDatabaseAsync("dead_cancel");
        await using var client = await ClientAsync(connection);
        var store = client.GetRequiredService<IDocumentStore>();
        var mediator = client.GetRequiredService<IMediator>();
        var n1 = AgentProcess.Start("n1", connection);
        var n2 = AgentProcess.Start("n2", connection);
        try
        {
            await n1.WaitReadyAsync(TimeSpan.FromSeconds(180));
            await n2.WaitReadyAsync(TimeSpan.FromSeconds(180));
            await FakeCluster.InjectAsync(store, "n2", "fs#0", ResourceAction.Start, "slow", delayMs: 120_000);
            var plan = Plans.Start("svc-dead", Plans.Step(0, "n2", "fs#0", ResourceAction.Start, Long), Plans.Step(1, "n1", "fs#1", ResourceAction.Start, Long));
            var submitted = await mediator.Send(new SubmitRun(plan, "tester", "dead node", false, FakeCluster.ConfigFor(plan)));
            await WaitForAsync(store, submitted.RunId, r => r.Steps[0].Status == StepStatus.Running, "step 1 running on n2");

            n2.Dispose(); // SIGKILL, in the middle of the step
            var cancel = await mediator.Send(new CancelRun(submitted.RunId, "tester", "n2 is gone"));
            cancel.Accepted.Should().BeTrue(cancel.Message);

            var run = await WaitForAsync(store, submitted.RunId, r => r.IsFinished, "the cancelled run to end", TimeSpan.FromSeconds(60));
            run.Status.Should().Be(RunStatus.Cancelled, "agents said:\n{0}", n1.Log);
            var events = await EventsAsync(store, run.Id);
            events.OfType<StepAbandoned>().Should().ContainSingle(e => e.Step == 0).Which.Reason.Should().Contain("n2");
            events.OfType<StepStarted>().Should().NotContain(e => e.Step == 1, "nothing starts after a cancel");

            var next = Plans.Start("svc-dead", Plans.Step(0, "n1", "fs#1", ResourceAction.Start, Long));
            var again = await mediator.Send(new SubmitRun(next, "tester", "after the cancel", false, FakeCluster.ConfigFor(next)));
            again.Accepted.Should().BeTrue(again.Refusal);
            (await WaitForAsync(store, again.RunId, r => r.IsFinished, "the next run")).Status.Should().Be(RunStatus.Completed);
        }
        finally
        {
            n1.Dispose();
            n2.Dispose();
        }
    }

    [Fact]
    public async Task a_forced_takeover_with_a_reason_ends_a_sync_stuck_on_the_killed_primary()
    {
        var connection = await PostgresServer.NewDatabaseAsync("dead_takeover");
        await using var client = await ClientAsync(connection);
        var store = client.GetRequiredService<IDocumentStore>();
        var n1 = AgentProcess.Start("n1", connection);
        var n3 = AgentProcess.Start("n3", connection);
        try
        {
            await n1.WaitReadyAsync(TimeSpan.FromSeconds(180));
            await n3.WaitReadyAsync(TimeSpan.FromSeconds(180));
            using var api = new OpenSvc.Host.Cli.ApiClusterClient(n3.LocalServer, null);
            const string config = """
                [DEFAULT]
                nodes = n1
                drpnodes = n3
                [fs#0]
                type = ext4
                dev = /dev/fake0
                mnt = /srv/fake
                [sync#0]
                type = rsync
                src = /srv/fake/
                dst = /srv/fake
                target = drpnodes
                schedule = @0
                """;
            (await api.ConfigureAsync(new ConfigureService("svc-site", config, "tester", false, true), default)).Accepted.Should().BeTrue();
            var start = await api.RequestActionAsync(new ActionRequest("svc-site", ServiceAction.Start, new NodeName("n1"), "tester"), default);
            (await WaitForAsync(store, start.RunId(), r => r.IsFinished, "the start")).Status.Should().Be(RunStatus.Completed);
            await WaitForAvailAsync(api, "svc-site", "n1", Status.Up);

            await FakeCluster.InjectAsync(store, "n1", "sync#0", ResourceAction.Sync, "slow", delayMs: 120_000);
            var sync = await api.RequestActionAsync(new ActionRequest("svc-site", ServiceAction.Sync, new NodeName("n1"), "tester"), default);
            sync.Should().BeOfType<ActionAccepted>((sync as ActionRefused)?.Refusal);
            await WaitForAsync(store, sync.RunId(), r => r.Steps.Any(s => s.Step.Action == ResourceAction.Sync && s.Status == StepStatus.Running), "the send running on n1");

            n1.Dispose(); // the primary site is lost in the middle of the sync
            var unforced = await api.RequestActionAsync(new ActionRequest("svc-site", ServiceAction.Takeover, new NodeName("n3"), "tester"), default);
            unforced.Should().BeOfType<ActionRefused>("a takeover from a primary that may still run needs --force and a reason");

            // Once the primary's lease has expired, the forced takeover ends the stuck sync and runs.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            ActionResult takeover;
            while (true)
            {
                takeover = await api.RequestActionAsync(new ActionRequest("svc-site", ServiceAction.Takeover, new NodeName("n3"), "tester")
                {
                    Force = true, Reason = "site A lost",
                }, default);
                if (takeover is ActionAccepted || DateTime.UtcNow > deadline)
                    break;
                output.WriteLine($"refused: {((ActionRefused)takeover).Refusal}");
                await Task.Delay(1000);
            }
            takeover.Should().BeOfType<ActionAccepted>((takeover as ActionRefused)?.Refusal);
            var taken = await WaitForAsync(store, takeover.RunId(), r => r.IsFinished, "the takeover");
            taken.Status.Should().Be(RunStatus.Completed, "agents said:\n{0}", n3.Log);
            taken.Reason.Should().Be("site A lost");
            taken.Recovery.Should().NotBeNull("a completed takeover records what it achieved");
            taken.Recovery!.Node.Should().Be(new NodeName("n3"));
            taken.Recovery.DownSinceFrom.Should().Contain("last heartbeat of n1");
            taken.Recovery.DataAges.Should().ContainSingle().Which.Age.Should().BeNull("the only sync to n3 never completed: the loss is unknown");

            var stuck = await WaitForAsync(store, sync.RunId(), r => r.IsFinished, "the sync");
            stuck.Status.Should().Be(RunStatus.Cancelled);
            var events = await EventsAsync(store, stuck.Id);
            events.OfType<RunCancelRequested>().Should().ContainSingle().Which.Reason.Should().Contain("superseded by a forced takeover on n3: site A lost");
            events.OfType<StepAbandoned>().Should().NotBeEmpty();
        }
        finally
        {
            n1.Dispose();
            n3.Dispose();
        }
    }

    static async Task<WorkflowRun> WaitForAsync(IDocumentStore store, Guid runId, Func<WorkflowRun, bool> done, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            await using (var session = store.QuerySession())
            {
                if (await session.LoadAsync<WorkflowRun>(runId) is { } run && done(run))
                    return run;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited in vain for {what} (run {runId})");
            await Task.Delay(100);
        }
    }

    static async Task WaitForAvailAsync(IClusterClient client, string service, string node, Status avail)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await client.StatusAsync(service, default))?.Instances.FirstOrDefault(i => i.Node == node)?.Report?.Avail != avail)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{service} on {node} never reported {avail}");
            await Task.Delay(200);
        }
    }

    static async Task<List<object>> EventsAsync(IDocumentStore store, Guid runId)
    {
        await using var session = store.QuerySession();
        return (await session.Events.FetchStreamAsync(runId)).Select(e => e.Data).ToList();
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
