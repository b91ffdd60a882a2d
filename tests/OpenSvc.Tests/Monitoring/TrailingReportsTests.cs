using FluentAssertions;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Monitoring;
using Xunit;

namespace OpenSvc.Tests.Monitoring;

/// <summary>Which nodes' reports may not show yet what the service's last run did there.</summary>
public sealed class TrailingReportsTests
{
    static readonly DateTimeOffset T0 = new(2026, 11, 25, 8, 0, 0, TimeSpan.Zero);
    static readonly NodeName N1 = new("n1");
    static readonly NodeName N2 = new("n2");

    /// <summary>A run whose step 0 ran on n1 (ended at T0+1 s) and step 1 on n2 (ended at T0+2 s).</summary>
    static WorkflowRun Run()
    {
        var id = Guid.NewGuid();
        var plan = Plans.Start("svc", Plans.Step(0, "n1", "fs#0", ResourceAction.Start), Plans.Step(1, "n2", "fs#1", ResourceAction.Start));
        object[] events =
        [
            new StepScheduled(id, 0, 1, N1, N1.QueueName, T0, null),
            new StepStarted(id, 0, 1, N1, "a", T0),
            new StepSucceeded(id, 0, 1, T0.AddSeconds(1), TimeSpan.FromSeconds(1), true, "", null),
            new StepScheduled(id, 1, 1, N2, N2.QueueName, T0.AddSeconds(1), null),
            new StepStarted(id, 1, 1, N2, "b", T0.AddSeconds(1)),
            new StepSucceeded(id, 1, 1, T0.AddSeconds(2), TimeSpan.FromSeconds(1), true, "", null),
            new RunCompleted(id, T0.AddSeconds(2)),
        ];
        return events.Aggregate(WorkflowRun.From(new RunRequested(id, "svc", ServiceAction.Start, N1, null, "t", null, false, T0, "v1", "", plan)), (r, e) => r.Then(e));
    }

    static AgentRoster Roster(DateTimeOffset now, params AgentHeartbeat[] agents) => new(agents, now, AgentLiveness.DeadAfter);

    static AgentHeartbeat Alive(string node) => new(node, node + "/1", 1, T0, T0.AddSeconds(2), []);

    static InstanceStatusReport Report(string node, DateTimeOffset probed) =>
        new(InstanceStatusReport.Key("svc", node), "svc", node, Status.Up, Status.Up, [], "v1", probed);

    [Fact]
    public void a_node_whose_report_was_probed_before_its_last_step_ended_trails()
    {
        var trailing = ClusterStates.Trailing(Run(), Roster(T0.AddSeconds(3), Alive("n1"), Alive("n2")),
            [Report("n1", T0.AddSeconds(1.5)), Report("n2", T0.AddSeconds(1.5))]);

        trailing.Should().Equal("n2");
    }

    [Fact]
    public void a_live_node_that_ran_a_step_and_has_no_report_yet_trails()
    {
        ClusterStates.Trailing(Run(), Roster(T0.AddSeconds(3), Alive("n1"), Alive("n2")), [Report("n2", T0.AddSeconds(2.5))])
            .Should().Equal("n1");
    }

    [Fact]
    public void a_silent_node_or_no_last_run_never_makes_planning_wait()
    {
        var silent = Alive("n2") with { LastSeen = T0.AddMinutes(-5) };
        ClusterStates.Trailing(Run(), Roster(T0.AddSeconds(3), Alive("n1"), silent), [Report("n1", T0.AddSeconds(2)), Report("n2", T0)]).Should().BeEmpty();
        ClusterStates.Trailing(null, Roster(T0, Alive("n1")), []).Should().BeEmpty();
    }
}
