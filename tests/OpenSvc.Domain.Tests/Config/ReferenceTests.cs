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
}
