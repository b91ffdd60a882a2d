using FluentAssertions;
using OpenSvc.Domain;
using OpenSvc.Domain.Runs;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using Xunit;

namespace OpenSvc.Tests.Engine;

/// <summary>Freeze on the fake cluster: a frozen service, instance or node is not started by a restarting agent; thawed, it is.</summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class OrchestratedFreezeTests : IAsyncLifetime
{
    InProcessCluster _cluster = null!;
    static readonly NodeName N1 = new("n1");

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync("orchestrated_freeze", "n1", "n2");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    const string Config = """
        [DEFAULT]
        nodes = n1 n2
        orchestrate = start
        [fs#0]
        type = ext4
        dev = /dev/fake0
        mnt = /srv/fake
        """;

    async Task<List<WorkflowRun>> RunsAsync(string service)
    {
        await using var session = _cluster.Store.QuerySession();
        return (await RunQueries.ListAsync(session, new RunFilter(Service: service), default)).ToList();
    }

    async Task<string> ReasonOnN1() => (await _cluster.Mediator.Send(new OrchestrateStarts(N1))).Single(s => s.Service == "svc-frz").Decision.Reason;

    [Fact]
    public async Task a_frozen_service_or_node_is_not_started_by_a_restarting_agent_and_is_once_thawed()
    {
        // The agents decide once, a few seconds after they start: let that pass go by with no service stored (n2 ranks after n1).
        await _cluster.WaitForOrchestratorPassAsync("n1");
        await _cluster.WaitForOrchestratorPassAsync("n2");
        (await _cluster.Mediator.Send(new ConfigureService("svc-frz", Config, "tester", false, true))).Accepted.Should().BeTrue();
        var frozen = await _cluster.Mediator.Send(new FreezeService("svc-frz", null, true, "alice", "maintenance"));
        frozen.Outcome.Should().Be(FreezeOutcome.Done);
        (await _cluster.Mediator.Send(new FreezeService("svc-frz", null, true, "alice", null))).Outcome.Should().Be(FreezeOutcome.Unchanged);
        (await _cluster.Mediator.Send(new FreezeService("svc-frz", new NodeName("n9"), true, "alice", null))).Outcome.Should().Be(FreezeOutcome.NotAPeer);

        var status = await _cluster.Mediator.Send(new GetServiceStatus("svc-frz"));
        status!.Frozen.Should().Match<FreezeMark>(m => m.By == "alice" && m.Reason == "maintenance");
        (await ReasonOnN1()).Should().Contain("svc-frz is frozen since").And.Contain("by alice (maintenance)");

        // The service is frozen: n1's agent restarts, decides, and starts nothing.
        await _cluster.RestartAgentAsync("n1");
        await _cluster.WaitForOrchestratorPassAsync("n1");
        (await RunsAsync("svc-frz")).Should().BeEmpty("a frozen service is never started by the orchestrator");

        // Thawed, but the instance on n1 and then the node n1 frozen: still no automatic start there.
        (await _cluster.Mediator.Send(new FreezeService("svc-frz", null, false, "bob", null))).Outcome.Should().Be(FreezeOutcome.Done);
        (await _cluster.Mediator.Send(new FreezeService("svc-frz", N1, true, "carol", null))).Outcome.Should().Be(FreezeOutcome.Done);
        (await ReasonOnN1()).Should().Contain("on n1 is frozen since").And.Contain("by carol");
        (await _cluster.Mediator.Send(new GetServiceStatus("svc-frz")))!.Instances.Single(i => i.Node == "n1").Frozen!.By.Should().Be("carol");
        (await _cluster.Mediator.Send(new FreezeService("svc-frz", N1, false, "carol", null))).Outcome.Should().Be(FreezeOutcome.Done);
        (await _cluster.Mediator.Send(new FreezeNode(N1, true, "dave", "hardware"))).Outcome.Should().Be(FreezeOutcome.Done);
        (await ReasonOnN1()).Should().Contain("n1 is frozen since").And.Contain("node thaw --node n1");
        var byNode = await _cluster.Mediator.Send(new GetServiceStatus("svc-frz"));
        byNode!.Frozen.Should().BeNull();
        byNode.Instances.Single(i => i.Node == "n1").Should().Match<InstanceView>(i => i.Frozen == null && i.NodeFrozen!.By == "dave");
        await _cluster.RestartAgentAsync("n1");
        await _cluster.WaitForOrchestratorPassAsync("n1");
        (await RunsAsync("svc-frz")).Should().BeEmpty("a frozen node starts nothing by itself");

        // Thawed everywhere: the next start of n1's agent starts the service.
        (await _cluster.Mediator.Send(new FreezeNode(N1, false, "dave", null))).Outcome.Should().Be(FreezeOutcome.Done);
        await _cluster.RestartAgentAsync("n1");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        WorkflowRun? run = null;
        while (DateTime.UtcNow < deadline && (run = (await RunsAsync("svc-frz")).SingleOrDefault(r => r.IsFinished)) is null)
            await Task.Delay(500);
        run.Should().NotBeNull("thawed, n1's agent starts the service at its next start");
        run!.RequestedBy.Should().Be("orchestrator@n1");
        run.Status.Should().Be(RunStatus.Completed);

        // The history is on the service's stream: who froze and thawed, when.
        await using var session = _cluster.Store.QuerySession();
        var events = (await session.Events.FetchStreamAsync(ServiceActivity.StreamId("svc-frz"))).Select(e => e.Data).ToList();
        events.OfType<ServiceFrozen>().Select(e => e.By).Should().Equal("alice", "carol");
        events.OfType<ServiceThawed>().Select(e => e.By).Should().Equal("bob", "carol");
        (await session.Events.FetchStreamAsync(NodeFreezes.StreamId(N1))).Select(e => e.Data.GetType()).Should().Equal(typeof(NodeFrozen), typeof(NodeThawed));
    }
}
