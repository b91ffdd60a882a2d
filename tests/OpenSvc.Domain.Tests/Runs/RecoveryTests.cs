using FluentAssertions;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using Xunit;

namespace OpenSvc.Domain.Tests.Runs;

/// <summary>What a takeover or switch achieved: the data age of each synced copy at cut-over (RPO), RTO and downtime.</summary>
public class RecoveryTests
{
    static readonly DateTimeOffset T0 = new(2026, 12, 2, 4, 0, 0, TimeSpan.Zero);
    static readonly NodeName N1 = new("n1");
    static readonly NodeName N3 = new("n3");
    static readonly StepPolicy Policy = new(TimeSpan.FromMinutes(1), 1, TimeSpan.Zero);

    static PlanStep Step(int i, NodeName node, string rid, ResourceAction action) =>
        new(i, node, ResourceId.Parse(rid), rid.StartsWith("fs", StringComparison.Ordinal) ? "fs" : "container.docker", action, i == 0 ? [] : [i - 1], Policy);

    /// <summary>Runs every step of the plan, each taking <paramref name="each"/>, from the request at <paramref name="at"/>.</summary>
    static WorkflowRun Ran(ServiceAction action, NodeName node, NodeName? to, DateTimeOffset at, TimeSpan each, params PlanStep[] steps)
    {
        var plan = new Plan("svc1", action, node, to, true, steps);
        var run = WorkflowRun.From(new RunRequested(Guid.NewGuid(), "svc1", action, node, to, "alice", "site A lost", true, at, "v1", "", plan));
        var now = at;
        foreach (var s in steps)
        {
            run = run.Then(new StepScheduled(run.Id, s.Index, 1, s.Node, s.Node.QueueName, now, null));
            run = run.Then(new StepStarted(run.Id, s.Index, 1, s.Node, "agent", now, 1));
            now += each;
            run = run.Then(new StepSucceeded(run.Id, s.Index, 1, now, each, true, "", null));
        }
        return run;
    }

    [Fact]
    public void a_takeover_measures_the_age_of_each_copy_at_the_request_and_its_downtime_since_the_primary_went_down()
    {
        var run = Ran(ServiceAction.Takeover, N3, null, T0, TimeSpan.FromSeconds(2),
            Step(0, N3, "fs#0", ResourceAction.Start), Step(1, N3, "container#0", ResourceAction.Start));
        LastSuccessfulSync[] syncs =
        [
            new("sync#1", N3, T0 - TimeSpan.FromMinutes(4), Guid.NewGuid()),
            new("sync#1", N3, T0 - TimeSpan.FromMinutes(64), Guid.NewGuid()),
            new("sync#1", N1, T0 - TimeSpan.FromSeconds(1), Guid.NewGuid()),
        ];

        var m = Recovery.Measure(run, ["sync#0", "sync#1"], syncs, new DownSince(T0 - TimeSpan.FromMinutes(1), "the last heartbeat of n1"), T0.AddMinutes(1));

        m.Node.Should().Be(N3);
        m.CutOver.Should().Be(T0);
        m.Rto.Should().Be(TimeSpan.FromSeconds(4));
        m.Downtime.Should().Be(TimeSpan.FromSeconds(64));
        m.DataAges.Should().Equal(
            new DataAge("sync#0", N3, null, null, null),
            new DataAge("sync#1", N3, syncs[0].At, syncs[0].RunId, TimeSpan.FromMinutes(4)));
        m.Rpo.Should().BeNull("sync#0 was never synced to n3: what was lost is unknown");
    }

    [Fact]
    public void a_switch_cuts_over_when_the_destination_starts_after_the_source_stopped()
    {
        var run = Ran(ServiceAction.Switch, N1, N3, T0, TimeSpan.FromSeconds(3),
            Step(0, N1, "fs#0", ResourceAction.Stop), Step(1, N3, "fs#0", ResourceAction.Start));
        var last = new LastSuccessfulSync("sync#1", N3, T0 - TimeSpan.FromSeconds(30), Guid.NewGuid());

        var m = Recovery.Measure(run, ["sync#1"], [last], null, T0.AddMinutes(1));

        m.CutOver.Should().Be(T0 + TimeSpan.FromSeconds(3));
        m.Rpo.Should().Be(TimeSpan.FromSeconds(33));
        m.Downtime.Should().Be(TimeSpan.FromSeconds(6), "from the first stop step's start to the last start step's end");
        m.DownSinceFrom.Should().Contain("first stop step");
    }

    [Fact]
    public void a_drill_measures_its_rto_to_the_last_drill_start_and_the_age_of_the_copies_it_cloned_without_downtime()
    {
        var run = Ran(ServiceAction.Drill, N3, null, T0, TimeSpan.FromSeconds(2),
            Step(0, N3, "fs#1", ResourceAction.DrillStart), Step(1, N3, "container#0", ResourceAction.DrillStart),
            Step(2, N3, "container#0", ResourceAction.DrillCheck));
        var last = new LastSuccessfulSync("sync#1", N3, T0 - TimeSpan.FromSeconds(50), Guid.NewGuid());

        var m = Recovery.Measure(run, ["sync#1"], [last], new DownSince(T0, "ignored: production does not stop for a drill"), T0.AddMinutes(1));

        Recovery.Measures(ServiceAction.Drill).Should().BeTrue();
        m.CutOver.Should().Be(T0, "the first drill step clones the copies as they are when it starts");
        m.Rto.Should().Be(TimeSpan.FromSeconds(4), "request to the last drill-start, before the check");
        m.Rpo.Should().Be(TimeSpan.FromSeconds(50));
        m.Downtime.Should().BeNull();
        m.DownSince.Should().BeNull();
    }
}

/// <summary>A giveback's recovery: measured on the preferred primary, its final sends after the stop carry everything (RPO 0).</summary>
public class GivebackRecoveryTests
{
    static readonly DateTimeOffset T0 = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);
    static readonly NodeName N1 = new("n1");
    static readonly NodeName N3 = new("n3");
    static readonly StepPolicy Policy = new(TimeSpan.FromMinutes(1), 1, TimeSpan.Zero);

    [Fact]
    public void a_giveback_is_measured_on_its_destination_with_rpo_zero_from_its_own_final_sync()
    {
        PlanStep[] steps =
        [
            new(0, N3, ResourceId.Parse("container#0"), "container.docker", ResourceAction.Stop, [], Policy, ResourceAction.Start),
            new(1, N1, ResourceId.Parse("fs#1"), "fs", ResourceAction.StartStandby, [0], Policy),
            new(2, N3, ResourceId.Parse("sync#1"), "sync.btrfs", ResourceAction.Sync, [1], Policy, Target: N1),
            new(3, N1, ResourceId.Parse("container#0"), "container.docker", ResourceAction.Start, [2], Policy, ResourceAction.Stop),
        ];
        var plan = new Plan("svc1", ServiceAction.Giveback, N3, N1, true, steps);
        var run = WorkflowRun.From(new RunRequested(Guid.NewGuid(), "svc1", ServiceAction.Giveback, N3, N1, "alice", null, false, T0, "v1", "", plan));
        var now = T0;
        foreach (var s in steps)
        {
            run = run.Then(new StepScheduled(run.Id, s.Index, 1, s.Node, s.Node.QueueName, now, null)).Then(new StepStarted(run.Id, s.Index, 1, s.Node, "agent", now, 1));
            now += TimeSpan.FromSeconds(3);
            run = run.Then(new StepSucceeded(run.Id, s.Index, 1, now, TimeSpan.FromSeconds(3), true, "", null));
        }
        LastSuccessfulSync[] syncs = [new("sync#1", N1, T0 + TimeSpan.FromSeconds(9), run.Id), new("sync#1", N1, T0 - TimeSpan.FromMinutes(30), Guid.NewGuid())];

        Recovery.Measures(ServiceAction.Giveback).Should().BeTrue();
        var m = Recovery.Measure(run, ["sync#1"], syncs, null, now);

        m.Node.Should().Be(N1);
        m.CutOver.Should().Be(T0 + TimeSpan.FromSeconds(9));
        m.Rto.Should().Be(TimeSpan.FromSeconds(12));
        m.Downtime.Should().Be(TimeSpan.FromSeconds(12), "down from the first stop on n3 to the last start on n1");
        m.DataAges.Should().Equal(new DataAge("sync#1", N1, syncs[0].At, run.Id, TimeSpan.Zero));
        m.Rpo.Should().Be(TimeSpan.Zero);
    }
}
