using OpenSvc.Domain.Config;
using FluentAssertions;
using OpenSvc.Domain.Planning;
using Xunit;
using static OpenSvc.Domain.Tests.Planning.SeedServices;

namespace OpenSvc.Domain.Tests.Planning;

public class PlannerSyncTests
{
    static ActionRequest Sync(NodeName node) => Request(ServiceAction.Sync, node);

    [Fact]
    public void sync_all_sends_every_sync_resource_in_rid_order_from_the_node_where_the_service_is_up()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Sync(N1), Cluster((N1, Status.Up))).Accepted().Plan;

        plan.Lines().Should().Equal("n1 sync sync#0 n3", "n1 sync sync#1 n3");
        plan.Steps.Should().OnlyContain(s => s.Optional && s.Compensation == null && s.Action == ResourceAction.Sync);
        plan.Steps.Select(s => s.Driver).Should().Equal("sync.docker", "sync.btrfs");
        plan.Steps[1].WaitsFor.Should().Equal(0);
    }

    [Fact]
    public void a_docker_sync_into_a_private_dockerd_is_preceded_on_each_target_by_its_prepare_receive_step()
    {
        var svc = new ServiceView("priv", Topology.Failover, [N1, N2], [N3],
            new Dictionary<NodeName, IReadOnlyList<ResourceView>>
            {
                [N1] =
                [
                    new(Rid("sync#0"), "sync.docker") { Targets = SyncTargets.All, Optional = true, PreparesTarget = true },
                    new(Rid("sync#1"), "sync.rsync") { Targets = SyncTargets.DrpNodes, Optional = true },
                ],
            });

        var plan = Planner.Plan(svc, Sync(N1), Cluster((N1, Status.Up))).Accepted().Plan;

        plan.Steps.Select(s => $"{s.Node} {ActionWords.Of(s.Action)} {s.Rid}{(s.Target is { } t ? $" to {t}" : "")}").Should().Equal(
            "n2 prepare-receive sync#0", "n1 sync sync#0 to n2",
            "n3 prepare-receive sync#0", "n1 sync sync#0 to n3",
            "n1 sync sync#1 to n3");
        plan.Steps.Select(s => s.WaitsFor.SingleOrDefault(-1)).Should().Equal([-1, 0, 1, 2, 3], "one chain: each send right after its target got ready");
        plan.Steps.Where(s => s.Action == ResourceAction.PrepareReceive).Should()
            .OnlyContain(s => s.Policy == DriverCatalog.PrepareReceivePolicy && s.Compensation == null && s.Optional);
    }

    [Fact]
    public void sync_of_one_rid_sends_only_that_resource()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Sync(N1) with { SyncRid = Rid("sync#1") }, Cluster((N1, Status.Up))).Accepted().Plan;

        plan.Lines().Should().Equal("n1 sync sync#1 n3");
    }

    [Fact]
    public void one_step_per_target_node_and_never_to_the_sender()
    {
        var svc = new ServiceView("wide", Topology.Failover, [N1, N2], [N3],
            new Dictionary<NodeName, IReadOnlyList<ResourceView>>
            {
                [N1] = [new(Rid("sync#0"), "sync.rsync") { Targets = SyncTargets.All, Optional = true }],
            });

        var all = Planner.Plan(svc, Sync(N1), Cluster((N1, Status.Up))).Accepted().Plan;
        var nodesOnly = Planner.Plan(svc, Sync(N1) with { SyncTargets = SyncTargets.Nodes }, Cluster((N1, Status.Up))).Accepted().Plan;

        all.Lines().Should().Equal("n1 sync sync#0 n2", "n1 sync sync#0 n3");
        nodesOnly.Lines().Should().Equal("n1 sync sync#0 n2");
    }

    [Fact]
    public void sync_refuses_while_the_service_is_down_on_the_sending_node()
    {
        // C23
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Sync(N1), Cluster()).Refused();

        refusal.Guard.Should().Be(PlanGuard.SyncServiceNotUp);
        refusal.Reason.Should().Contain("svc1 is down on n1");
    }

    [Fact]
    public void a_standby_dr_node_does_not_send()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Sync(N3), Cluster((N1, Status.Up), (N3, Status.StandbyUp))).Refused();

        refusal.Guard.Should().Be(PlanGuard.SyncServiceNotUp);
        refusal.Reason.Should().Contain("stdby up on n3");
    }

    [Fact]
    public void a_warn_instance_sends_only_when_forced()
    {
        var refused = Planner.Plan(FailoverDockerBtrfs(), Sync(N1), Cluster((N1, Status.Warn)));
        var forced = Planner.Plan(FailoverDockerBtrfs(), Sync(N1) with { Force = true, Reason = "the warn is a known monitor glitch" }, Cluster((N1, Status.Warn)));

        refused.Refused().Reason.Should().Contain("--force");
        forced.Should().BeOfType<AcceptedPlan>();
    }

    [Fact]
    public void a_flex_service_refuses_to_sync_from_a_non_primary_node()
    {
        // C22: Cfg3 + topology = flex, sync all on n1 (up)
        var refusal = Planner.Plan(FlexWithFailoverSite(), Sync(N1), Cluster((N1, Status.Up), (N2, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.SyncFlexNonPrimary);
        refusal.Reason.Should().Contain("flex primary n2").And.Contain("n1 is not it");
    }

    [Fact]
    public void a_flex_service_syncs_from_its_primary()
    {
        // C22: on n2 it proceeds
        var plan = Planner.Plan(FlexWithFailoverSite(), Sync(N2), Cluster((N1, Status.Up), (N2, Status.Up))).Accepted().Plan;

        plan.Lines().Should().Equal("n2 sync sync#0 n3", "n2 sync sync#1 n3");
        plan.Steps.Select(s => s.Driver).Should().Equal("sync.docker", "sync.rsync");
    }

    [Fact]
    public void a_dr_node_whose_targets_are_only_drpnodes_has_no_one_to_send_to()
    {
        // C28: target drpnodes, run on n3 (up after a takeover): no transfer
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Sync(N3), Cluster((N3, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.SyncNoTarget);
        refusal.Reason.Should().Contain("no target nodes").And.Contain("drpnodes holds only n3");
    }

    [Fact]
    public void a_dr_node_never_sends_over_production()
    {
        // C28, target including nodes: the DR copy must never overwrite the primaries
        var svc = new ServiceView("svc1", Topology.Failover, [N1, N2], [N3],
            new Dictionary<NodeName, IReadOnlyList<ResourceView>>
            {
                [N3] = [new(Rid("sync#1"), "sync.rsync") { Targets = SyncTargets.All, Optional = true }],
            });

        var refusal = Planner.Plan(svc, Sync(N3), Cluster((N3, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.SyncDrpToProduction);
        refusal.Reason.Should().Contain("n3 is a DR node").And.Contain("n1, n2");
    }

    [Fact]
    public void a_sync_whose_target_group_is_empty_is_refused_with_no_target_nodes()
    {
        // doc case 2: target = drpnodes, but no drpnodes
        var refusal = Planner.Plan(FlexDocker(), Sync(N2), Cluster((N2, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.SyncNoTarget);
        refusal.Reason.Should().Contain("no target nodes").And.Contain("svc1 has no drpnodes");
    }

    [Fact]
    public void a_named_sync_resource_with_no_target_is_refused_naming_it()
    {
        var request = Sync(N1) with { SyncRid = Rid("sync#0"), SyncTargets = SyncTargets.Nodes };

        var refusal = Planner.Plan(FailoverDockerBtrfs(), request, Cluster((N1, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.SyncNoTarget);
        refusal.Reason.Should().StartWith("sync#0: no target nodes").And.Contain("asked for nodes only");
    }

    [Fact]
    public void sync_all_sends_what_it_can_and_reports_resources_without_targets()
    {
        var svc = new ServiceView("mixed", Topology.Failover, [N1, N2], [],
            new Dictionary<NodeName, IReadOnlyList<ResourceView>>
            {
                [N1] =
                [
                    new(Rid("sync#1"), "sync.rsync") { Targets = SyncTargets.Nodes, Optional = true },
                    new(Rid("sync#0"), "sync.docker") { Targets = SyncTargets.DrpNodes, Optional = true },
                ],
            });

        var result = Planner.Plan(svc, Sync(N1), Cluster((N1, Status.Up))).Accepted();

        result.Plan.Lines().Should().Equal("n1 sync sync#1 n2");
        result.Skipped.Should().ContainSingle(s => s.Rid == Rid("sync#0") && s.Reason.StartsWith("no target nodes"));
    }

    [Fact]
    public void sync_of_an_unknown_rid_is_refused()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Sync(N1) with { SyncRid = Rid("sync#7") }, Cluster((N1, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.Resource);
        refusal.Reason.Should().Contain("sync#7").And.Contain("sync#0, sync#1");
    }

    [Fact]
    public void a_target_whose_agent_is_silent_is_left_out_with_the_reason_and_a_sync_to_it_alone_is_refused()
    {
        var cluster = Cluster((N1, Status.Up)).Unreachable(N3);

        var refusal = Planner.Plan(FailoverDockerBtrfs(), Sync(N1), cluster).Refused();

        refusal.Guard.Should().Be(PlanGuard.NodeUnreachable);
        refusal.Reason.Should().Contain("target n3: its agent is not heartbeating");
    }

    [Fact]
    public void a_scheduled_sync_sends_from_the_primary_node_where_the_service_is_up()
    {
        var scheduled = Request(ServiceAction.Sync, new NodeName("to-be-chosen")) with { ChooseSender = true, SyncRid = Rid("sync#1") };

        var plan = Planner.Plan(FailoverDockerBtrfs(), scheduled, Cluster((N2, Status.Up))).Accepted().Plan;

        plan.Node.Should().Be(N2);
        plan.Lines().Should().Equal("n2 sync sync#1 n3");
    }
}
