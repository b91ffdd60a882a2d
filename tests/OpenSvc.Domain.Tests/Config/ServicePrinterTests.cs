using System.Text.Json;
using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

public class ServicePrinterTests
{
    [Fact]
    public void failover_seed_on_n3_prints_standby_fs_and_the_missing_dev_error()
    {
        var service = Seed.Resolve(Seed.FailoverDockerBtrfs, "n3");
        using var json = JsonDocument.Parse(ServicePrinter.Json(service));
        var root = json.RootElement;

        root.GetProperty("node").GetString().Should().Be("n3");
        root.GetProperty("role").GetString().Should().Be("drp node");
        var fs = root.GetProperty("resources").EnumerateArray()
            .Where(r => r.GetProperty("driver").GetString() == "fs").ToList();
        fs.Select(r => r.GetProperty("rid").GetString()).Should().Equal("fs#0", "fs#1");
        fs.Should().OnlyContain(r => r.GetProperty("standby").GetBoolean());
        fs.Select(r => r.GetProperty("keywords").EnumerateObject().Any(k => k.Name == "dev")).Should().AllBeEquivalentTo(false);
        root.GetProperty("problems").EnumerateArray()
            .Where(p => p.GetProperty("keyword").GetString() == "dev")
            .Select(p => (p.GetProperty("section").GetString(), p.GetProperty("severity").GetString(), p.GetProperty("node").GetString()))
            .Should().BeEquivalentTo([("fs#0", "error", "n3"), ("fs#1", "error", "n3")]);

        var text = ServicePrinter.Text(service);
        text.Should().Contain("fs#0 fs [standby]");
        text.Should().Contain("failover-docker-btrfs.conf:27: error: [fs#0] dev: fs#0.dev is mandatory");
    }

    [Fact]
    public void failover_seed_on_n1_prints_sync_targets_and_container_network()
    {
        var service = Seed.Resolve(Seed.FailoverDockerBtrfs, "n1");
        using var json = JsonDocument.Parse(ServicePrinter.Json(service));
        var resources = json.RootElement.GetProperty("resources").EnumerateArray()
            .ToDictionary(r => r.GetProperty("rid").GetString()!);

        foreach (var rid in new[] { "sync#0", "sync#1" })
            resources[rid].GetProperty("targets").EnumerateArray().Select(t => t.GetString()).Should().Equal("n3");
        resources["container#1"].GetProperty("network").GetString().Should().Be("--net=container:svc1.container.0");
        resources["container#1"].GetProperty("joinsNetworkOf").GetString().Should().Be("container#0");
        resources["fs#0"].GetProperty("standby").GetBoolean().Should().BeFalse();
        resources["fs#0"].GetProperty("keywords").GetProperty("dev").GetString().Should().Be("/dev/mapper/svc1.d0");
        json.RootElement.GetProperty("problems").EnumerateArray()
            .Should().NotContain(p => p.GetProperty("keyword").GetString() == "dev");

        var text = ServicePrinter.Text(service);
        text.Should().Contain("-> network: --net=container:svc1.container.0");
        text.Should().Contain("sync#1 sync.btrfs [optional]\n");
    }

    [Fact]
    public void json_has_the_documented_top_level_fields_in_a_stable_order()
    {
        var service = Seed.Resolve(Seed.FlexFailoverRsync, "n2");
        using var json = JsonDocument.Parse(ServicePrinter.Json(service));

        json.RootElement.EnumerateObject().Select(p => p.Name).Should().Equal(
            "name", "namespace", "node", "role", "topology", "nodes", "drpnodes", "flexPrimary", "drpFlexPrimary",
            "flexMin", "flexMax", "flexTarget", "orchestrate", "rollback", "containerDataDir", "bwlimitKbps",
            "syncMaxDelaySeconds", "resources", "problems");
        ServicePrinter.Json(service).Should().Be(ServicePrinter.Json(Seed.Resolve(Seed.FlexFailoverRsync, "n2")));
    }
}
