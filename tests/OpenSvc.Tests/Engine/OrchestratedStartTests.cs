using FluentAssertions;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using Xunit;

namespace OpenSvc.Tests.Engine;

/// <summary>orchestrate = start on the fake cluster: an agent that starts requests the start of what should run on its node.</summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class OrchestratedStartTests : IAsyncLifetime
{
    InProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync("orchestrated_start", "n2");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    static string Config(string orchestrate) => $"""
        [DEFAULT]
        nodes = n1 n2
        {orchestrate}
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
    public async Task a_starting_agent_starts_its_failover_services_once_and_leaves_the_others()
    {
        // n2's agent decides once, a few seconds after it starts: let that pass go by with no service stored.
        await _cluster.WaitForOrchestratorPassAsync("n2");
        (await _cluster.Mediator.Send(new ConfigureService("svc-auto", Config("orchestrate = start"), "tester", false, true))).Accepted.Should().BeTrue();
        (await _cluster.Mediator.Send(new ConfigureService("svc-2015", Config("autostart_node = n2"), "tester", false, true))).Accepted.Should().BeTrue();
        (await _cluster.Mediator.Send(new ConfigureService("svc-manual", Config(""), "tester", false, true))).Accepted.Should().BeTrue();

        // n1 boots: first of nodes, svc-auto is up nowhere: its agent starts it, by itself, saying why.
        await _cluster.AddAgentAsync("n1");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        WorkflowRun? run = null;
        while (DateTime.UtcNow < deadline && (run = (await RunsAsync("svc-auto")).SingleOrDefault(r => r.IsFinished)) is null)
            await Task.Delay(500);
        run.Should().NotBeNull("n1's agent requests the start of svc-auto");
        run!.Action.Should().Be(ServiceAction.Start);
        run.Node.Value.Should().Be("n1");
        run.RequestedBy.Should().Be("orchestrator@n1");
        run.Reason.Should().Contain("orchestrate = start").And.Contain("up nowhere");
        run.Status.Should().Be(RunStatus.Completed);

        // svc-2015 starts on n2 only (autostart_node), whose agent started before it existed; svc-manual never starts.
        (await RunsAsync("svc-2015")).Should().BeEmpty();
        (await RunsAsync("svc-manual")).Should().BeEmpty();

        // n2's agent restarts: svc-auto is up on n1 (never twice), svc-2015 starts on n2.
        await _cluster.RestartAgentAsync("n2");
        deadline = DateTime.UtcNow.AddSeconds(60);
        WorkflowRun? n2run = null;
        while (DateTime.UtcNow < deadline && (n2run = (await RunsAsync("svc-2015")).SingleOrDefault(r => r.IsFinished)) is null)
            await Task.Delay(500);
        n2run.Should().NotBeNull();
        n2run!.RequestedBy.Should().Be("orchestrator@n2");
        n2run.Reason.Should().StartWith("autostart_node = n2");
        await _cluster.WaitForOrchestratorPassAsync("n2");
        (await RunsAsync("svc-auto")).Should().ContainSingle("a failover service up on n1 is never started on n2");
        (await RunsAsync("svc-manual")).Should().BeEmpty();
    }
}
