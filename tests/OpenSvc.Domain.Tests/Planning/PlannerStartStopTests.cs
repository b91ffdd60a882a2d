using OpenSvc.Domain.Config;
using FluentAssertions;
using OpenSvc.Domain.Planning;
using Xunit;
using static OpenSvc.Domain.Tests.Planning.SeedServices;

namespace OpenSvc.Domain.Tests.Planning;

public class PlannerStartStopTests
{
    [Fact]
    public void start_on_n1_mounts_fs_then_starts_each_container_with_its_netns_ip_right_after_it()
    {
        // C13
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1), Cluster()).Accepted().Plan;

        plan.Lines().Should().Equal(
            "n1 start fs#0", "n1 start fs#1", "n1 start container#0", "n1 start ip#0", "n1 start container#1");
        plan.Node.Should().Be(N1);
        plan.Action.Should().Be(ServiceAction.Start);
    }

    [Fact]
    public void stop_on_n1_is_the_reverse_of_start_with_the_netns_ip_just_before_its_container()
    {
        // C14
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Stop, N1), Cluster((N1, Status.Up))).Accepted().Plan;

        plan.Lines().Should().Equal(
            "n1 stop container#1", "n1 stop ip#0", "n1 stop container#0", "n1 stop fs#1", "n1 stop fs#0");
        plan.Steps.Should().OnlyContain(s => s.Compensation == null);
    }

    [Fact]
    public void stop_on_the_dr_node_leaves_standby_filesystems_up_and_says_so()
    {
        // C15
        var result = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Stop, N3), Cluster((N3, Status.Up))).Accepted();

        result.Plan.Lines().Should().Equal("n3 stop container#1", "n3 stop ip#0", "n3 stop container#0");
        result.Skipped.Select(s => s.Rid.ToString()).Should().Equal("fs#1", "fs#0");
        result.Skipped.Should().OnlyContain(s => s.Node == N3 && s.Reason.Contains("standby"));
    }

    [Fact]
    public void forced_stop_on_the_dr_node_also_stops_standby_filesystems()
    {
        var request = Request(ServiceAction.Stop, N3) with { Force = true, Reason = "DR site maintenance" };

        var result = Planner.Plan(FailoverDockerBtrfs(), request, Cluster((N3, Status.Up))).Accepted();

        result.Plan.Lines().Should().Equal(
            "n3 stop container#1", "n3 stop ip#0", "n3 stop container#0", "n3 stop fs#1", "n3 stop fs#0");
        result.Skipped.Should().BeEmpty();
    }

    [Fact]
    public void startstandby_on_the_dr_node_starts_only_the_standby_filesystems_and_never_compensates_them()
    {
        // C16
        var result = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.StartStandby, N3), Cluster()).Accepted();

        result.Plan.Lines().Should().Equal("n3 startstandby fs#0", "n3 startstandby fs#1");
        result.Plan.Steps.Should().OnlyContain(s => s.Compensation == null);
        result.Skipped.Select(s => s.Rid.ToString()).Should().BeEquivalentTo(["container#0", "ip#0", "container#1"]);
    }

    [Fact]
    public void startstandby_where_nothing_is_standby_is_refused_rather_than_a_silent_no_op()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.StartStandby, N1), Cluster()).Refused();

        refusal.Guard.Should().Be(PlanGuard.NothingToDo);
        refusal.Reason.Should().Contain("not standby on n1");
    }

    static ServiceView RollbackCase(bool rollback) => new(
        "svc17", Topology.Failover, [N1], [],
        new Dictionary<NodeName, IReadOnlyList<ResourceView>>
        {
            [N1] =
            [
                new(Rid("fs#1"), "fs") { MountPoint = "/srv/a" },
                new(Rid("fs#2"), "fs") { MountPoint = "/srv/b", Standby = true },
                new(Rid("app#2"), "app"),
            ],
        },
        rollback: rollback);

    [Fact]
    public void a_start_compensates_only_the_non_standby_resources_it_starts()
    {
        // C17: with standby@n1 on fs#2, only fs#1 is rolled back (and the app, had it started).
        var plan = Planner.Plan(RollbackCase(rollback: true), Request(ServiceAction.Start, N1), Cluster()).Accepted().Plan;

        plan.Lines().Should().Equal("n1 start fs#1", "n1 start fs#2", "n1 start app#2");
        plan.Steps.Select(s => s.Compensation).Should().Equal(ResourceAction.Stop, null, ResourceAction.Stop);
        plan.Rollback.Should().BeTrue();
    }

    [Fact]
    public void with_rollback_off_no_start_step_is_compensated()
    {
        // C17: rollback = false → "skip rollback"
        var plan = Planner.Plan(RollbackCase(rollback: false), Request(ServiceAction.Start, N1), Cluster()).Accepted().Plan;

        plan.Steps.Should().HaveCount(3).And.OnlyContain(s => s.Compensation == null);
        plan.Rollback.Should().BeFalse();
    }

    [Fact]
    public void every_seed_start_step_on_a_primary_node_is_compensated_by_a_stop()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1), Cluster()).Accepted().Plan;

        plan.Steps.Should().OnlyContain(s => s.Compensation == ResourceAction.Stop);
    }

    [Fact]
    public void filesystems_start_by_the_parent_directory_of_their_mount_point_then_by_rid_as_a_string()
    {
        var svc = new ServiceView("fsorder", Topology.Failover, [N1], [],
            new Dictionary<NodeName, IReadOnlyList<ResourceView>>
            {
                [N1] =
                [
                    new(Rid("fs#0"), "fs") { MountPoint = "/srv/svc/data/logs" },
                    new(Rid("fs#2"), "fs") { MountPoint = "/srv/svc/data" },
                    new(Rid("fs#10"), "fs") { MountPoint = "/srv/svc/bin" },
                    new(Rid("fs#1"), "fs") { MountPoint = "/srv/svc" },
                ],
            });

        var start = Planner.Plan(svc, Request(ServiceAction.Start, N1), Cluster()).Accepted().Plan;
        var stop = Planner.Plan(svc, Request(ServiceAction.Stop, N1), Cluster()).Accepted().Plan;

        // dirnames: /srv (fs#1), /srv/svc (fs#10, fs#2: "fs#10" < "fs#2" as strings), /srv/svc/data (fs#0)
        start.Lines().Should().Equal("n1 start fs#1", "n1 start fs#10", "n1 start fs#2", "n1 start fs#0");
        stop.Lines().Should().Equal("n1 stop fs#0", "n1 stop fs#2", "n1 stop fs#10", "n1 stop fs#1");
    }

    [Fact]
    public void host_ips_start_first_apps_last_and_sync_resources_take_no_part()
    {
        var svc = new ServiceView("groups", Topology.Failover, [N1], [],
            new Dictionary<NodeName, IReadOnlyList<ResourceView>>
            {
                [N1] =
                [
                    new(Rid("app#0"), "app"),
                    new(Rid("sync#0"), "sync.rsync") { Targets = SyncTargets.All },
                    new(Rid("container#0"), "container.docker"),
                    new(Rid("disk#0"), "disk.vg"),
                    new(Rid("fs#0"), "fs") { MountPoint = "/srv/x" },
                    new(Rid("ip#1"), "ip"),
                ],
            });

        var plan = Planner.Plan(svc, Request(ServiceAction.Start, N1), Cluster()).Accepted().Plan;

        plan.Lines().Should().Equal(
            "n1 start ip#1", "n1 start disk#0", "n1 start fs#0", "n1 start container#0", "n1 start app#0");
    }

    [Fact]
    public void disabled_resources_and_ips_of_a_disabled_container_are_left_out_and_reported()
    {
        var svc = new ServiceView("dis", Topology.Failover, [N1], [],
            new Dictionary<NodeName, IReadOnlyList<ResourceView>>
            {
                [N1] =
                [
                    new(Rid("container#0"), "container.docker") { Disabled = true },
                    new(Rid("ip#0"), "ip.docker") { Netns = Rid("container#0") },
                    new(Rid("fs#0"), "fs") { MountPoint = "/srv/x" },
                ],
            });

        var result = Planner.Plan(svc, Request(ServiceAction.Start, N1), Cluster()).Accepted();

        result.Plan.Lines().Should().Equal("n1 start fs#0");
        result.Skipped.Should().BeEquivalentTo(new[]
        {
            new SkippedResource(N1, Rid("container#0"), "disabled"),
            new SkippedResource(N1, Rid("ip#0"), "its container container#0 is not active on n1"),
        });
    }

    [Fact]
    public void a_resource_the_planner_cannot_place_refuses_the_plan_instead_of_guessing()
    {
        var svc = new ServiceView("odd", Topology.Failover, [N1], [],
            new Dictionary<NodeName, IReadOnlyList<ResourceView>> { [N1] = [new(Rid("hb#0"), "hb.openha")] });

        var refusal = Planner.Plan(svc, Request(ServiceAction.Start, N1), Cluster()).Refused();

        refusal.Guard.Should().Be(PlanGuard.Resource);
        refusal.Reason.Should().Contain("hb#0");
    }

    [Fact]
    public void steps_are_numbered_from_one_and_each_waits_for_the_previous()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1), Cluster()).Accepted().Plan;

        plan.Steps.Select(s => s.Index).Should().Equal(0, 1, 2, 3, 4);
        plan.Steps[0].WaitsFor.Should().BeEmpty();
        plan.Steps.Skip(1).Should().OnlyContain(s => s.WaitsFor.SequenceEqual(new[] { s.Index - 1 }));
    }

    [Fact]
    public void steps_carry_the_policy_of_their_driver()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1), Cluster()).Accepted().Plan;

        plan.Steps.Single(s => s.Rid == Rid("fs#0")).Policy.Should().Be(new StepPolicy(TimeSpan.FromMinutes(2), 3, TimeSpan.FromSeconds(5)));
        plan.Steps.Single(s => s.Rid == Rid("container#0")).Policy.Timeout.Should().Be(TimeSpan.FromMinutes(5));
        DriverCatalog.PolicyOf("sync.btrfs").Should().Be(new StepPolicy(TimeSpan.FromHours(4), 2, TimeSpan.FromMinutes(1)));
        DriverCatalog.PolicyOf("share.nfs").Should().Be(StepPolicy.Default);
    }

    [Fact]
    public void start_refuses_a_failover_service_already_up_on_another_node_and_names_it()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1), Cluster((N2, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.RunningElsewhere);
        refusal.Reason.Should().Contain("already up on n2").And.Contain("switch --to n1");
    }

    [Fact]
    public void start_refuses_a_failover_service_partly_up_elsewhere()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1), Cluster((N2, Status.Warn))).Refused();

        refusal.Guard.Should().Be(PlanGuard.RunningElsewhere);
        refusal.Reason.Should().Contain("partly up (warn) on n2");
    }

    [Fact]
    public void start_on_a_primary_is_allowed_while_the_dr_node_holds_only_standby_resources()
    {
        var result = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1), Cluster((N3, Status.StandbyUp)));

        result.Should().BeOfType<AcceptedPlan>();
    }

    [Fact]
    public void a_flex_service_may_start_on_a_node_while_up_on_others()
    {
        var result = Planner.Plan(FlexDocker(), Request(ServiceAction.Start, N1), Cluster((N2, Status.Up), (N3, Status.Up)));

        result.Accepted().Plan.Steps.Should().HaveCount(5);
    }

    [Fact]
    public void start_refuses_while_a_peer_is_unreachable_unless_forced_with_a_reason()
    {
        var cluster = Cluster().Unreachable(N2);

        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1), cluster).Refused();
        var forced = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1) with { Force = true, Reason = "n2 powered off by DC ops" }, cluster);

        refusal.Guard.Should().Be(PlanGuard.PeerStateUnknown);
        refusal.Reason.Should().Contain("n2").And.Contain("--force").And.Contain("--reason");
        forced.Should().BeOfType<AcceptedPlan>();
    }

    [Fact]
    public void the_orchestrators_start_counts_a_silent_peer_as_down_unless_it_last_reported_the_service_up()
    {
        var orchestrated = Request(ServiceAction.Start, N1) with { RequestedBy = "orchestrator@n1", Orchestrated = true };

        Planner.Plan(FailoverDockerBtrfs(), orchestrated, Cluster().Unreachable(N2)).Accepted().Plan.Lines().Should().StartWith("n1 start fs#0");
        Planner.Plan(FailoverDockerBtrfs(), orchestrated, Cluster().Unreachable(N2, Status.Down)).Should().BeOfType<AcceptedPlan>();
        var lastUp = Planner.Plan(FailoverDockerBtrfs(), orchestrated, Cluster().Unreachable(N2, Status.Up)).Refused();
        lastUp.Guard.Should().Be(PlanGuard.PeerStateUnknown);
        lastUp.Reason.Should().Contain("n2 is not heartbeating and last reported svc1 up there");
        Planner.Plan(FailoverDockerBtrfs(), orchestrated, Cluster((N2, Status.Up))).Refused().Guard.Should().Be(PlanGuard.RunningElsewhere);
    }

    [Fact]
    public void nothing_is_planned_on_a_node_whose_agent_is_not_heartbeating()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Stop, N1), Cluster().Unreachable(N1, Status.Up)).Refused();

        refusal.Guard.Should().Be(PlanGuard.NodeUnreachable);
        refusal.Reason.Should().Contain("n1");
    }

    [Fact]
    public void a_node_outside_nodes_and_drpnodes_is_refused()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, new NodeName("n9")), Cluster()).Refused();

        refusal.Guard.Should().Be(PlanGuard.InvalidRequest);
        refusal.Reason.Should().Contain("n9").And.Contain("n1, n2").And.Contain("n3");
    }

    [Theory]
    [InlineData("/srv/svc1/docker", "/srv/svc1")]
    [InlineData("/srv/svc1/data/", "/srv/svc1/data")]
    [InlineData("/srv", "/")]
    [InlineData("/", "/")]
    [InlineData("relative", "")]
    [InlineData("//srv//a", "//srv")]
    public void dirname_matches_python(string path, string expected) =>
        Planner.DirName(path).Should().Be(expected);
}
