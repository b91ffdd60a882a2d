using FluentAssertions;
using OpenSvc.Domain.Planning;
using Xunit;
using static OpenSvc.Domain.Tests.Planning.SeedServices;

namespace OpenSvc.Domain.Tests.Planning;

public class PlannerDrillTests
{
    [Fact]
    public void a_drill_clones_the_copies_then_starts_drill_counterparts_in_start_order_then_checks_the_service()
    {
        var accepted = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Drill, N3), Cluster((N1, Status.Up))).Accepted();
        var plan = accepted.Plan;

        plan.Lines().Should().Equal(
            "n3 drill-start sync#0", "n3 drill-start sync#1",
            "n3 drill-start fs#0", "n3 drill-start fs#1", "n3 drill-start container#0", "n3 drill-start ip#0", "n3 drill-start container#1",
            "n3 drill-check container#0");
        plan.Rollback.Should().BeTrue("a failed drill always removes what it started");
        plan.Steps.Take(7).Should().OnlyContain(s => s.Compensation == ResourceAction.DrillStop && !s.Optional);
        plan.Steps[7].Compensation.Should().BeNull();
        plan.Steps[7].Policy.MaxAttempts.Should().BeGreaterThan(3, "the check may have to wait for the service to come up");
        plan.Steps.Should().OnlyContain(s => s.Node == N3 && s.Policy.Timeout <= TimeSpan.FromMinutes(5));
        plan.ShapeProblem().Should().BeNull();
    }

    [Fact]
    public void a_drill_makes_the_sync_copies_at_once_and_each_resource_waits_only_for_the_copies_it_needs()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Drill, N3), Cluster((N1, Status.Up))).Accepted().Plan;

        // 1 image check and 2 clone wait for nothing; the fs mounts wait for the clone, the first container for the
        // images and the fs before it; then the start order as a takeover's, then the check.
        plan.Steps.Select(s => s.WaitsFor).Should().BeEquivalentTo(
            new int[][] { [], [], [1], [2], [0, 3], [4], [5], [6] }, o => o.WithStrictOrdering());
        PlanPrinter.ToText(plan).Split('\n')[2].Should().EndWith("compensate: drill-stop  waits for nothing");
        PlanPrinter.ToText(plan).Split('\n')[5].Should().EndWith("compensate: drill-stop  after 1, 4");
    }

    [Fact]
    public void a_drill_check_waits_for_an_rsync_copy_that_feeds_no_drill_resource()
    {
        var plan = Planner.Plan(FlexWithFailoverSite(), Request(ServiceAction.Drill, N3), Cluster((N1, Status.Up))).Accepted().Plan;

        plan.Lines().Should().Equal(
            "n3 drill-start sync#0", "n3 drill-start sync#1",
            "n3 drill-start fs#0", "n3 drill-start fs#1", "n3 drill-start container#0", "n3 drill-start ip#0", "n3 drill-start container#1",
            "n3 drill-check container#0");
        // rsync says it cannot clone and checks the copy instead: nothing starts from it, only the final check waits for it.
        plan.Steps.Select(s => s.WaitsFor).Should().BeEquivalentTo(
            new int[][] { [], [], [], [2], [0, 3], [4], [5], [1, 6] }, o => o.WithStrictOrdering());
    }

    [Fact]
    public void a_drill_keeps_its_keep_period_in_the_plan()
    {
        var request = Request(ServiceAction.Drill, N3) with { Keep = TimeSpan.FromHours(2) };

        var plan = Planner.Plan(FailoverDockerBtrfs(), request, Cluster((N1, Status.Up))).Accepted().Plan;

        plan.Keep.Should().Be(TimeSpan.FromHours(2));
        PlanPrinter.ToText(plan).Should().StartWith("drill svc1 on n3 (rollback on, 8 steps, cleaned up on its own 2h00m after its request)");
        PlanPrinter.ToJson(plan).Should().Contain("\"keepSeconds\": 7200");
    }

    [Fact]
    public void drill_cleanup_removes_in_the_exact_reverse_of_the_drill_and_undoes_nothing()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.DrillCleanup, N3), Cluster((N1, Status.Up))).Accepted().Plan;

        plan.Lines().Should().Equal(
            "n3 drill-stop container#1", "n3 drill-stop ip#0", "n3 drill-stop container#0", "n3 drill-stop fs#1", "n3 drill-stop fs#0",
            "n3 drill-stop sync#1", "n3 drill-stop sync#0");
        plan.Rollback.Should().BeFalse();
        plan.Steps.Should().OnlyContain(s => s.Compensation == null);
    }

    [Fact]
    public void a_drill_runs_while_production_is_up_but_refuses_a_primary_node()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Drill, N2), Cluster((N1, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.Drill);
        refusal.Reason.Should().Contain("n2 is a primary node");
    }

    [Fact]
    public void a_drill_refuses_the_dr_node_where_the_service_runs_for_real()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Drill, N3), Cluster((N3, Status.Up))).Refused();

        refusal.Guard.Should().Be(PlanGuard.Drill);
        refusal.Reason.Should().Contain("runs on n3");
    }

    [Fact]
    public void a_drill_refuses_a_dr_node_whose_agent_is_silent()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Drill, N3), Cluster((N1, Status.Up)).Unreachable(N3)).Refused();

        refusal.Guard.Should().Be(PlanGuard.NodeUnreachable);
    }

    [Fact]
    public void keep_is_for_drills_only_and_must_be_a_positive_duration()
    {
        ActionRequest.Parse("svc1", "drill", "n3", "alice", keep: "90m").Request!.Keep.Should().Be(TimeSpan.FromMinutes(90));
        ActionRequest.Parse("svc1", "drill-cleanup", "n3", "alice").Request!.Action.Should().Be(ServiceAction.DrillCleanup);
        ActionRequest.Parse("svc1", "start", "n1", "alice", keep: "1h").Problem.Should().Contain("--keep is for drill only");
        ActionRequest.Parse("svc1", "drill", "n3", "alice", keep: "soon").Problem.Should().Contain("not a positive duration");
        ActionRequest.Parse("svc1", "drill", "n3", "alice", keep: "-1h").Problem.Should().Contain("not a positive duration");
    }

    [Fact]
    public void the_dry_run_of_a_drill_assumes_production_up_on_the_first_node()
    {
        var view = FailoverDockerBtrfs();

        var state = DryRunState.For(view, Request(ServiceAction.Drill, N3));

        state[N1].Instance.Should().Be(Status.Up);
        state[N3].Instance.Should().Be(Status.Down);
    }
}
