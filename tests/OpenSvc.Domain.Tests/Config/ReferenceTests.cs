using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

/// <summary>Reference expansion, as a table of value → expected, in the spirit of OpenSVC's test_references.py.</summary>
public class ReferenceTests
{
    const string Config = """
        [DEFAULT]
        nodes = n1 n2
        drpnodes = n3
        words = a b c
        shared = from-default
        loop_a = {loop_b}
        loop_b = {loop_a}
        fan = {fan}{fan}{fan}{fan}
        [env]
        color = blue
        path = /env/section
        [fs#7]
        type = ext4
        dev = /dev/a
        mnt = /m
        local = from-section
        comment = {VALUE}
        [fs#9]
        type = ext4
        dev = /dev/b
        mnt = /n
        """;

    static string Expand(string value, string node = "n1", IReadOnlyDictionary<string, string>? env = null)
    {
        var text = Config.Replace("{VALUE}", value, StringComparison.Ordinal);
        var fs = Seed.ResolveText(text, node, env ?? new Dictionary<string, string> { ["PATH"] = "/usr/bin" }).Resource("fs#7")!;
        return fs.Keywords["comment"];
    }

    [Theory]
    [InlineData("{svcname}", "svc1")]
    [InlineData("{name}", "svc1")]
    [InlineData("{nodename}", "n1")]
    [InlineData("{rid}", "fs#7")]
    [InlineData("{rindex}", "7")]
    [InlineData("{namespace}", "root")]
    [InlineData("{mnt}", "/m")]
    [InlineData("{shared}", "from-default")]
    [InlineData("{nodes}", "n1 n2")]
    [InlineData("{fs#7.dev}", "/dev/a")]
    [InlineData("{DEFAULT.words}", "a b c")]
    [InlineData("{#words}", "3")]
    [InlineData("{#nodes}", "2")]
    [InlineData("{words[1]}", "b")]
    [InlineData("{words[9]}", "{words[9]}")]
    [InlineData("{unknown}", "{unknown}")]
    [InlineData("{nosection.kw}", "{nosection.kw}")]
    [InlineData("{env.color}", "blue")]
    [InlineData("{env.path}", "/usr/bin")]
    [InlineData("x{nodename}y{rindex}", "xn1y7")]
    [InlineData("{short_name}", "svc1")]
    [InlineData("{svcpath}", "svc1")]
    [InlineData("{topology}", "failover")]
    public void references_expand(string value, string expected)
    {
        Expand(value).Should().Be(expected);
    }

    [Fact]
    public void nodename_is_the_resolving_node()
    {
        Expand("{nodename}", "n3").Should().Be("n3");
    }

    [Fact]
    public void same_section_wins_over_default()
    {
        var text = "[DEFAULT]\nnodes = n1\nmnt_opt = d\n[fs#0]\ntype = ext4\ndev = /dev/{mnt_opt}\nmnt = /m\nmnt_opt = s\n";

        Seed.ResolveText(text, "n1").Resource<FsResource>("fs#0")!.Dev.Should().Be("/dev/s");
    }

    [Fact]
    public void referenced_keywords_are_read_with_their_scope()
    {
        var text = "[DEFAULT]\nnodes = n1\ndrpnodes = n3\n[fs#0]\ntype = ext4\ndev@nodes = /dev/p\ndev@drpnodes = /dev/d\nmnt = {dev}\n";

        Seed.ResolveText(text, "n3").Resource<FsResource>("fs#0")!.Mnt.Should().Be("/dev/d");
    }

    [Fact]
    public void os_environment_wins_over_env_section()
    {
        Expand("{env.color}", env: new Dictionary<string, string> { ["COLOR"] = "red" }).Should().Be("red");
    }

    [Fact]
    public void a_reference_loop_terminates_and_leaves_the_reference()
    {
        Expand("{loop_a}").Should().MatchRegex(@"^\{loop_[ab]\}$");
    }

    [Fact]
    public void a_fan_out_loop_terminates_with_bounded_output()
    {
        var value = Expand("{fan}");

        value.Should().Contain("{fan}");
        value.Length.Should().BeLessThan(4 << 20);
    }

    /// <summary>The errors validate reports for <c>comment = VALUE</c> in fs#7 (line 17 of the config).</summary>
    static List<ConfigProblem> Problems(string value) =>
        Seed.Validate(Config.Replace("{VALUE}", value, StringComparison.Ordinal))
            .Where(p => p.Severity == Severity.Error).ToList();

    public static TheoryData<string, string, string> Unresolved => new()
    {
        { "{unknown}", "{unknown}: no keyword unknown has a value in [fs#7] or DEFAULT, and it is not a built-in reference",
            "use a keyword set in [fs#7] or DEFAULT, {env.<key>}, {<section>.<keyword>} or a built-in reference such as {nodename} {name} {namespace} {id} {clustername} (docs/migrating-from-opensvc.md lists them)" },
        { "{nodenme}", "{nodenme}: no keyword nodenme has a value in [fs#7] or DEFAULT, and it is not a built-in reference", "write {nodename}" },
        { "{NODENAME}", "{NODENAME}: no keyword NODENAME has a value in [fs#7] or DEFAULT, and it is not a built-in reference", "write {nodename}" },
        { "{nosection.kw}", "{nosection.kw}: there is no section [nosection]", "use one of: DEFAULT, env, fs#9" },
        { "{fs#8.dev}", "{fs#8.dev}: there is no section [fs#8]", "write {fs#9.dev}" },
        { "{fs#7.devv}", "{fs#7.devv}: [fs#7] has no value for devv", "write {fs#7.dev}" },
        { "{env.colour}", "{env.colour}: [env] has no colour (and the agent's environment has no COLOUR)", "add colour = ... to [env]" },
        { "{words[9]}", "{words[9]}: {words} has 3 words", "use an index from 0 to 2" },
        { "{#nowords}", "{#nowords}: no keyword nowords has a value in [fs#7] or DEFAULT, and it is not a built-in reference", "write {#words}" },
        { "{svcmgr}", "{svcmgr}: this OpenSVC reference names OpenSVC's own commands or cluster DNS sockets, which this agent does not have", "write the value instead" },
        { "{upper:nosection.kw}", "{upper:nosection.kw}: there is no section [nosection]", "use one of: DEFAULT, env, fs#9" },
    };

    [Theory]
    [MemberData(nameof(Unresolved))]
    public void an_unresolved_reference_is_an_error_naming_the_reference_the_keyword_and_the_fix(string value, string reason, string fix)
    {
        var problem = Problems(value).Should().ContainSingle().Which;

        (problem.Section, problem.Keyword, problem.Line, problem.Node).Should().Be(("fs#7", "comment", 17, (NodeName?)null));
        problem.Reason.Should().Be("unresolved reference " + reason);
        problem.Fix.Should().Be(fix);
    }

    [Theory]
    [InlineData("${HOME}/data")]
    [InlineData("awk '{print $1}'")]
    [InlineData("{a b}")]
    [InlineData("{svcname}-{short_name}-{svcpath}")]
    public void shell_variables_and_braces_that_are_not_references_are_left_alone(string value) =>
        Problems(value).Should().BeEmpty();

    [Fact]
    public void a_reference_loop_is_an_error()
    {
        Problems("{loop_a}").Should().ContainSingle()
            .Which.Reason.Should().MatchRegex(@"^unresolved reference \{loop_[ab]\}: references nest deeper than 20: a reference loop$");
    }

    [Fact]
    public void a_self_referencing_fan_out_is_a_reference_loop_error()
    {
        Problems("{fan}").Should().Contain(p => p.Keyword == "comment" && p.Line == 17
            && p.Reason == "unresolved reference {fan}: references nest deeper than 20: a reference loop");
    }

    /// <summary>20 keys each referencing the next 20 times (docs/config-limits.md's fan-out): the budget, not the nesting, stops it.</summary>
    [Fact]
    public void a_fan_out_that_exhausts_the_budget_is_an_error()
    {
        var text = new System.Text.StringBuilder("[DEFAULT]\nnodes = n1 n2\n");
        for (var i = 0; i < 19; i++)
            text.Append($"k{i} = ").Insert(text.Length, $"{{k{i + 1}}}", 20).Append('\n');
        text.Append("k19 = x\n[fs#0]\ntype = ext4\ndev = /dev/a\nmnt = /m\ncomment = {k0}\n");

        var problems = Seed.Validate(text.ToString());

        problems.Should().ContainSingle(p => p.Reason.StartsWith("expanding references stopped here: the document's budget of 20,000 reference substitutions and 2 Mi expanded characters is spent", StringComparison.Ordinal))
            .Which.Should().Match<ConfigProblem>(p => p.Severity == Severity.Error && p.Section == "fs#0" && p.Keyword == "comment" && p.Line == 27
                && p.Fix == "reference fewer values, or values that do not reference each other repeatedly");
        problems.Should().NotContain(p => p.Reason.Contains("nest deeper", StringComparison.Ordinal));
    }

    [Fact]
    public void a_reference_set_for_other_nodes_only_is_an_error_on_the_others()
    {
        var problem = Seed.Validate("[DEFAULT]\nnodes = n1 n2\n[env]\ncolor@n1 = blue\n[fs#0]\ndev = /a\nmnt = /m\ncomment = {env.color}\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Keyword, problem.Node, problem.Line).Should().Be(("comment", new NodeName("n2"), 8));
        problem.Fix.Should().Be("add color@n2 = ... to [env]");
    }

    [Fact]
    public void rid_in_default_has_no_section_to_name()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\ncomment = {rid}\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error)
            .Which.Reason.Should().Be("unresolved reference {rid}: {rid} names the resource section it is written in, and DEFAULT is none");
    }

    [Fact]
    public void an_unresolved_reference_in_an_inherited_value_is_reported_where_it_is_written()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\nmnt_opt = {bogus}\n[fs#0]\ndev = /a\nmnt = /m\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error)
            .Which.Should().Match<ConfigProblem>(p => p.Section == "DEFAULT" && p.Keyword == "mnt_opt" && p.Line == 3);
    }
}
