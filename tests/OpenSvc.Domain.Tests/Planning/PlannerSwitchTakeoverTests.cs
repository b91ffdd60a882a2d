using FluentAssertions;
using OpenSvc.Domain.Planning;
using Xunit;
using static OpenSvc.Domain.Tests.Planning.SeedServices;

namespace OpenSvc.Domain.Tests.Planning;

public class PlannerSwitchTakeoverTests
{
    static ActionRequest SwitchTo(NodeName to) => Request(ServiceAction.Switch, N1) with { To = to };

    [Fact]
    public void switch_stops_on_the_running_node_then_starts_on_the_destination()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), SwitchTo(N2), Cluster((N1, Status.Up))).Accepted().Plan;

        plan.Lines().Should().Equal(
            "n1 stop container#1", "n1 stop ip#0", "n1 stop container#0", "n1 stop fs#1", "n1 stop fs#0",
            "n2 start fs#0", "n2 start fs#1", "n2 start container#0", "n2 start ip#0", "n2 start container#1");
        plan.Node.Should().Be(N1);
        plan.To.Should().Be(N2);
        plan.Steps[5].WaitsFor.Should().Equal(4);
        plan.Steps.Take(5).Should().OnlyContain(s => s.Compensation == null);
        plan.Steps.Skip(5).Should().OnlyContain(s => s.Compensation == ResourceAction.Stop);
    }

    [Fact]
    public void switch_finds_the_running_node_from_the_cluster_not_from_where_it_was_asked()
    {
        var request = Request(ServiceAction.Switch, N3) with { To = N1 };

        var plan = Planner.Plan(FailoverDockerBtrfs(), request, Cluster((N2, Status.Up))).Accepted().Plan;

        plan.Node.Should().Be(N2);
        plan.Steps.First().Node.Should().Be(N2);
        plan.Steps.Last().Node.Should().Be(N1);
    }

    [Fact]
    public void switch_to_the_dr_node_does_not_compensate_its_standby_filesystems()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), SwitchTo(N3), Cluster((N1, Status.Up))).Accepted().Plan;

        var n3 = plan.Steps.Where(s => s.Node == N3).ToArray();
        n3.Where(s => s.Driver == "fs").Should().OnlyContain(s => s.Compensation == null);
        n3.Where(s => s.Driver != "fs").Should().OnlyContain(s => s.Compensation == ResourceAction.Stop);
    }

    [Fact]
    public void switch_refuses_the_node_where_the_service_already_runs()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), SwitchTo(N1), Cluster((N1, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.Switch);
        refusal.Reason.Should().Contain("already runs on n1");
    }

    [Fact]
    public void switch_refuses_a_destination_outside_nodes_and_drpnodes()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), SwitchTo(new NodeName("n9")), Cluster((N1, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.Switch);
        refusal.Reason.Should().Contain("n9").And.Contain("neither nodes");
    }

    [Fact]
    public void switch_without_a_destination_is_refused()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Switch, N1), Cluster((N1, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.InvalidRequest);
        refusal.Reason.Should().Contain("--to");
    }

    [Fact]
    public void switch_of_a_service_that_runs_nowhere_suggests_a_start()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), SwitchTo(N2), Cluster()).Refused();

        refusal.Guard.Should().Be(PlanGuard.Switch);
        refusal.Reason.Should().Contain("not up on any node").And.Contain("start");
    }

    [Fact]
    public void switch_refuses_when_the_running_node_cannot_stop_it()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), SwitchTo(N2), Cluster().Unreachable(N1, Status.Up)).Refused();

        refusal.Guard.Should().Be(PlanGuard.NodeUnreachable);
        refusal.Reason.Should().Contain("n1");
    }

    [Fact]
    public void takeover_refuses_while_primary_is_up()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Takeover, N3), Cluster((N2, Status.Up), (N3, Status.StandbyUp))).Refused();

        refusal.Guard.Should().Be(PlanGuard.RunningElsewhere);
        refusal.Reason.Should().Contain("up on n2").And.Contain("switch --to n3").And.Contain("stop it on n2");
    }

    [Fact]
    public void takeover_refuses_an_unreachable_primary_without_force()
    {
        var cluster = Cluster((N3, Status.StandbyUp)).Unreachable(N1, Status.Up);

        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Takeover, N3), cluster).Refused();

        refusal.Guard.Should().Be(PlanGuard.PeerStateUnknown);
        refusal.Reason.Should().Contain("n1").And.Contain("unknown").And.Contain("--force").And.Contain("--reason");
    }

    [Fact]
    public void takeover_refuses_force_without_a_reason()
    {
        var cluster = Cluster((N3, Status.StandbyUp)).Unreachable(N1, Status.Up);
        var request = Request(ServiceAction.Takeover, N3) with { Force = true, Reason = "  " };

        var refusal = Planner.Plan(FailoverDockerBtrfs(), request, cluster).Refused();

        refusal.Guard.Should().Be(PlanGuard.InvalidRequest, "force without a reason is refused for every action, by the request's own rules");
        refusal.Reason.Should().Contain("--force needs --reason");
    }

    [Fact]
    public void takeover_with_force_and_a_reason_starts_everything_on_the_dr_node()
    {
        var cluster = Cluster((N3, Status.StandbyUp)).Unreachable(N1, Status.Up);
        var request = Request(ServiceAction.Takeover, N3) with { Force = true, Reason = "site A lost power, n1 fenced" };

        var plan = Planner.Plan(FailoverDockerBtrfs(), request, cluster).Accepted().Plan;

        plan.Lines().Should().Equal(
            "n3 start fs#0", "n3 start fs#1", "n3 start container#0", "n3 start ip#0", "n3 start container#1");
        plan.Action.Should().Be(ServiceAction.Takeover);
        plan.Steps.Where(s => s.Driver == "fs").Should().OnlyContain(s => s.Compensation == null);
        plan.Steps.Where(s => s.Driver != "fs").Should().OnlyContain(s => s.Compensation == ResourceAction.Stop);
    }

    [Fact]
    public void force_does_not_override_a_primary_known_to_be_up()
    {
        var request = Request(ServiceAction.Takeover, N3) with { Force = true, Reason = "drill" };

        var refusal = Planner.Plan(FailoverDockerBtrfs(), request, Cluster((N1, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.RunningElsewhere);
    }

    [Fact]
    public void takeover_proceeds_when_every_primary_is_reachable_and_down()
    {
        var result = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Takeover, N3), Cluster((N3, Status.StandbyUp)));

        result.Accepted().Plan.Steps.Should().HaveCount(5);
    }

    [Fact]
    public void takeover_on_a_primary_node_is_refused_with_a_pointer_to_switch()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Takeover, N2), Cluster((N1, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.Takeover);
        refusal.Reason.Should().Contain("switch --to n2");
    }
}
