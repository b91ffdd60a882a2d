using FluentAssertions;
using OpenSvc.Domain.Planning;
using Xunit;
using static OpenSvc.Domain.Tests.Planning.SeedServices;

namespace OpenSvc.Domain.Tests.Planning;

public class PlannerReprotectGivebackTests
{
    static readonly ProtectionReversal N3ToN1 = new(N3, [N1], new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero), Guid.Parse("01a21044-0000-7000-8000-000000000001"), "alice");

    static ClusterState UpOnN3(ProtectionReversal? reversal = null) => Cluster((N3, Status.Up)) with { Reversal = reversal };

    [Fact]
    public void reprotect_mounts_the_primarys_receiving_filesystems_then_sends_every_dr_copy_back_from_the_dr_node()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Reprotect, N3), UpOnN3()).Accepted().Plan;

        plan.Lines().Should().Equal(
            "n1 startstandby fs#0", "n1 startstandby fs#1",
            "n3 sync sync#0 n1", "n3 sync sync#1 n1");
        plan.Node.Should().Be(N3);
        plan.To.Should().Be(N1);
        plan.Steps.Should().OnlyContain(s => s.Compensation == null, "the receiving mounts stay, as a DR node's standby filesystems do");
        plan.Steps.Should().OnlyContain(s => !s.Optional, "the reverse copy is the point of the run");
        plan.ShapeProblem().Should().BeNull();
    }

    [Fact]
    public void reprotect_refuses_a_primary_node_the_service_not_up_there_and_an_already_reversed_protection()
    {
        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Reprotect, N1), Cluster((N1, Status.Up))).Refused()
            .Reason.Should().Contain("n1 is a primary node");
        var down = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Reprotect, N3), Cluster()).Refused();
        down.Guard.Should().Be(PlanGuard.Protection);
        down.Reason.Should().Contain("svc takeover svc1 --node n3");
        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Reprotect, N3), UpOnN3(N3ToN1)).Refused()
            .Reason.Should().Contain("already reversed (n3 → n1, since 2026-12-02 09:00:00Z)");
    }

    [Fact]
    public void reprotect_refuses_while_the_service_also_runs_on_a_primary_or_the_primary_is_silent()
    {
        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Reprotect, N3), Cluster((N3, Status.Up), (N2, Status.Warn))).Refused()
            .Guard.Should().Be(PlanGuard.RunningElsewhere);
        var silent = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Reprotect, N3), Cluster((N3, Status.Up)).Unreachable(N1)).Refused();
        silent.Guard.Should().Be(PlanGuard.NodeUnreachable);
        silent.Reason.Should().Contain("mount its receiving filesystems");
    }

    [Fact]
    public void reprotect_refuses_a_flex_service()
    {
        Planner.Plan(FlexWithFailoverSite(), Request(ServiceAction.Reprotect, N3), Cluster((N3, Status.Up))).Refused()
            .Reason.Should().Contain("flex service");
    }

    [Fact]
    public void giveback_stops_on_the_dr_node_sends_the_quiet_data_then_starts_on_the_preferred_primary()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Giveback, N3), UpOnN3(N3ToN1)).Accepted().Plan;

        plan.Lines().Should().Equal(
            "n1 startstandby fs#0", "n1 startstandby fs#1",
            "n3 sync sync#0 n1",
            "n3 stop container#1", "n3 stop ip#0", "n3 stop container#0",
            "n3 sync sync#1 n1",
            "n1 start container#0", "n1 start ip#0", "n1 start container#1");
        plan.Node.Should().Be(N3);
        plan.To.Should().Be(N1);
        plan.Steps.Skip(3).Take(3).Should().OnlyContain(s => s.Compensation == ResourceAction.Start, "a failed giveback starts the service again where it ran");
        plan.Steps.Skip(7).Should().OnlyContain(s => s.Compensation == ResourceAction.Stop);
        plan.Steps.Where(s => s.Action == ResourceAction.Sync).Should().OnlyContain(s => !s.Optional, "a failed send fails the giveback");
        plan.Steps.Single(s => s.Rid == Rid("sync#1")).Index.Should().Be(6, "the data is sent after every stop: the images before, from the running dockerd");
    }

    [Fact]
    public void giveback_without_rollback_compensates_nothing()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(rollback: false), Request(ServiceAction.Giveback, N3), UpOnN3(N3ToN1)).Accepted().Plan;

        plan.Steps.Where(s => s.Node == N3 && s.Action == ResourceAction.Stop).Should().OnlyContain(s => s.Compensation == null);
    }

    [Fact]
    public void giveback_needs_a_reprotect_first_and_runs_from_the_reversals_sender()
    {
        var notReversed = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Giveback, N3), UpOnN3()).Refused();
        notReversed.Guard.Should().Be(PlanGuard.Protection);
        notReversed.Reason.Should().Contain("svc reprotect svc1 --node n3");
        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Giveback, N1), UpOnN3(N3ToN1)).Refused()
            .Reason.Should().Contain("svc giveback svc1 --node n3");
    }

    [Fact]
    public void giveback_refuses_when_the_primary_is_silent_or_already_runs_it()
    {
        var silent = Cluster((N3, Status.Up)).Unreachable(N1) with { Reversal = N3ToN1 };
        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Giveback, N3), silent).Refused().Guard.Should().Be(PlanGuard.NodeUnreachable);
        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Giveback, N3), Cluster((N1, Status.Up)) with { Reversal = N3ToN1 }).Refused()
            .Reason.Should().Contain("already runs on n1");
    }

    [Fact]
    public void giveback_with_a_silent_other_primary_needs_force_and_a_reason()
    {
        var cluster = Cluster((N3, Status.Up)).Unreachable(N2) with { Reversal = N3ToN1 };

        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Giveback, N3), cluster).Refused().Guard.Should().Be(PlanGuard.PeerStateUnknown);
        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Giveback, N3) with { Force = true, Reason = "n2 is powered off" }, cluster)
            .Accepted().Plan.Steps.Should().NotBeEmpty();
    }

    [Fact]
    public void while_reversed_syncs_send_from_the_dr_node_to_the_primary()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Sync, N3), UpOnN3(N3ToN1)).Accepted().Plan;

        plan.Lines().Should().Equal("n3 sync sync#0 n1", "n3 sync sync#1 n1");
        plan.Steps.Should().OnlyContain(s => s.Optional, "a scheduled sync keeps its resources' optional flag");
    }

    [Fact]
    public void while_reversed_a_scheduled_sync_sends_from_the_reversals_sender()
    {
        var scheduled = new ActionRequest("svc1", ServiceAction.Sync, new NodeName("to-be-chosen"), "scheduler") { ChooseSender = true, SyncRid = Rid("sync#1") };
        var cluster = UpOnN3(N3ToN1);

        var request = Planner.Complete(FailoverDockerBtrfs(), scheduled, cluster);
        var plan = Planner.Plan(FailoverDockerBtrfs(), request, cluster).Accepted().Plan;

        plan.Lines().Should().Equal("n3 sync sync#1 n1");
    }

    [Fact]
    public void while_reversed_a_sync_from_the_primary_is_refused_it_would_overwrite_the_newer_copy()
    {
        var refusal = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Sync, N1) with { Force = true, Reason = "try" },
            Cluster((N1, Status.Warn)) with { Reversal = N3ToN1 }).Refused();

        refusal.Guard.Should().Be(PlanGuard.Protection);
        refusal.Reason.Should().Contain("would overwrite the newer copy");
    }

    [Fact]
    public void while_reversed_starting_on_another_node_is_refused_unless_forced_with_a_reason()
    {
        var stopped = Cluster() with { Reversal = N3ToN1 };

        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1), stopped).Refused().Reason.Should().Contain("svc giveback svc1 --node n3");
        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Switch, N3) with { To = N2 }, UpOnN3(N3ToN1)).Refused().Guard.Should().Be(PlanGuard.Protection);
        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N3), stopped).Should().BeOfType<AcceptedPlan>();
        Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1) with { Force = true, Reason = "n3's site is lost" }, stopped)
            .Should().BeOfType<AcceptedPlan>();
    }

    [Fact]
    public void the_dry_run_of_a_giveback_assumes_the_protection_reversed_from_its_node()
    {
        var view = FailoverDockerBtrfs();
        var request = Request(ServiceAction.Giveback, N3);

        var plan = Planner.Plan(view, request, DryRunState.For(view, request)).Accepted().Plan;

        plan.To.Should().Be(N1);
        PlanPrinter.ToText(plan).Should().StartWith("giveback svc1 on n3 to n1 (rollback on, 10 steps)\n");
    }

    [Fact]
    public void the_new_actions_have_words_operators_type()
    {
        ActionWords.ParseServiceAction("reprotect").Should().Be(ServiceAction.Reprotect);
        ActionWords.ParseServiceAction("giveback").Should().Be(ServiceAction.Giveback);
        ActionRequest.Parse("svc1", "giveback", "n3", "alice").Request!.Action.Should().Be(ServiceAction.Giveback);
    }
}
