using FluentAssertions;
using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers.Ip.Docker;
using Xunit;

namespace OpenSvc.Tests.Drivers;

public sealed class IpCommandsTests
{
    static DockerIp Ip(string body) => DriverConfigs.Resource<DockerIp>(
        $"[DEFAULT]\nnodes = n1 n2\n[container#0]\ntype = docker\nimage = a\n[ip#0]\ntype = docker\nnetns = container#0\n{body}\n", "ip#0");

    const string Seedish = "ipdev = eth0\nipname = 10.206.0.50\nnetmask = 255.255.255.0\ngateway = 10.206.0.1";

    [Fact]
    public void start_creates_a_bridge_macvlan_moves_it_and_configures_it_inside_the_namespace()
    {
        var (p, errors) = IpCommands.Plan(Ip(Seedish), "svc1");
        errors.Should().BeEmpty();
        var tmp = IpCommands.TempName("svc1", "ip#0");
        IpCommands.CreateMacvlan(p!).Should().Equal("ip", "link", "add", "link", "eth0", "name", tmp, "type", "macvlan", "mode", "bridge");
        IpCommands.MoveToNetns(p!, 4242).Should().Equal("ip", "link", "set", "dev", tmp, "netns", "4242");
        IpCommands.ConfigureInNetns(p!, 4242).Should().BeEquivalentTo(new[]
        {
            new[] { "nsenter", "--net=/proc/4242/ns/net", "--", "ip", "link", "set", "dev", tmp, "name", "eth0" },
            new[] { "nsenter", "--net=/proc/4242/ns/net", "--", "ip", "addr", "add", "10.206.0.50/24", "dev", "eth0" },
            new[] { "nsenter", "--net=/proc/4242/ns/net", "--", "ip", "link", "set", "dev", "eth0", "up" },
            new[] { "nsenter", "--net=/proc/4242/ns/net", "--", "ip", "route", "replace", "default", "via", "10.206.0.1", "dev", "eth0" },
        }, o => o.WithStrictOrdering());
    }

    [Fact]
    public void the_address_is_announced_with_a_gratuitous_arp_from_inside_the_namespace()
    {
        var (p, _) = IpCommands.Plan(Ip("ipdev = eth0\nipname = 10.206.0.50\nnetmask = 24"), "svc1");
        IpCommands.Announce(p!, 4242, ["busybox", "arping"]).Should().Equal(
            "nsenter", "--net=/proc/4242/ns/net", "--", "busybox", "arping", "-U", "-c", "1", "-w", "1", "-I", "eth0", "-s", "10.206.0.50", "10.206.0.50");
        IpCommands.FindArping("/nonexistent").Should().BeNull();
    }

    [Fact]
    public void no_gateway_means_no_route_and_nsdev_names_the_device()
    {
        var (p, _) = IpCommands.Plan(Ip("ipdev = br0\nipname = 10.0.0.5\nnetmask = 16\nnsdev = eth1"), "svc1");
        var cmds = IpCommands.ConfigureInNetns(p!, 7);
        cmds.Should().HaveCount(3);
        cmds[1].Should().Equal("nsenter", "--net=/proc/7/ns/net", "--", "ip", "addr", "add", "10.0.0.5/16", "dev", "eth1");
        IpCommands.DeleteLink(7, "eth1").Should().Equal("nsenter", "--net=/proc/7/ns/net", "--", "ip", "link", "del", "dev", "eth1");
    }

    [Fact]
    public void the_temporary_name_fits_an_interface_name_and_differs_per_service_and_rid()
    {
        var a = IpCommands.TempName("svc1", "ip#0");
        a.Length.Should().BeLessThanOrEqualTo(15);
        a.Should().NotBe(IpCommands.TempName("svc2", "ip#0")).And.NotBe(IpCommands.TempName("svc1", "ip#1"));
    }

    [Theory]
    [InlineData("ipdev = eth0\nipname = web.example\nnetmask = 24", "ip#0: 'web.example' is not an IPv4 address")]
    [InlineData("ipdev = eth0\nipname = 10.0.0.1", "ip#0: netmask is not set")]
    [InlineData("ipdev = eth0\nipname = 10.0.0.1\nnetmask = 24\ngateway = gw", "ip#0: 'gw' is not an IPv4 address")]
    [InlineData("ipdev = eth0\nipname = 10.0.0.1\nnetmask = 24\nmode = ipvlan", "ip#0: mode 'ipvlan' is not supported")]
    public void unusable_keywords_are_refused_with_the_domains_reason(string body, string message) =>
        IpCommands.Plan(Ip(body), "svc1").Errors.Should().ContainSingle().Which.Should().Contain(message);

    [Fact]
    public void the_device_holding_an_address_is_found_in_ip_addr_output()
    {
        const string output = """
            1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
            5: eth0@if2    inet 10.206.0.50/24 scope global eth0\       valid_lft forever preferred_lft forever
            6: eth1    inet 10.206.0.51/24 scope global eth1\       valid_lft forever preferred_lft forever
            """;
        IpCommands.DeviceWithAddress(output, "10.206.0.50").Should().Be("eth0");
        IpCommands.DeviceWithAddress(output, "10.206.0.51").Should().Be("eth1");
        IpCommands.DeviceWithAddress(output, "10.206.0.5").Should().BeNull();
    }
}
