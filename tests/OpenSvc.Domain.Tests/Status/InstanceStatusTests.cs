using FluentAssertions;
using Xunit;

namespace OpenSvc.Domain.Tests.StatusRules;

public class InstanceStatusTests
{
    static ResourceStatus R(string rid, Status status, bool optional = false, bool sync = false, bool log = false) =>
        new(ResourceId.Parse(rid), status, optional, sync, log);

    [Fact]
    public void a_standby_dr_instance_with_its_containers_down_is_stdby_up()
    {
        // C18 on the seed's n3: fs#0, fs#1 stdby up; ip#0, container#0, container#1 down
        var instance = InstanceStatus.Of(
        [
            R("fs#0", Status.StandbyUp), R("fs#1", Status.StandbyUp),
            R("container#0", Status.Down), R("container#1", Status.Down), R("ip#0", Status.Down),
        ]);

        instance.Should().Be(new InstanceStatus(Status.StandbyUp, Status.StandbyUp));
    }

    [Fact]
    public void an_up_sync_counts_as_na_and_leaves_avail_alone()
    {
        var instance = InstanceStatus.Of([R("fs#0", Status.Up), R("sync#0", Status.Up, sync: true)]);

        instance.Should().Be(new InstanceStatus(Status.Up, Status.Up));
    }

    [Fact]
    public void a_down_sync_makes_overall_warn_but_not_avail()
    {
        var instance = InstanceStatus.Of([R("fs#0", Status.Up), R("sync#1", Status.Down, sync: true)]);

        instance.Should().Be(new InstanceStatus(Status.Up, Status.Warn));
    }

    [Fact]
    public void syncs_feed_overall_even_when_not_flagged_optional()
    {
        var instance = InstanceStatus.Of([R("fs#0", Status.Down), R("sync#0", Status.Down, optional: false, sync: true)]);

        instance.Avail.Should().Be(Status.Down);
        instance.Overall.Should().Be(Status.Warn);
    }

    [Fact]
    public void an_optional_resource_down_degrades_overall_only()
    {
        var instance = InstanceStatus.Of([R("fs#0", Status.Up), R("app#0", Status.Down, optional: true)]);

        instance.Should().Be(new InstanceStatus(Status.Up, Status.Warn));
    }

    [Fact]
    public void a_warn_log_on_any_resource_makes_overall_warn()
    {
        // C32: a docker sync with no target is n/a but logs "no target nodes" at warn level
        var instance = InstanceStatus.Of([R("fs#0", Status.Up), R("sync#0", Status.NotApplicable, sync: true, log: true)]);

        instance.Should().Be(new InstanceStatus(Status.Up, Status.Warn));
    }

    [Fact]
    public void an_instance_with_no_resources_is_na()
    {
        InstanceStatus.Of([]).Should().Be(new InstanceStatus(Status.NotApplicable, Status.NotApplicable));
    }

    [Theory]
    [InlineData(Status.Up, Status.NotApplicable)]
    [InlineData(Status.Down, Status.Warn)]
    [InlineData(Status.Warn, Status.Warn)]
    [InlineData(Status.NotApplicable, Status.NotApplicable)]
    public void a_sync_contributes_to_the_merge_as_opensvc_counts_it(Status sync, Status counted) =>
        InstanceStatus.SyncContribution(sync).Should().Be(counted);
}
