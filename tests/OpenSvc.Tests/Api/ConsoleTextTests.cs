using FluentAssertions;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.WebConsole;
using OpenSvc.Workflows.Monitoring;
using Xunit;

namespace OpenSvc.Tests.Api;

/// <summary>How the console words plans and charts sync runs: pure functions over the domain's plans, statuses and runs.</summary>
public sealed class ConsoleTextTests
{
    static readonly DateTimeOffset Now = new(2026, 12, 2, 3, 0, 0, TimeSpan.Zero);
    static readonly NodeName N1 = new("n1");
    static readonly NodeName N3 = new("n3");

    static PlanStep Step(int i, NodeName node, string rid, ResourceAction action, NodeName? target = null) =>
        new(i, node, ResourceId.Parse(rid), "fs", action, [], StepPolicy.Default, Target: target);

    static ServiceStatusView Status(params SyncLagView[] syncs) => new("svc1", "failover", "v1 (x)", Domain.Status.Down, Domain.Status.Down, [], syncs);

    [Fact]
    public void a_takeover_says_where_it_starts_and_how_much_it_loses()
    {
        var plan = new Plan("svc1", ServiceAction.Takeover, N3, null, false, [Step(0, N3, "fs#0", ResourceAction.Start), Step(1, N3, "container#0", ResourceAction.Start)]);
        var status = Status(new SyncLagView("sync#0", "n3", Domain.Status.Up, "", Now.AddMinutes(-4), Guid.NewGuid()),
            new SyncLagView("sync#1", "n3", Domain.Status.Up, "", Now.AddMinutes(-2), Guid.NewGuid()));
        ConsoleText.PlanSentence(plan, status, Now).Should().Be("svc1 will be started on n3 from data synced 4 minutes ago: changes of the last 4 minutes will be lost.");
    }

    [Fact]
    public void a_copy_never_synced_makes_the_loss_unknown_and_a_switch_names_both_nodes()
    {
        var takeover = new Plan("svc1", ServiceAction.Takeover, N3, null, false, [Step(0, N3, "fs#0", ResourceAction.Start)]);
        ConsoleText.PlanSentence(takeover, Status(new SyncLagView("sync#1", "n3", Domain.Status.Warn, "never synced", null, null)), Now)
            .Should().Be("svc1 will be started on n3, but sync#1 was never synced to n3: what would be lost is unknown.");
        var sw = new Plan("svc1", ServiceAction.Switch, N1, new NodeName("n2"), false,
            [Step(0, N1, "fs#0", ResourceAction.Stop), Step(1, new NodeName("n2"), "fs#0", ResourceAction.Start)]);
        ConsoleText.PlanSentence(sw, null, Now).Should().Be("svc1 will be stopped on n1 and started on n2.");
        var sync = new Plan("svc1", ServiceAction.Sync, N1, null, false, [Step(0, N3, "sync#0", ResourceAction.PrepareReceive), Step(1, N1, "sync#0", ResourceAction.Sync, N3)]);
        ConsoleText.PlanSentence(sync, null, Now).Should().Be("svc1 will be synced (sync#0 from n1 to n3).");
    }

    [Fact]
    public void drill_giveback_and_reprotect_plans_say_what_happens_and_what_is_kept()
    {
        var drill = new Plan("svc1", ServiceAction.Drill, N3, null, true,
            [Step(0, N3, "sync#1", ResourceAction.DrillStart), Step(1, N3, "container#1", ResourceAction.DrillStart), Step(2, N3, "container#1", ResourceAction.DrillCheck)])
            { Keep = TimeSpan.FromHours(2) };
        ConsoleText.PlanSentence(drill, Status(new SyncLagView("sync#1", "n3", Domain.Status.Up, "", Now.AddMinutes(-7), Guid.NewGuid())), Now).Should().Be(
            "svc1's DR copy will be started on n3 in isolation, under drill names, from data synced 7 minutes ago; production is not touched. " +
            "It is then checked to answer. It is cleaned up on its own 2 hours after the request.");
        var giveback = new Plan("svc1", ServiceAction.Giveback, N3, N1, false,
            [Step(0, N1, "fs#1", ResourceAction.StartStandby), Step(1, N3, "container#1", ResourceAction.Stop), Step(2, N3, "sync#1", ResourceAction.Sync, N1), Step(3, N1, "container#1", ResourceAction.Start)]);
        ConsoleText.PlanSentence(giveback, null, Now).Should().Be(
            "svc1 will be stopped on n3, its data sent to n1 once it has stopped writing (sync#1: nothing lost), and started on n1; the protection then goes from n1 to the DR nodes again.");
        var reprotect = new Plan("svc1", ServiceAction.Reprotect, N3, N1, false, [Step(0, N1, "fs#1", ResourceAction.StartStandby), Step(1, N3, "sync#1", ResourceAction.Sync, N1)]);
        ConsoleText.PlanSentence(reprotect, null, Now).Should().StartWith(
            "svc1 keeps running on n3; n1 will mount its receiving filesystems and n3's data will be sent to n1 (sync#1), so that n1 holds a recent copy");
    }

    [Fact]
    public void sync_history_has_the_age_each_copy_had_reached_and_the_bytes_sent()
    {
        WorkflowRun Sync(int minutes, long bytes)
        {
            var step = Step(0, N1, "sync#0", ResourceAction.Sync, N3);
            var at = Now.AddMinutes(minutes);
            var state = StepState.Planned(step) with
            {
                Status = StepStatus.Succeeded, StartedAt = at.AddSeconds(-3), EndedAt = at, Metrics = new Dictionary<string, long> { ["bytes_sent"] = bytes },
            };
            return new WorkflowRun(Guid.NewGuid(), "svc1", ServiceAction.Sync, N1, null, "t", null, false, at.AddSeconds(-5), "v1", "",
                new Plan("svc1", ServiceAction.Sync, N1, null, false, [step]), [state], RunStatus.Completed, at, "completed", false, false, null);
        }
        var points = ConsoleText.SyncHistory([Sync(-10, 100), Sync(-30, 2048), Sync(-20, 5)]);
        points.Select(p => p.Bytes).Should().Equal(2048, 5, 100);
        points.Select(p => p.Lag).Should().Equal(null, TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(10));
        points.Should().OnlyContain(p => p.Duration == TimeSpan.FromSeconds(5));
        ConsoleText.Chart("lag", points, p => p.Lag?.TotalSeconds, v => $"{v}s").ToString().Should().Contain("<svg").And.Contain("lag: 3 runs, last 600s, highest 600s");
    }

    [Fact]
    public void a_step_job_is_found_from_its_stored_arguments()
    {
        var run = Guid.NewGuid();
        HangfireJobs.Parse($"[\"\\\"{run}\\\"\",\"3\",\"2\",\"\\\"svc1 start fs#0 on n1\\\"\",null]").Should().Be((run, 3, 2));
        HangfireJobs.Parse("[\"\\\"not a run\\\"\",\"3\"]").Should().BeNull();
    }
}
