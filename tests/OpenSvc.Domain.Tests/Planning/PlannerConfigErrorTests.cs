using FluentAssertions;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using Xunit;

namespace OpenSvc.Domain.Tests.Planning;

/// <summary>The planner refuses a plan that touches a node the config's errors concern, keeping the plan and the errors.</summary>
public class PlannerConfigErrorTests
{
    const string Config = """
        [DEFAULT]
        nodes = n1 n2
        drpnodes = n3

        [fs#0]
        type = ext4
        dev@n1 = /dev/sdb1
        dev@n2 = /dev/sdb1
        mnt = /srv/svc1
        """;

    static ServiceView View()
    {
        var (view, problem) = ServiceViewBuilder.From(ConfigParser.Parse(Config, "svc1.conf"), "svc1");
        view.Should().NotBeNull(problem);
        return view!;
    }

    static ClusterState AllReachable(params (NodeName Node, Status Instance)[] up) =>
        new(new[] { "n1", "n2", "n3" }.Select(n => new KeyValuePair<NodeName, NodeState>(new NodeName(n),
            new NodeState(true, up.FirstOrDefault(u => u.Node.Value == n).Instance is var s && s != default ? s : Status.Down))));

    [Fact]
    public void a_plan_on_a_node_without_a_buildable_resource_is_refused_with_its_plan_and_errors()
    {
        var request = new ActionRequest("svc1", ServiceAction.Start, new NodeName("n3"), "tester");

        var refusal = Planner.Plan(View(), request, AllReachable()).Should().BeOfType<Refusal>().Subject;

        refusal.Guard.Should().Be(PlanGuard.ConfigErrors);
        refusal.Plan.Should().NotBeNull("a dry run still shows what would have run");
        refusal.Plan!.Steps.Should().OnlyContain(s => s.Node == new NodeName("n3"));
        refusal.Problems.Should().NotBeEmpty().And.OnlyContain(p => p.Severity == Severity.Error && (p.Node == null || p.Node == new NodeName("n3")));
        refusal.Reason.Should().Contain("[fs#0]");
    }

    [Fact]
    public void the_same_config_plans_on_a_node_its_errors_do_not_concern()
    {
        var request = new ActionRequest("svc1", ServiceAction.Start, new NodeName("n1"), "tester");

        Planner.Plan(View(), request, AllReachable()).Should().BeOfType<AcceptedPlan>();
    }
}
