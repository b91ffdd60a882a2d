using FluentAssertions;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Tests.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Planning;

public class OrchestrationTests
{
    static readonly NodeName N1 = new("n1"), N2 = new("n2"), N3 = new("n3");

    static OrchestrationDecision Decide(string defaults, string node, (NodeName Node, Status Avail)[] avail, NodeName[]? live = null,
        bool serviceFrozen = false, bool nodeFrozen = false) =>
        Orchestration.Decide(Seed.ResolveText($"[DEFAULT]\n{defaults}\n", node), new NodeName(node),
            new OrchestrationFacts(avail.ToDictionary(a => a.Node, a => a.Avail), (live ?? [N1, N2, N3]).ToHashSet(), serviceFrozen, nodeFrozen));

    const string Failover = "nodes = n1 n2\ndrpnodes = n3\norchestrate = start";

    [Fact]
    public void a_failover_service_up_nowhere_starts_on_the_first_live_node_only()
    {
        var d = Decide(Failover, "n1", [(N1, Status.Down), (N2, Status.Down)]);
        d.Start.Should().BeTrue();
        d.Reason.Should().Contain("orchestrate = start").And.Contain("up nowhere").And.Contain("first live node");
        Decide(Failover, "n2", [(N1, Status.Down), (N2, Status.Down)]).Start.Should().BeFalse("n1 ranks first and lives");
        Decide(Failover, "n2", [(N2, Status.Down)], live: [N2, N3]).Start.Should().BeTrue("n1's agent is not live");
    }

    [Fact]
    public void a_node_whose_agent_is_silent_is_not_available_and_the_reason_says_so()
    {
        var alone = Decide(Failover, "n1", [(N1, Status.Down), (N2, Status.Down)], live: [N1]);
        alone.Start.Should().BeTrue("n2's agent is down: n1 is the first available node");
        alone.Reason.Should().EndWith("n1 is the first live node of n1 n2; n2's agent is not heartbeating: not available");
        var stale = Decide(Failover, "n1", [(N1, Status.Down), (N2, Status.Up)], live: [N1]);
        stale.Start.Should().BeFalse("n2 last reported it up: it may still run there");
        stale.Reason.Should().Contain("up on n2 (as the agent of n2 last reported; it is not heartbeating now)");
    }

    [Fact]
    public void a_failover_service_up_elsewhere_never_starts_here()
    {
        var d = Decide(Failover, "n1", [(N1, Status.Down), (N2, Status.Up)]);
        d.Start.Should().BeFalse();
        d.Reason.Should().Contain("up on n2").And.Contain("one node at a time");
        Decide(Failover, "n1", [(N3, Status.Up)]).Start.Should().BeFalse("up on the DR node counts too");
    }

    [Fact]
    public void never_on_a_dr_node_never_while_frozen_never_with_orchestrate_no()
    {
        Decide(Failover, "n3", []).Reason.Should().Contain("takeover");
        Decide(Failover, "n1", [], serviceFrozen: true).Reason.Should().Contain("frozen").And.Contain("thaw");
        Decide(Failover, "n1", [], nodeFrozen: true).Should().Match<OrchestrationDecision>(d => !d.Start && d.Reason.Contains("n1 is frozen"));
        var instance = Orchestration.Decide(Seed.ResolveText($"[DEFAULT]\n{Failover}\n", "n1"), N1,
            new OrchestrationFacts(new Dictionary<NodeName, Status>(), new HashSet<NodeName> { N1 }, false, false) { InstanceFrozen = true, FrozenDetail = "frozen since x by alice" });
        instance.Start.Should().BeFalse("the instance on n1 is frozen");
        instance.Reason.Should().Contain("on n1 is frozen since").And.Contain("by alice").And.Contain("svc thaw");
        Decide("nodes = n1 n2", "n1", []).Should().Be(new OrchestrationDecision(false, "orchestrate = no: started by an operator only"));
        Decide(Failover, "n1", [(N1, Status.Up)]).Reason.Should().Contain("already up");
    }

    [Fact]
    public void the_seeds_autostart_node_starts_a_flex_service_on_each_listed_node_up_to_flex_target()
    {
        const string flex = "nodes = n1 n2 n3\ntopology = flex\nflex_min_nodes = 3\nautostart_node = n1 n2 n3";
        Seed.ResolveText($"[DEFAULT]\n{flex}\n", "n1").Orchestrate.Should().Be(Orchestrate.Start);
        var d = Decide(flex, "n3", [(N1, Status.Up), (N2, Status.Down)]);
        d.Start.Should().BeTrue();
        d.Reason.Should().StartWith("autostart_node = n1 n2 n3: 1 of 3 flex instance(s) up");
        Decide(flex, "n3", [(N1, Status.Up), (N2, Status.Up), (N3, Status.Up)]).Reason.Should().Contain("already up");
    }

    [Fact]
    public void a_flex_service_stops_starting_at_its_target_and_stays_within_flex_max()
    {
        const string flex = "nodes = n1 n2 n3\ntopology = flex\nflex_min = 1\nflex_max = 2\nflex_target = 5\norchestrate = start";
        Decide(flex, "n3", [(N1, Status.Up), (N2, Status.Up)]).Should().Match<OrchestrationDecision>(d => !d.Start && d.Reason.Contains("flex target 2"));
        Decide(flex, "n2", [(N1, Status.Up)]).Start.Should().BeTrue();
        Decide(flex, "n3", [(N1, Status.Up)]).Start.Should().BeFalse("n2 ranks before n3 for the one missing instance");
    }

    [Fact]
    public void autostart_node_limits_the_nodes_that_start_by_themselves()
    {
        const string failover = "nodes = n1 n2\nautostart_node = n2";
        Decide(failover, "n1", []).Reason.Should().Contain("not a node where the service starts by itself");
        Decide(failover, "n2", []).Start.Should().BeTrue("n2 is the only autostart node, whatever nodes' order");
    }
}
