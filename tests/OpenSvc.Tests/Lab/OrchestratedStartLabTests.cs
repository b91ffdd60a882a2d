using FluentAssertions;
using Marten;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Runs;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Lab;

/// <summary>
/// <c>orchestrate = start</c> on the lab, the real product: n1's agent is stopped and started again (the node boots),
/// and the agent itself requests the start of the service that should run there, as "orchestrator@n1" with its reason;
/// the real filesystem is mounted inside n1. A frozen service beside it is not started. n2's agent is down the whole
/// time: a node whose agent is down is not available (OpenSVC), so it does not hold the start back.
/// Two one-filesystem services on n1's disk keep it short: no private dockerd, no image to seed.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class OrchestratedStartLabTests(LabFixture lab, ITestOutputHelper output) : IAsyncLifetime
{
    readonly LabScenario _s = new(lab, output);
    string _auto = "";
    string _frozen = "";

    string Config(string subvol) => $"""
        [DEFAULT]
        nodes = n1 n2
        orchestrate = start

        [fs#0]
        dev = {lab.Dev("n1")}
        mnt = /srv/svc1/{subvol}
        mnt_opt = defaults,subvol={subvol}
        """;

    public async Task InitializeAsync()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        _auto = lab.WriteShared("orch-auto.conf", Config("data"));
        _frozen = lab.WriteShared("orch-frozen.conf", Config("docker"));
        await _s.StartClusterAsync("n1");
        _s.Log("PostgreSQL and n1's agent ready (n2's agent down)");
    }

    public async Task DisposeAsync()
    {
        await _s.DisposeAsync();
        if (!LabFactAttribute.IsRoot)
            return;
        await _s.DriverAsync(_auto, "n1", "fs#0", "stop", "orch-auto");
        await _s.DriverAsync(_frozen, "n1", "fs#0", "stop", "orch-frozen");
        await lab.ResetServiceDisksAsync();
    }

    [LabFact]
    public async Task a_restarted_agent_starts_its_orchestrated_service_by_itself_and_leaves_the_frozen_one()
    {
        var first = _s.Cluster.Agents.Single(a => a.Node == "n1");
        await UntilAsync(() => first.Log.Contains("orchestrator: start-up pass on n1 done", StringComparison.Ordinal), "n1's first start-up pass (no service yet)");
        (await _s.Must("svc", "create", "orch-auto", "--config", _auto)).Should().Contain("stored as v1");
        (await _s.Must("svc", "create", "orch-frozen", "--config", _frozen)).Should().Contain("stored as v1");
        (await _s.Must("svc", "freeze", "orch-frozen", "--reason", "lab: kept down")).Should().Contain("frozen");
        (await _s.MountsAsync("n1")).Should().BeEmpty();

        // n1 boots: its agent stops and starts again, and decides by itself.
        var agent = await _s.Cluster.RestartAgentAsync("n1");
        _s.Log("n1's agent restarted");
        await UntilAsync(() => agent.Log.Contains("orchestrator: start-up pass on n1 done", StringComparison.Ordinal), "n1's start-up pass");
        WorkflowRun? run = null;
        await UntilAsync(async () => (run = (await RunsAsync("orch-auto")).SingleOrDefault(r => r.IsFinished)) is not null, "the orchestrated start of orch-auto ends");
        run!.Action.Should().Be(ServiceAction.Start);
        run.Node.Value.Should().Be("n1");
        run.RequestedBy.Should().Be("orchestrator@n1");
        run.Reason.Should().Be("orchestrate = start: orch-auto is up nowhere and n1 is the first live node of n1 n2; n2's agent is not heartbeating: not available");
        run.Status.Should().Be(RunStatus.Completed, run.Refusal ?? run.Outcome);
        (await _s.MountsAsync("n1")).Should().Equal(["/srv/svc1/data"], "orch-auto's filesystem is mounted on n1, orch-frozen's is not");
        await _s.ExpectStatusAsync("orch-auto", "up", "up", ("n1", "up"));
        _s.Log("orch-auto up on n1");

        // The frozen service: decided, not started, and the agent says why.
        (await RunsAsync("orch-frozen")).Should().BeEmpty("a frozen service is never started by the orchestrator");
        agent.Log.Should().Contain("orchestrator: orch-frozen not started on n1: orch-frozen is frozen since").And.Contain("(lab: kept down)");
        (await _s.Must("svc", "status", "orch-frozen")).Should().Contain("frozen");
    }

    async Task<List<WorkflowRun>> RunsAsync(string service)
    {
        using var store = DocumentStore.For(o => WorkflowStore.Configure(o, _s.Cluster.Connection));
        await using var session = store.QuerySession();
        return (await RunQueries.ListAsync(session, new RunFilter(Service: service), default)).ToList();
    }

    Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting until {what}; agents:\n{_s.Cluster.AgentLogs}");
            await Task.Delay(500);
        }
    }
}
