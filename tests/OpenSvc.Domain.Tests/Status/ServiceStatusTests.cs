using FluentAssertions;
using OpenSvc.Domain.Planning;
using Xunit;

namespace OpenSvc.Domain.Tests.StatusRules;

public class ServiceStatusTests
{
    static Status[] L(string statuses) =>
        statuses.Length == 0 ? [] : statuses.Split(',').Select(StatusText.Parse).ToArray();

    [Theory]
    [InlineData("", "n/a")]
    [InlineData("n/a,n/a", "n/a")]
    [InlineData("up,down,stdby up", "up")]
    [InlineData("up,up,down", "warn")]
    [InlineData("up,warn,down", "warn")]
    [InlineData("warn,down", "warn")]
    [InlineData("down,down,stdby up", "down")]
    [InlineData("down,n/a", "down")]
    [InlineData("up,n/a", "up")]
    public void failover_avail(string avails, string expected) =>
        ServiceStatus.FailoverAvail(L(avails)).ToDisplay().Should().Be(expected);

    [Theory]
    [InlineData("down,down,down", 1, 3, "down")]
    [InlineData("warn,down,down", 1, 3, "warn")]
    [InlineData("up,down,down", 1, 3, "up")]
    [InlineData("up,up,up", 1, 2, "warn")]
    [InlineData("up,down,down", 2, 3, "warn")]
    [InlineData("up,up,warn", 2, 3, "up")]
    public void flex_avail(string avails, int flexMin, int flexMax, string expected) =>
        ServiceStatus.FlexAvail(L(avails), flexMin, flexMax).ToDisplay().Should().Be(expected);

    [Theory]
    [InlineData("", "n/a")]
    [InlineData("up,warn", "warn")]
    [InlineData("up,stdby down", "warn")]
    [InlineData("up,up", "up")]
    [InlineData("down,down", "down")]
    [InlineData("stdby up,stdby up", "down")]
    [InlineData("up,down", "up")]
    [InlineData("up,stdby up", "up")]
    [InlineData("up,down,stdby up", "up")]
    [InlineData("up,down,stdby up,n/a", "up")]
    [InlineData("down,stdby up", "down")]
    [InlineData("down,stdby up,n/a", "down")]
    [InlineData("up,n/a", "undef")]
    [InlineData("down,n/a", "undef")]
    public void overall(string overalls, string expected) =>
        ServiceStatus.OverallOf(L(overalls)).ToDisplay().Should().Be(expected);

    [Fact]
    public void a_seed_failover_service_running_on_n1_with_a_standby_dr_node_is_up()
    {
        InstanceStatus[] instances =
        [
            new(Status.Up, Status.Up),
            new(Status.Down, Status.Down),
            new(Status.StandbyUp, Status.StandbyUp),
        ];

        ServiceStatus.Of(Topology.Failover, instances).Should().Be(new ServiceStatus(Status.Up, Status.Up));
    }

    [Fact]
    public void a_flex_service_uses_flex_min_and_flex_max()
    {
        InstanceStatus[] instances = [new(Status.Up, Status.Up), new(Status.Up, Status.Up), new(Status.Down, Status.Down)];

        ServiceStatus.Of(Topology.Flex, instances, flexMin: 1, flexMax: 3).Avail.Should().Be(Status.Up);
        ServiceStatus.Of(Topology.Flex, instances, flexMin: 3, flexMax: 3).Avail.Should().Be(Status.Warn);
        ServiceStatus.Of(Topology.Failover, instances).Avail.Should().Be(Status.Warn);
    }
}
