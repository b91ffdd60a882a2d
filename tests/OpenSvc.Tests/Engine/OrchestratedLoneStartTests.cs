using FluentAssertions;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using Xunit;

namespace OpenSvc.Tests.Engine;

/// <summary>
/// orchestrate = start with one of the two nodes' agents down: as OpenSVC's daemon, a node whose agent is silent is
/// not available, so the first live node of nodes starts the failover service; unless the silent node last said it runs it.
/// </summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class OrchestratedLoneStartTests : IAsyncLifetime
{
    InProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync("orchestrated_lone_start", "n1");

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

    [Fact]
    public async Task a_restarting_agent_starts_a_failover_service_although_the_other_node_is_down()
    {
        // n1's agent decides once, a few seconds after it starts: let that pass go by with no service stored. n2 never had an agent.
        await _cluster.WaitForOrchestratorPassAsync("n1");
        (await _cluster.Mediator.Send(new ConfigureService("svc-lone", Config, "tester", false, true))).Accepted.Should().BeTrue();

        await _cluster.RestartAgentAsync("n1");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        WorkflowRun? run = null;
        while (DateTime.UtcNow < deadline && (run = (await RunsAsync("svc-lone")).SingleOrDefault(r => r.IsFinished)) is null)
            await Task.Delay(500);
        run.Should().NotBeNull("n1's agent requests the start of svc-lone");
        run!.RequestedBy.Should().Be("orchestrator@n1");
        run.Refusal.Should().BeNull();
        run.Status.Should().Be(RunStatus.Completed, run.Refusal);
        run.Node.Should().Be(new NodeName("n1"));
        run.Reason.Should().EndWith("n2's agent is not heartbeating: not available");
    }
}
