using FluentAssertions;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

/// <summary>Issue 13: references, expressions and DEFAULT keywords mean here what they mean in OpenSVC.</summary>
public class OpenSvcDialectTests
{
    static string Mnt(string reference, IReadOnlyDictionary<string, string>? env = null, string service = "svc1", string node = "n1")
    {
        var doc = ConfigParser.Parse($"[DEFAULT]\nnodes = n1 n2\ndrpnodes = n3\nid = \n[fs#0]\ntype = ext4\ndev = /dev/x\nmnt = /m/{reference}\n", "svc1.conf");
        var resolved = ServiceResolver.Resolve(doc, service, new NodeName(node), env ?? new Dictionary<string, string>());
        resolved.Problems.Where(p => p.Severity == Severity.Error).Should().BeEmpty();
        return resolved.Resource<FsResource>("fs#0")!.Mnt!["/m/".Length..];
    }

    [Theory]
    [InlineData("{clustername}", "default")]
    [InlineData("{fqdn}", "svc1.root.svc.default")]
    [InlineData("{domain}", "root.svc.default")]
    [InlineData("{var}", "/var/lib/opensvc")]
    [InlineData("{etc}", "/etc/opensvc")]
    [InlineData("{private_var}", "/var/lib/opensvc/svc/svc1")]
    [InlineData("{initd}", "/etc/opensvc/svc1.d")]
    [InlineData("{clusternodes}", "n1 n2")]
    [InlineData("{clusterdrpnodes}", "n3")]
    [InlineData("x{dnsnodes}x", "xx")]
    [InlineData("{kind}/{namespace}/{svcname}/{short_nodename}", "svc/root/svc1/n1")]
    [InlineData("{upper:nodename}-{capitalize:name}", "N1-Svc1")]
    public void standard_references_resolve_as_in_opensvc_without_cluster_settings(string reference, string expected) =>
        Mnt(reference).Should().Be(expected);

    [Fact]
    public void cluster_references_follow_the_agents_environment()
    {
        var env = new Dictionary<string, string>
        {
            ["OPENSVC_CLUSTER_NAME"] = "Paris", ["OPENSVC_VAR_DIR"] = "/srv/var", ["OPENSVC_CLUSTER_NODES"] = "n1 n2 n3 n4",
            ["OPENSVC_CLUSTER_DNSNODES"] = "n1 n2", ["OPENSVC_CLUSTER_ID"] = "c0ffee",
        };
        Mnt("{fqdn}", env, service: "ns1/web").Should().Be("web.ns1.svc.paris");
        Mnt("{private_var}", env, service: "ns1/web").Should().Be("/srv/var/namespaces/ns1/svc/web");
        Mnt("{clusternodes}", env).Should().Be("n1 n2 n3 n4");
        Mnt("{dnsnodes}", env).Should().Be("n1 n2");
        Mnt("{clusterid}", env).Should().Be("c0ffee");
    }

    [Fact]
    public void id_is_the_services_id_else_the_name_based_one_containers_are_labelled_with()
    {
        Mnt("{id}").Should().Be(ServicePath.Parse("svc1").NameBasedId());
        var doc = ConfigParser.Parse("[DEFAULT]\nnodes = n1\nid = 5f1c\n[fs#0]\ntype = ext4\ndev = /d\nmnt = /m/{id}\n", "svc1.conf");
        ServiceResolver.Resolve(doc, "svc1", new NodeName("n1"), new Dictionary<string, string>()).Resource<FsResource>("fs#0")!.Mnt.Should().Be("/m/5f1c");
    }

    [Fact]
    public void env_references_read_the_process_environment_first_when_none_is_passed()
    {
        var path = Environment.GetEnvironmentVariable("PATH");
        path.Should().NotBeNullOrEmpty();
        var doc = ConfigParser.Parse("[DEFAULT]\nnodes = n1\n[env]\npath = from-the-section\nother = section\n[fs#0]\ntype = ext4\ndev = {env.other}\nmnt = /m/{env.path}\n", "svc1.conf");
        var resolved = ServiceResolver.Resolve(doc, "svc1", new NodeName("n1"));
        resolved.Resource<FsResource>("fs#0")!.Mnt.Should().Be("/m/" + path);
        resolved.Resource<FsResource>("fs#0")!.Dev.Should().Be("section");
    }

    [Theory]
    [InlineData("$(1+2)", "3")]
    [InlineData("$({#nodes} * 10)", "20")]
    [InlineData("$(3/2)", "1.5")]
    [InlineData("$(4/2)", "2.0")]
    [InlineData("$(7//2)-x", "3-x")]
    [InlineData("$(-7 % 3)", "2")]
    [InlineData("$(2**10)", "1024")]
    [InlineData("$(1 == 1)", "True")]
    [InlineData("$({nodes[0]} == n1)", "True")]
    [InlineData("$('a' + 'b')", "ab")]
    [InlineData("$(n1 in (n1, n2))", "True")]
    [InlineData("$(0 or 5)", "0")] // OpenSVC's 'or' yields its first operand
    [InlineData("$(1 and 0)", "False")]
    [InlineData("$(not 0)", "True")]
    public void expressions_are_evaluated_as_opensvc_evaluates_them(string value, string expected) =>
        Mnt(value).Should().Be(expected);

    [Theory]
    [InlineData("$(1/0)", "division by zero")]
    [InlineData("$(hostname -f)", "unsupported operand type(s) for -")]
    [InlineData("$(1)-$(2)", "unexpected")] // greedy to the line's last ')', as OpenSVC's regex: one expression "1)-$(2"
    [InlineData("$(2**100)", "64-bit")]
    [InlineData("$(a.b)", "strings with dots need quoting")]
    [InlineData("$((1)", "never closed")]
    public void an_expression_opensvc_cannot_evaluate_is_a_located_error_never_text(string value, string reason)
    {
        var problems = Seed.Validate($"[DEFAULT]\nnodes = n1\n[fs#0]\ntype = ext4\ndev = /d\nmnt = /m/{value}\n");
        var problem = problems.Should().ContainSingle(p => p.Severity == Severity.Error).Subject;
        problem.Line.Should().Be(6);
        problem.Keyword.Should().Be("mnt");
        problem.Reason.Should().StartWith("invalid expression $(").And.Contain(reason);
    }

    [Fact]
    public void a_boolean_expression_feeds_a_boolean_keyword()
    {
        var resolved = Seed.ResolveText("[DEFAULT]\nnodes = n1 n2\n[fs#0]\ntype = ext4\ndev = /d\nmnt = /m\ndisable = $({#nodes} > 1)\n", "n1");
        resolved.Resource<FsResource>("fs#0")!.Disabled.Should().BeTrue();
    }

    [Fact]
    public void default_disable_disables_the_whole_service_and_start_plans_nothing_with_the_reason()
    {
        const string config = "[DEFAULT]\nnodes = n1 n2\ndisable = true\n[fs#0]\ntype = ext4\ndev = /d\nmnt = /m\n";
        Seed.Validate(config).Should().BeEmpty();
        var resolved = Seed.ResolveText(config, "n1");
        resolved.Disabled.Should().BeTrue();
        resolved.Resources.Should().OnlyContain(r => r.Disabled);

        var (view, problem) = ServiceViewBuilder.From(ConfigParser.Parse(config, "svc1.conf"), "svc1");
        view.Should().NotBeNull(problem);
        var cluster = new ClusterState(new[] { "n1", "n2" }.Select(n => new KeyValuePair<NodeName, NodeState>(new NodeName(n), new NodeState(true, Status.Down))));
        var refusal = Planner.Plan(view!, new ActionRequest("svc1", ServiceAction.Start, new NodeName("n1"), "tester"), cluster)
            .Should().BeOfType<Refusal>().Subject;
        refusal.Guard.Should().Be(PlanGuard.NothingToDo);
        refusal.Reason.Should().Contain("the service is disabled there (DEFAULT.disable = true");
    }

    [Fact]
    public void default_keywords_opensvc_lets_you_scope_are_accepted_and_read_per_node()
    {
        const string config = "[DEFAULT]\nnodes = n1 n2\ndrpnodes = n3\nrollback@n3 = false\norchestrate@nodes = start\n[fs#0]\ntype = ext4\ndev = /d\nmnt = /m\n";
        Seed.Validate(config).Should().BeEmpty();
        Seed.ResolveText(config, "n3").Rollback.Should().BeFalse();
        Seed.ResolveText(config, "n1").Rollback.Should().BeTrue();
        Seed.ResolveText(config, "n1").Orchestrate.Should().Be(Orchestrate.Start);
        Seed.ResolveText(config, "n3").Orchestrate.Should().Be(Orchestrate.No);
        var (view, _) = ServiceViewBuilder.From(ConfigParser.Parse(config, "svc1.conf"), "svc1");
        view!.RollbackFor(new NodeName("n3")).Should().BeFalse();
        view.RollbackFor(new NodeName("n1")).Should().BeTrue();
    }
}
