using FluentAssertions;
using OpenSvc.Infrastructure.Postgres;
using Xunit;

namespace OpenSvc.Tests.Postgres;

/// <summary>The embedded PostgreSQL's extra listen addresses and allowed client networks (pure parts).</summary>
public sealed class EmbeddedPostgresConfigTests
{
    const string InitdbHba = "# TYPE  DATABASE        USER            ADDRESS                 METHOD\nlocal   all             all                                     scram-sha-256\nhost    all             all             127.0.0.1/32            scram-sha-256\n";

    [Fact]
    public void listen_addresses_are_the_main_address_then_the_extra_ones_without_duplicates()
    {
        EmbeddedPostgres.ListenAddresses(new EmbeddedPostgresOptions("/x") { ExtraListenAddresses = ["10.203.0.1", "127.0.0.1"] })
            .Should().Be("127.0.0.1,10.203.0.1");
        EmbeddedPostgres.ListenAddresses(new EmbeddedPostgresOptions("/x")).Should().Be("127.0.0.1");
    }

    [Theory]
    [InlineData("10.203.0.1'; drop")]
    [InlineData("*")]
    [InlineData("localhost")]
    public void an_extra_listen_address_must_be_an_ip_address(string bad)
    {
        var act = () => EmbeddedPostgres.ListenAddresses(new EmbeddedPostgresOptions("/x") { ExtraListenAddresses = [bad] });
        act.Should().Throw<EmbeddedPostgresException>().WithMessage($"*'{bad}' is not an IP address*");
    }

    [Fact]
    public void allowed_networks_are_written_in_one_managed_block_that_is_replaced_not_appended()
    {
        var once = EmbeddedPostgres.HbaWithNetworks(InitdbHba, ["10.203.0.0/24"]);
        once.Should().StartWith(InitdbHba.TrimEnd('\n'))
            .And.Contain("host all all 10.203.0.0/24 scram-sha-256");
        var twice = EmbeddedPostgres.HbaWithNetworks(once, ["10.204.0.0/24"]);
        twice.Should().NotContain("10.203.0.0/24").And.Contain("host all all 10.204.0.0/24 scram-sha-256");
        twice.Split('\n').Count(l => l.StartsWith("# BEGIN opensvc", StringComparison.Ordinal)).Should().Be(1);
        EmbeddedPostgres.HbaWithNetworks(twice, []).Should().Be(InitdbHba, "no networks: initdb's loopback-only file again");
    }

    [Theory]
    [InlineData("0.0.0.0/0 trust")]
    [InlineData("10.203.0.0/24\nhost all all 0.0.0.0/0 trust")]
    [InlineData("all")]
    public void an_allowed_network_must_be_a_cidr(string bad)
    {
        var act = () => EmbeddedPostgres.HbaWithNetworks(InitdbHba, [bad]);
        act.Should().Throw<EmbeddedPostgresException>().WithMessage("*is not a CIDR network*");
    }
}
