using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

/// <summary>ip.docker address checks: reported by validation with line and fix, the same ones the driver refuses on.</summary>
public class IpAddressingTests
{
    [Theory]
    [InlineData("255.255.255.0", 24)]
    [InlineData("255.255.0.0", 16)]
    [InlineData("255.255.255.255", 32)]
    [InlineData("0.0.0.0", 0)]
    [InlineData("24", 24)]
    [InlineData("255.0.255.0", null)]
    [InlineData("33", null)]
    [InlineData("255.255", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void netmask_converts_to_a_prefix_length(string? mask, int? prefix) =>
        IpAddressing.PrefixLength(mask).Should().Be(prefix);

    [Theory]
    [InlineData("web.example", "24", null, "bridge", "ipname|'web.example' is not an IPv4 address (names are not resolved here)|write the address, e.g. ipname = 10.0.3.3")]
    [InlineData("10.1", "24", null, "bridge", "ipname|'10.1' is not an IPv4 address (names are not resolved here)|write the address, e.g. ipname = 10.0.3.3")]
    [InlineData(null, "24", null, "bridge", "ipname|ipname is not set: this agent plumbs the IPv4 address it names|add ipname = <IPv4 address>")]
    [InlineData("10.0.0.1", null, null, "bridge", "netmask|netmask is not set: the address needs a prefix length|add netmask = 255.255.255.0 (or 24)")]
    [InlineData("10.0.0.1", "255.0.255.0", null, "bridge", "netmask|'255.0.255.0' is neither a dotted mask (255.255.255.0) nor a prefix length (24)|write e.g. netmask = 255.255.255.0 or netmask = 24")]
    [InlineData("10.0.0.1", "24", "gw", "bridge", "gateway|'gw' is not an IPv4 address|write the router's address, or remove gateway")]
    [InlineData("10.0.3.3", "255.255.255.0", "10.0.4.1", "bridge", "gateway|10.0.4.1 is outside 10.0.3.0/24: the default route through it cannot be added|use a gateway inside 10.0.3.0/24, or fix ipname/netmask")]
    [InlineData("10.0.0.1", "24", null, "ipvlan", "mode|mode 'ipvlan' is not supported (this agent plumbs a macvlan in bridge mode)|mode = bridge")]
    public void what_cannot_be_plumbed_names_keyword_reason_and_fix(string? ipname, string? netmask, string? gateway, string mode, string expected)
    {
        var problem = IpAddressing.Check(ipname, netmask, gateway, mode).Should().ContainSingle().Which;

        $"{problem.Keyword}|{problem.Reason}|{problem.Fix}".Should().Be(expected);
    }

    [Fact]
    public void the_seed_address_is_fine() =>
        IpAddressing.Check("10.0.3.3", "255.255.255.0", "10.0.3.1", "bridge").Should().BeEmpty();

    const string Ip = "[DEFAULT]\nnodes = n1 n2\ndrpnodes = n3\n[container#0]\ntype = docker\nimage = a\n[ip#0]\ntype = docker\nipdev = eth0\nnetns = container#0\n";

    [Fact]
    public void validation_reports_a_bad_address_at_its_line()
    {
        var problem = Seed.Validate(Ip + "ipname = 10.0.3.300\nnetmask = 24\n").Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Line, problem.Section, problem.Keyword, problem.Node).Should().Be((11, "ip#0", "ipname", (NodeName?)null));
        problem.Reason.Should().Be("'10.0.3.300' is not an IPv4 address (names are not resolved here)");
    }

    [Fact]
    public void an_address_set_for_some_nodes_only_is_missing_on_the_others_with_their_scope_as_fix()
    {
        var problem = Seed.Validate(Ip + "ipname@n1 = 10.0.3.3\nipname@n2 = 10.0.3.4\nnetmask = 24\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Keyword, problem.Node, problem.Fix).Should().Be(("ipname", new NodeName("n3"), "add ipname@n3 = ..."));
    }

    [Fact]
    public void a_disabled_ip_is_not_checked() =>
        Seed.Validate(Ip + "disable = true\n").Should().NotContain(p => p.Severity == Severity.Error);
}
