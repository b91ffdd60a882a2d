using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

public class ServiceResolverTests
{
    const string C1 = """
        [DEFAULT]
        nodes = n1 n2
        drpnodes = n3
        [fs#0]
        type = ext4
        mnt = /m
        dev = /dev/generic
        dev@nodes = /dev/nodes
        dev@drpnodes = /dev/drp
        dev@n2 = /dev/n2specific
        """;

    [Theory]
    [InlineData("n1", "/dev/nodes")]
    [InlineData("n2", "/dev/n2specific")]
    [InlineData("n3", "/dev/drp")]
    [InlineData("n9", "/dev/generic")]
    public void dev_follows_the_scoping_order_node_then_nodes_then_drpnodes_then_plain(string node, string dev)
    {
        Seed.ResolveText(C1, node).Resource<FsResource>("fs#0")!.Dev.Should().Be(dev);
    }

    [Fact]
    public void dev_at_drpnodes_wins_on_drp_node()
    {
        Seed.ResolveText(C1, "n3").Resource<FsResource>("fs#0")!.Keywords["dev"].Should().Be("/dev/drp");
    }

    [Theory]
    [InlineData("n1", "ro")]
    [InlineData("n2", "noatime")]
    [InlineData("n3", "fp")]
    public void encapnodes_flex_primary_and_drp_flex_primary_scopes_apply_in_order(string node, string expected)
    {
        const string text = """
            [DEFAULT]
            nodes = n1 n2
            drpnodes = n3
            encapnodes = n1
            flex_primary = n2
            [fs#0]
            mnt_opt = plain
            mnt_opt@encapnodes = ro
            mnt_opt@flex_primary = noatime
            mnt_opt@drp_flex_primary = fp
            mnt_opt@n9 = never
            """;

        Seed.ResolveText(text, node).Resource<FsResource>("fs#0")!.MntOpt.Should().Be(expected);
    }

    [Theory]
    [InlineData("n1", "noatime")]
    [InlineData("n2", "noatime")]
    [InlineData("n3", "ro")]
    public void default_mnt_opt_is_inherited_unless_the_section_scopes_its_own(string node, string expected)
    {
        const string text = """
            [DEFAULT]
            nodes = n1 n2
            drpnodes = n3
            mnt_opt = noatime
            [fs#1]
            type = ext4
            dev = /dev/a
            mnt = /m
            mnt_opt@n3 = ro
            """;

        Seed.ResolveText(text, node).Resource<FsResource>("fs#1")!.MntOpt.Should().Be(expected);
    }

    [Fact]
    public void a_leaf_keyword_is_not_inherited_from_default()
    {
        var fs = Seed.ResolveText("[DEFAULT]\nnodes = n1\ntype = xfs\n[fs#0]\ndev = /a\nmnt = /m\n", "n1").Resource<FsResource>("fs#0")!;

        fs.Type.Should().BeNull();
    }

    [Fact]
    public void fs_with_only_dev_at_nodes_has_no_dev_on_the_drp_node_and_reports_it()
    {
        var n3 = Seed.Resolve(Seed.FailoverDockerBtrfs, "n3");
        var n1 = Seed.Resolve(Seed.FailoverDockerBtrfs, "n1");

        n1.Resource<FsResource>("fs#0")!.Dev.Should().Be("/dev/mapper/svc1.d0");
        n3.Resource<FsResource>("fs#0")!.Dev.Should().BeNull();
        n3.Problems.Should().Contain(p => p.Section == "fs#0" && p.Keyword == "dev" && p.Severity == Severity.Error
                                          && p.Fix!.StartsWith("add dev@drpnodes = ..."));
        n1.Problems.Should().NotContain(p => p.Keyword == "dev");
    }

    [Theory]
    [InlineData("always_on = drpnodes")]
    [InlineData("standby@drpnodes = true")]
    public void always_on_drpnodes_and_standby_at_drpnodes_make_standby_only_on_drp_nodes(string line)
    {
        var text = $"[DEFAULT]\nnodes = n1 n2\ndrpnodes = n3\n[fs#0]\ntype = ext4\ndev = /a\nmnt = /m\n{line}\n";

        Seed.ResolveText(text, "n1").Resource("fs#0")!.Standby.Should().BeFalse();
        Seed.ResolveText(text, "n2").Resource("fs#0")!.Standby.Should().BeFalse();
        Seed.ResolveText(text, "n3").Resource("fs#0")!.Standby.Should().BeTrue();
    }

    [Fact]
    public void an_explicit_standby_wins_over_always_on()
    {
        var text = "[DEFAULT]\nnodes = n1\ndrpnodes = n3\n[fs#0]\ntype = ext4\ndev = /a\nmnt = /m\nalways_on = drpnodes n1\nstandby@n3 = false\n";

        Seed.ResolveText(text, "n3").Resource("fs#0")!.Standby.Should().BeFalse();
        Seed.ResolveText(text, "n1").Resource("fs#0")!.Standby.Should().BeTrue();
    }

    [Fact]
    public void a_scoped_always_on_is_ignored_and_is_a_scoping_error()
    {
        var text = "[DEFAULT]\nnodes = n1 n2\n[fs#0]\ntype = ext4\ndev = /a\nmnt = /m\nalways_on@n1 = nodes\n";

        var service = Seed.ResolveText(text, "n1");

        service.Resource("fs#0")!.Standby.Should().BeFalse();
        service.Problems.Should().ContainSingle(p => p.Keyword == "always_on@n1" && p.Severity == Severity.Error)
            .Which.Reason.Should().Contain("does not support scoping");
    }

    [Fact]
    public void seed_containers_read_deprecated_keywords_and_split_run_args()
    {
        var service = Seed.Resolve(Seed.FailoverDockerBtrfs, "n1");
        var c0 = service.Resource<DockerContainer>("container#0")!;
        var ip = service.Resource<DockerIp>("ip#0")!;

        c0.RunArgs.Should().Equal("--net=none", "-v", "/etc/localtime:/etc/localtime:ro");
        c0.Image.Should().Be("ubuntu:14.10");
        c0.Command.Should().Equal("/bin/bash");
        c0.Driver.Should().Be("container.docker");
        ip.Driver.Should().Be("ip.docker");
        ip.NetNs.Should().Be("container#0");
        ip.IpName.Should().Be("10.0.3.3");
        ip.Tags.Should().Contain(["docker", "container#0"]);
    }

    [Theory]
    [InlineData("svc1", "svc1.container.1")]
    [InlineData("ns1/svc1", "ns1..svc1.container.1")]
    public void container_names_default_to_service_and_rid(string service, string expected)
    {
        var doc = Seed.Parse(Seed.FailoverDockerBtrfs);

        ServiceResolver.Resolve(doc, service, new NodeName("n1")).Resource<DockerContainer>("container#1")!.Name.Should().Be(expected);
    }

    [Fact]
    public void the_name_keyword_overrides_the_container_name()
    {
        var c = Seed.ResolveText("[DEFAULT]\nnodes = n1\n[container#0]\ntype = docker\nimage = x\nname = web-{nodename}\n", "n1")
            .Resource<DockerContainer>("container#0")!;

        c.Name.Should().Be("web-n1");
    }

    [Fact]
    public void netns_joins_the_other_containers_network_and_an_unset_netns_gives_net_none()
    {
        const string text = """
            [DEFAULT]
            nodes = n1
            [container#0]
            type = docker
            image = a
            [container#1]
            type = docker
            image = b
            netns = container#0
            [container#2]
            type = docker
            image = c
            netns = host
            [container#3]
            type = docker
            image = d
            run_args = --net bridge
            """;
        var service = Seed.ResolveText(text, "n1");

        service.Resource<DockerContainer>("container#0")!.NetworkArg.Should().Be("--net=none");
        service.Resource<DockerContainer>("container#1")!.NetworkArg.Should().Be("--net=container:svc1.container.0");
        service.Resource<DockerContainer>("container#1")!.JoinsNetworkOf.Should().Be(ResourceId.Parse("container#0"));
        service.Resource<DockerContainer>("container#2")!.NetworkArg.Should().Be("--net=host");
        service.Resource<DockerContainer>("container#3")!.NetworkArg.Should().BeNull();
        service.Resource<DockerContainer>("container#3")!.EffectiveNetwork.Should().Be("--net=bridge");
    }

    [Fact]
    public void seed_container1_joins_container0_network_through_its_run_args()
    {
        var c1 = Seed.Resolve(Seed.FailoverDockerBtrfs, "n1").Resource<DockerContainer>("container#1")!;

        c1.NetworkArg.Should().BeNull();
        c1.EffectiveNetwork.Should().Be("--net=container:svc1.container.0");
        c1.JoinsNetworkOf.Should().Be(ResourceId.Parse("container#0"));
    }

    [Fact]
    public void failover_seed_syncs_target_the_drp_node_from_n1()
    {
        var service = Seed.Resolve(Seed.FailoverDockerBtrfs, "n1");

        service.Role.Should().Be(NodeRole.PrimaryNode);
        service.Topology.Should().Be(Topology.Failover);
        var docker = service.Resource<DockerSync>("sync#0")!;
        var btrfs = service.Resource<BtrfsSync>("sync#1")!;
        docker.Targets.Should().Equal(new NodeName("n3"));
        btrfs.Targets.Should().Equal(new NodeName("n3"));
        btrfs.TargetTokens.Should().Equal("drpnodes");
        btrfs.Src.Should().Be(new BtrfsVolume("svc1", "data"));
        btrfs.Optional.Should().BeTrue();
        btrfs.Schedule.Should().Be("~04:00-06:00");
        btrfs.SyncMaxDelaySeconds.Should().Be(97200);
        docker.Driver.Should().Be("sync.docker");
        btrfs.Driver.Should().Be("sync.btrfs");
    }

    [Fact]
    public void docker_sync_dstfs_is_the_deepest_mount_that_is_a_path_prefix_of_the_data_dir()
    {
        const string text = """
            [DEFAULT]
            nodes = n1
            drpnodes = n3
            docker_data_dir = /srv/svc1/docker/data
            [fs#0]
            type = btrfs
            dev = /dev/a
            mnt = /srv/svc1
            [fs#1]
            type = btrfs
            dev = /dev/a
            mnt = /srv/svc1/docker
            [fs#2]
            type = btrfs
            dev = /dev/a
            mnt = /srv/svc1/doc
            [sync#0]
            type = docker
            target = drpnodes
            """;

        Seed.ResolveText(text, "n1").Resource<DockerSync>("sync#0")!.DstFs.Should().Be("/srv/svc1/docker");
    }

    [Fact]
    public void seed_docker_data_dir_is_not_under_docker_mount_because_only_a_string_prefix_matches()
    {
        var service = Seed.Resolve(Seed.FailoverDockerBtrfs, "n1");

        service.Resource<DockerSync>("sync#0")!.DstFs.Should().BeNull();
        service.ContainerDataDir.Should().Be("/srv/svc1/docker_data_dir");
    }

    [Fact]
    public void default_sync_type_is_rsync_with_its_keywords()
    {
        var service = Seed.Resolve(Seed.FlexFailoverRsync, "n2");
        var rsync = service.Resource<RsyncSync>("sync#1")!;

        rsync.Driver.Should().Be("sync.rsync");
        rsync.Src.Should().Equal("/srv/svc1/data/");
        rsync.Dst.Should().Be("/srv/svc1/data");
        rsync.DstFs.Should().Be("/srv/svc1/data");
        rsync.Options.Should().Equal("--exclude=/srv/svc1/data/logs/*");
        rsync.Targets.Should().Equal(new NodeName("n3"));
        rsync.TimeoutSeconds.Should().Be(3600);
        service.FlexPrimary.Should().Be(new NodeName("n2"));
        service.Topology.Should().Be(Topology.Failover);
    }

    [Fact]
    public void rsync_bwlimit_comes_from_the_resource_then_default()
    {
        const string text = "[DEFAULT]\nnodes = n1\nbwlimit = 3 mb/s\n[sync#0]\nsrc = /a\ndst = /a\ntarget = nodes\n[sync#1]\nsrc = /a\ndst = /a\ntarget = nodes\nbwlimit = 100\n";
        var service = Seed.ResolveText(text, "n1");

        service.BwLimitKbps.Should().Be(3072);
        service.Resource<RsyncSync>("sync#0")!.BwLimitKbps.Should().Be(3072);
        service.Resource<RsyncSync>("sync#1")!.BwLimitKbps.Should().Be(100);
    }

    [Fact]
    public void sync_schedule_falls_back_to_an_explicit_default_sync_schedule()
    {
        const string text = "[DEFAULT]\nnodes = n1\nsync_schedule = @30\n[sync#0]\ntype = docker\ntarget = nodes\n[sync#1]\ntype = docker\ntarget = nodes\nschedule = 01:00-02:00\n";
        var service = Seed.ResolveText(text, "n1");

        service.SyncSchedule.Should().Be("@30");
        service.Resource<SyncResource>("sync#0")!.Schedule.Should().Be("@30");
        service.Resource<SyncResource>("sync#1")!.Schedule.Should().Be("01:00-02:00");
    }

    [Theory]
    [InlineData("[DEFAULT]\nnodes = n1\n[sync#0]\ntype = docker\ntarget = nodes\nschedule =\n", "")]
    [InlineData("[DEFAULT]\nnodes = n1\nsync_schedule =\n[sync#0]\ntype = docker\ntarget = nodes\n", "")]
    [InlineData("[DEFAULT]\nnodes = n1\n[sync#0]\ntype = docker\ntarget = nodes\nschedule = @0\n", "@0")]
    public void an_empty_schedule_or_at_zero_means_never_and_validates_clean(string text, string expected)
    {
        Seed.ResolveText(text, "n1").Resource<SyncResource>("sync#0")!.Schedule.Should().Be(expected);
        Schedule.IsNever(expected).Should().BeTrue();
        Seed.Validate(text).Should().NotContain(p => p.Keyword == "schedule" || p.Keyword == "sync_schedule");
    }

    [Fact]
    public void target_nodes_and_drpnodes_expand_to_both_lists()
    {
        var sync = Seed.ResolveText("[DEFAULT]\nnodes = n1 n2\ndrpnodes = n3\n[sync#0]\ntype = docker\ntarget = nodes drpnodes\n", "n1")
            .Resource<SyncResource>("sync#0")!;

        sync.Targets.Select(n => n.Value).Should().Equal("n1", "n2", "n3");
    }

    [Fact]
    public void target_both_gives_no_target_and_a_candidates_error()
    {
        var service = Seed.ResolveText("[DEFAULT]\nnodes = n1\ndrpnodes = n3\n[sync#0]\ntype = docker\ntarget = both\n", "n1");

        service.Resource<SyncResource>("sync#0")!.Targets.Should().BeEmpty();
        service.Problems.Should().ContainSingle(p => p.Keyword == "target" && p.Severity == Severity.Error)
            .Which.Reason.Should().Be("'both' is not in valid candidates: nodes, drpnodes");
    }

    [Fact]
    public void drpnode_is_put_at_the_head_of_drpnodes()
    {
        var service = Seed.ResolveText("[DEFAULT]\nnodes = n1\ndrpnodes = n4 N5\ndrpnode = N3\n", "n3");

        service.DrpNodes.Select(n => n.Value).Should().Equal("n3", "n4", "n5");
        service.Role.Should().Be(NodeRole.DrpNode);
        service.DrpFlexPrimary.Should().Be(new NodeName("n3"));
    }

    [Fact]
    public void a_node_outside_nodes_and_drpnodes_is_not_a_member()
    {
        Seed.Resolve(Seed.FailoverDockerBtrfs, "n7").Role.Should().Be(NodeRole.NotMember);
    }

    [Fact]
    public void flex_min_nodes_alias_gives_flex_min_max_and_target()
    {
        var service = Seed.ResolveText("[DEFAULT]\nnodes = n1 n2 n3\nflex_min_nodes = 3\n", "n1");

        service.Topology.Should().Be(Topology.Failover);
        (service.FlexMin, service.FlexMax, service.FlexTarget).Should().Be((3, 3, 3));
        service.Problems.Should().Contain(p => p.Keyword == "flex_min_nodes" && p.Reason.Contains("use flex_min"));
    }

    [Theory]
    [InlineData("flex_min = 9", 2, 2)]
    [InlineData("flex_min = -4", 0, 2)]
    [InlineData("flex_max = 1\nflex_min = 2", 2, 2)]
    [InlineData("flex_max = 7", 1, 2)]
    [InlineData("", 1, 2)]
    public void flex_min_and_max_are_clamped(string lines, int min, int max)
    {
        var service = Seed.ResolveText($"[DEFAULT]\nnodes = n1 n2\ntopology = flex\n{lines}\n", "n1");

        (service.FlexMin, service.FlexMax).Should().Be((min, max));
        service.Topology.Should().Be(Topology.Flex);
    }

    [Fact]
    public void default_keywords_have_their_defaults()
    {
        var service = Seed.ResolveText("[DEFAULT]\nnodes = n1\n", "n1");

        service.Orchestrate.Should().Be(Orchestrate.No);
        service.Rollback.Should().BeTrue();
        service.SyncMaxDelaySeconds.Should().Be(97200);
        service.SyncSchedule.Should().BeNull();
        service.FlexPrimary.Should().Be(new NodeName("n1"));
        service.DrpFlexPrimary.Should().BeNull();
    }

    [Theory]
    [InlineData("90", 5400)]
    [InlineData("1d3h", 97200)]
    [InlineData("1h 1s", 3601)]
    [InlineData("-1m", -60)]
    public void sync_max_delay_counts_bare_integers_as_minutes(string value, long seconds)
    {
        Seed.ResolveText($"[DEFAULT]\nnodes = n1\nsync_max_delay = {value}\n", "n1").SyncMaxDelaySeconds.Should().Be(seconds);
    }

    [Fact]
    public void orchestrate_and_rollback_are_read()
    {
        var service = Seed.ResolveText("[DEFAULT]\nnodes = n1\norchestrate = ha\nrollback = false\n", "n1");

        service.Orchestrate.Should().Be(Orchestrate.Ha);
        service.Rollback.Should().BeFalse();
    }

    [Fact]
    public void optional_defaults_to_true_for_sync_and_false_for_fs_and_disable_is_read()
    {
        var service = Seed.ResolveText("[DEFAULT]\nnodes = n1\n[fs#0]\ntype = ext4\ndev = /a\nmnt = /m\ndisable@n1 = true\n[sync#0]\ntype = docker\ntarget = nodes\noptional = false\n[sync#1]\ntype = docker\ntarget = nodes\n", "n1");

        service.Resource("fs#0")!.Optional.Should().BeFalse();
        service.Resource("fs#0")!.Disabled.Should().BeTrue();
        service.Resource("sync#0")!.Optional.Should().BeFalse();
        service.Resource("sync#1")!.Optional.Should().BeTrue();
    }

    [Fact]
    public void resources_come_in_build_order_then_rid_order()
    {
        Seed.Resolve(Seed.FailoverDockerBtrfs, "n1").Resources.Select(r => r.Id.ToString())
            .Should().Equal("container#0", "container#1", "ip#0", "fs#0", "fs#1", "sync#0", "sync#1");
    }
}
