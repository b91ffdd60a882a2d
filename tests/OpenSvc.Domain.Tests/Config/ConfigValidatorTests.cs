using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

public class ConfigValidatorTests
{
    static IReadOnlyList<ConfigProblem> ValidateSeed(string name) =>
        ConfigValidator.Validate(Seed.Parse(name), "svc1", new Dictionary<string, string>());

    [Fact]
    public void problem_text_names_file_line_severity_section_keyword_reason_and_fix()
    {
        var problem = new ConfigProblem("svc1.conf", 12, "fs#0", "dev", Severity.Error, "missing", "add dev@drpnodes = ...", null);

        problem.ToString().Should().Be("svc1.conf:12: error: [fs#0] dev: missing (fix: add dev@drpnodes = ...)");
        (problem with { Keyword = null, Fix = null, Severity = Severity.Warning }).ToString()
            .Should().Be("svc1.conf:12: warning: [fs#0] missing");
    }

    [Fact]
    public void failover_seed_misses_dev_on_n3_only()
    {
        var problems = ValidateSeed(Seed.FailoverDockerBtrfs);

        var dev = problems.Where(p => p.Keyword == "dev").ToList();
        dev.Should().HaveCount(2);
        dev.Should().OnlyContain(p => p.Severity == Severity.Error && p.Node == new NodeName("n3")
                                      && p.Fix!.StartsWith("add dev@drpnodes = ...") && p.Reason.Contains("node n3"));
        dev.Select(p => p.Section).Should().BeEquivalentTo(["fs#0", "fs#1"]);
    }

    [Fact]
    public void every_node_shared_finding_is_reported_once_without_node()
    {
        var problems = ValidateSeed(Seed.FailoverDockerBtrfs);

        problems.Where(p => p.Keyword == "type" && p.Section == "fs#0").Should().ContainSingle()
            .Which.Should().Match<ConfigProblem>(p => p.Node == null && p.Severity == Severity.Warning
                                                      && p.Reason.Contains("without -t") && p.Fix == "add type = btrfs");
    }

    [Fact]
    public void seed_deprecated_keywords_name_their_modern_keyword()
    {
        var problems = ValidateSeed(Seed.FailoverDockerBtrfs);

        problems.Should().Contain(p => p.Keyword == "run_image" && p.Reason == "deprecated keyword: use image");
        problems.Should().Contain(p => p.Keyword == "run_command" && p.Fix == "rename run_command to command");
        problems.Should().Contain(p => p.Keyword == "container_rid" && p.Reason == "deprecated keyword: use netns");
        problems.Should().Contain(p => p.Keyword == "docker_data_dir" && p.Reason == "deprecated keyword: use container_data_dir");
    }

    [Fact]
    public void docker_data_dir_outside_every_fs_mount_is_a_warning()
    {
        var problem = ValidateSeed(Seed.FailoverDockerBtrfs).Should()
            .ContainSingle(p => p.Keyword == "docker_data_dir" && p.Reason.Contains("lies inside no fs")).Which;

        problem.Severity.Should().Be(Severity.Warning);
        problem.Line.Should().Be(4);
        problem.Fix.Should().Be("put it under an fs mount, e.g. /srv/svc1/docker/docker_data_dir");
    }

    [Fact]
    public void docker_data_dir_under_an_fs_mount_is_fine()
    {
        var problems = Seed.Validate("[DEFAULT]\nnodes = n1\ncontainer_data_dir = /srv/docker/data\n[fs#0]\ntype = ext4\ndev = /a\nmnt = /srv/docker\n");

        problems.Should().NotContain(p => p.Reason.Contains("lies inside no fs"));
    }

    [Fact]
    public void autostart_node_is_read_as_orchestrate_start_with_a_deprecation_warning_naming_the_modern_form()
    {
        var problem = ValidateSeed(Seed.FlexDocker).Should().ContainSingle(p => p.Keyword == "autostart_node").Subject;
        problem.Severity.Should().Be(Severity.Warning);
        problem.Reason.Should().StartWith("autostart_node is deprecated").And.Contain("read here as orchestrate = start");
        problem.Fix.Should().StartWith("orchestrate = start");
    }

    [Fact]
    public void orchestrate_ha_warns_that_failover_is_not_acted_on_yet() =>
        Seed.Validate("[DEFAULT]\nnodes = n1 n2\norchestrate = ha\n").Should().ContainSingle(p => p.Keyword == "orchestrate")
            .Which.Reason.Should().Contain("not acted on yet");

    [Fact]
    public void flex_primary_without_flex_topology_is_a_warning_naming_topology_flex()
    {
        ValidateSeed(Seed.FlexDocker).Should().ContainSingle(p => p.Keyword == "flex_primary")
            .Which.Should().Match<ConfigProblem>(p => p.Severity == Severity.Warning && p.Fix == "topology = flex");
        Seed.Validate("[DEFAULT]\nnodes = n1 n2\nflex_primary = n2\ntopology = flex\n")
            .Should().NotContain(p => p.Keyword == "flex_primary");
    }

    [Fact]
    public void flex_seed_docker_sync_targets_no_node()
    {
        ValidateSeed(Seed.FlexDocker).Should().ContainSingle(p => p.Section == "sync#0" && p.Keyword == "target")
            .Which.Should().Match<ConfigProblem>(p => p.Severity == Severity.Warning && p.Reason.Contains("resolves to no node"));
    }

    [Fact]
    public void rsync_exclude_starting_with_the_src_path_is_a_warning_with_the_relative_pattern()
    {
        ValidateSeed(Seed.FlexFailoverRsync).Should().ContainSingle(p => p.Section == "sync#1" && p.Keyword == "options")
            .Which.Should().Match<ConfigProblem>(p => p.Severity == Severity.Warning && p.Fix == "--exclude=/logs/*"
                                                      && p.Reason.Contains("anchors it at the transfer root"));
    }

    [Fact]
    public void rsync_exclude_relative_to_src_is_fine()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\n[sync#0]\nsrc = /d/\ndst = /d\ntarget = nodes\noptions = --exclude=/logs/*\n")
            .Should().NotContain(p => p.Keyword == "options");
    }

    [Fact]
    public void unknown_keywords_are_ignored_options()
    {
        var problems = Seed.Validate("[DEFAULT]\nnodes = n1\nfoo_unknown = 1\n[fs#0]\ntype = ext4\ndev = /a\nmnt = /m\nbogus = 2\n");

        problems.Should().Contain(p => p.Severity == Severity.Warning && p.Reason == "ignored option DEFAULT.foo_unknown" && p.Line == 3);
        problems.Should().Contain(p => p.Severity == Severity.Warning && p.Reason == "ignored option fs#0.bogus" && p.Line == 8);
        problems.Should().NotContain(p => p.Severity == Severity.Error);
    }

    [Fact]
    public void default_may_carry_inheritable_resource_keywords()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\nmnt_opt = ro\n[fs#0]\ntype = ext4\ndev = /a\nmnt = /m\n")
            .Should().BeEmpty();
    }

    [Theory]
    [InlineData("fs#0", "pre_start = /usr/local/bin/fence n2", "OpenSVC runs this command around the action")]
    [InlineData("fs#0", "blocking_pre_start = /usr/local/bin/fence n2", "stops the action when it fails")]
    [InlineData("fs#0", "post_start = /bin/true", "this agent runs no triggers")]
    [InlineData("fs#0", "start_requires = fs#1(up)", "wait for the resources' states")]
    [InlineData("DEFAULT", "pre_stop@n1 = /bin/true", "this agent runs no triggers")]
    [InlineData("DEFAULT", "stop_requires = fs#0(down)", "wait for the resources' states")]
    public void fencing_hooks_and_requirements_are_refused_where_written_never_silently_skipped(string section, string line, string reason)
    {
        var text = section == "DEFAULT"
            ? $"[DEFAULT]\nnodes = n1\n{line}\n[fs#0]\ntype = ext4\ndev = /a\nmnt = /m\n"
            : $"[DEFAULT]\nnodes = n1\n[fs#0]\ntype = ext4\ndev = /a\nmnt = /m\n{line}\n";
        var problem = Seed.Validate(text).Should().ContainSingle(p => p.Severity == Severity.Error).Subject;
        problem.Reason.Should().Contain("is refused").And.Contain(reason);
        problem.Line.Should().Be(section == "DEFAULT" ? 3 : 7);
        problem.Keyword.Should().Be(line[..line.IndexOf(' ', StringComparison.Ordinal)]);
        problem.Fix.Should().StartWith("remove ");
    }

    [Fact]
    public void unknown_section_groups_are_ignored_sections()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\n[bogus#0]\nx = 1\n[nohash]\ny = 2\n[env]\nanything = ok\n")
            .Where(p => p.Reason.StartsWith("ignored section")).Select(p => p.Section).Should().Equal("bogus#0", "nohash");
    }

    [Fact]
    public void a_resource_this_agent_cannot_run_is_an_error_unless_disabled()
    {
        var problem = Seed.Validate("[DEFAULT]\nnodes = n1\n[app#0]\nstart = /bin/true\n")
            .Should().ContainSingle(p => p.Section == "app#0" && p.Reason.Contains("not supported")).Which;
        problem.Severity.Should().Be(Severity.Error);
        problem.Reason.Should().Contain("the service would run without app#0");
        problem.Fix.Should().Contain("disable = true");

        Seed.Validate("[DEFAULT]\nnodes = n1\n[app#0]\nstart = /bin/true\ndisable = true\n")
            .Should().ContainSingle(p => p.Section == "app#0").Which.Severity.Should().Be(Severity.Warning);
    }

    [Theory]
    [InlineData("[container#0]\ntype = dokcer\nimage = x", 4, "type = docker")]
    [InlineData("[sync#0]\ntype = btrf", 4, "type = btrfs")]
    [InlineData("[sync#0]\ntype = zfs", 4, "set type = docker or type = btrfs or type = rsync, or add disable = true")]
    [InlineData("[ip#0]\nipname = 10.0.0.1", 3, "type = docker")]
    public void a_mistyped_or_missing_type_names_the_type_to_write(string section, int line, string fix)
    {
        var problem = Seed.Validate($"[DEFAULT]\nnodes = n1\n{section}\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;
        problem.Line.Should().Be(line);
        problem.Fix.Should().Be(fix);
    }

    [Fact]
    public void a_node_in_both_nodes_and_drpnodes_is_an_error_on_the_drpnodes_line()
    {
        var problem = Seed.Validate("[DEFAULT]\nnodes = n1 n2\ndrpnodes = n2 n3\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;
        (problem.Line, problem.Keyword).Should().Be((3, "drpnodes"));
        problem.Reason.Should().Contain("n2 is listed in both nodes and drpnodes");
        problem.Fix.Should().Be("remove n2 from nodes or from drpnodes");
    }

    [Theory]
    [InlineData("always_on = drpnode", "always_on = drpnodes")]
    [InlineData("always_on = DRPNODES", "write drpnodes in lower case")]
    [InlineData("always_on = n9", "use nodes, drpnodes or a node declared in nodes or drpnodes")]
    public void always_on_names_node_sets_or_declared_nodes(string line, string fix)
    {
        Seed.Validate($"[DEFAULT]\nnodes = n1\ndrpnodes = n3\n[fs#0]\ndev = /dev/x\nmnt = /srv/x\n{line}\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error && p.Keyword == "always_on").Which.Fix.Should().Be(fix);
    }

    [Fact]
    public void mount_points_are_absolute_and_each_fs_has_its_own()
    {
        var problems = Seed.Validate("[DEFAULT]\nnodes = n1\n[fs#0]\ndev = /dev/x\nmnt = relative\n[fs#1]\ndev = /dev/y\nmnt = /srv/x\n[fs#2]\ndev = /dev/z\nmnt = /srv/x/\n")
            .Where(p => p.Severity == Severity.Error).ToList();
        problems.Should().HaveCount(2);
        problems.Should().Contain(p => p.Section == "fs#0" && p.Reason.Contains("not an absolute path") && p.Fix == "mnt = /relative");
        problems.Should().Contain(p => p.Section == "fs#2" && p.Reason == "fs#2 and fs#1 both mount on /srv/x");
    }

    [Fact]
    public void a_mount_point_written_with_references_is_checked_once_expanded()
    {
        var problem = Seed.Validate("[DEFAULT]\nnodes = n1 n2\n[env]\nx = relative/dir\n[fs#0]\ntype = ext4\ndev = /dev/x\nmnt = {env.x}\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Section, problem.Keyword, problem.Line, problem.Node).Should().Be(("fs#0", "mnt", 8, (NodeName?)null));
        problem.ToString().Should().Be("svc1.conf:8: error: [fs#0] mnt: mount point '{env.x}' expands to 'relative/dir', which is not an absolute path"
            + " (fix: mnt = /{env.x}, or make the references expand to an absolute path)");
    }

    [Fact]
    public void a_mount_point_that_expands_to_an_option_on_one_node_is_an_error_on_that_node()
    {
        var problem = Seed.Validate("[DEFAULT]\nnodes = n1 n2\n[env]\nx = /srv/x\nx@n2 = -oremount,exec\n[fs#0]\ntype = ext4\ndev = /dev/x\nmnt = {env.x}\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Keyword, problem.Line, problem.Node).Should().Be(("mnt", 9, new NodeName("n2")));
        problem.Reason.Should().Be("mount point '{env.x}' expands to '-oremount,exec', which is not an absolute path (mount would read it as an option)");
    }

    [Fact]
    public void a_mount_point_named_after_each_node_is_checked_for_each_node()
    {
        var problems = Seed.Validate("[DEFAULT]\nnodes = n1 n2\n[fs#0]\ntype = ext4\ndev = /dev/x\nmnt = {nodename}\n")
            .Where(p => p.Severity == Severity.Error).ToList();

        problems.Select(p => (p.Node, p.Reason)).Should().BeEquivalentTo(new[]
        {
            ((NodeName?)new NodeName("n1"), "mount point '{nodename}' expands to 'n1', which is not an absolute path"),
            ((NodeName?)new NodeName("n2"), "mount point '{nodename}' expands to 'n2', which is not an absolute path"),
        });
    }

    [Theory]
    [InlineData("mnt = /srv/{env.x}")]
    [InlineData("mnt = {env.abs}/data")]
    public void a_mount_point_written_with_references_that_expands_to_an_absolute_path_is_fine(string line)
    {
        Seed.Validate($"[DEFAULT]\nnodes = n1 n2\n[env]\nx = relative/dir\nabs = /srv\n[fs#0]\ntype = ext4\ndev = /dev/x\n{line}\n")
            .Should().NotContain(p => p.Severity == Severity.Error);
    }

    [Theory]
    [InlineData("nodes@n1 = n1", "DEFAULT")]
    [InlineData("topology@nodes = flex", "DEFAULT")]
    public void default_keywords_that_cannot_be_scoped_are_errors(string line, string section)
    {
        Seed.Validate($"[DEFAULT]\nnodes = n1\n{line}\n")
            .Should().ContainSingle(p => p.Section == section && p.Severity == Severity.Error)
            .Which.Reason.Should().Contain("does not support scoping");
    }

    [Fact]
    public void a_scope_naming_an_undeclared_node_is_an_error()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\n[fs#0]\ntype = ext4\ndev = /a\ndev@n9 = /b\nmnt = /m\n")
            .Should().ContainSingle(p => p.Keyword == "dev@n9" && p.Severity == Severity.Error)
            .Which.Reason.Should().Contain("not declared");
    }

    [Fact]
    public void flex_primary_naming_an_undeclared_node_is_an_error()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1 n2\ntopology = flex\nflex_primary = n7\n")
            .Should().ContainSingle(p => p.Keyword == "flex_primary" && p.Severity == Severity.Error);
    }

    [Theory]
    [InlineData("ip#0", "[ip#0]\ntype = docker\nipdev = eth0\nipname = 10.0.0.5\nnetmask = 24\ncontainer_rid = container#5\n")]
    [InlineData("container#1", "[container#1]\ntype = docker\nimage = x\nnetns = container#5\n")]
    public void netns_naming_no_container_is_an_error(string section, string text)
    {
        Seed.Validate($"[DEFAULT]\nnodes = n1\n[container#0]\ntype = docker\nimage = a\n{text}")
            .Should().ContainSingle(p => p.Section == section && p.Severity == Severity.Error)
            .Which.Should().Match<ConfigProblem>(p => p.Reason.Contains("names no container") && p.Fix!.Contains("container#0"));
    }

    const string Containers = "[DEFAULT]\nnodes = n1 n2\n[container#0]\ntype = docker\nimage = a\n";

    [Fact]
    public void a_container_joining_its_own_network_namespace_is_an_error()
    {
        var problem = Seed.Validate(Containers + "netns = container#0\n").Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Section, problem.Keyword, problem.Line).Should().Be(("container#0", "netns", 6));
        problem.Reason.Should().Be("container#0 cannot join its own network namespace");
        problem.Fix.Should().Be("remove netns (the container gets no network), or name another container or host");
        Seed.Validate(Containers + "run_args = --net=container:svc1.container.0\n").Should().ContainSingle(p => p.Severity == Severity.Error)
            .Which.Reason.Should().Contain("is container#0 itself");
    }

    [Fact]
    public void netns_naming_a_disabled_container_is_an_error_where_it_is_disabled()
    {
        var problem = Seed.Validate(Containers + "disable@n2 = true\n[container#1]\ntype = docker\nimage = b\ncontainer_rid = container#0\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Section, problem.Keyword, problem.Line, problem.Node).Should().Be(("container#1", "container_rid", 10, new NodeName("n2")));
        problem.Reason.Should().Be("container#1 joins the network namespace of container#0, which is disabled on n2: docker cannot start it");
        problem.Fix.Should().Be("enable container#0, or let container#1 own its network (remove netns)");
    }

    [Fact]
    public void an_ip_in_a_disabled_container_is_an_error_unless_disabled_too()
    {
        const string ip = "[ip#0]\ntype = docker\nipdev = eth0\nipname = 10.0.0.5\nnetmask = 24\nnetns = container#0\n";
        Seed.Validate(Containers + "disable = true\n" + ip).Should().ContainSingle(p => p.Severity == Severity.Error)
            .Which.Should().Match<ConfigProblem>(p => p.Section == "ip#0" && p.Keyword == "netns"
                                                      && p.Reason.Contains("container#0, which is disabled: it cannot be plumbed"));
        Seed.Validate(Containers + "disable = true\n" + ip + "disable = true\n").Should().NotContain(p => p.Severity == Severity.Error);
    }

    [Fact]
    public void containers_joining_each_others_network_in_a_ring_are_errors()
    {
        var problems = Seed.Validate(Containers + "netns = container#2\n[container#1]\ntype = docker\nimage = b\nnetns = container#0\n"
                                     + "[container#2]\ntype = docker\nimage = c\nrun_args = --net=container:svc1.container.1\n")
            .Where(p => p.Severity == Severity.Error).ToList();

        problems.Select(p => (p.Section, p.Keyword, p.Reason)).Should().BeEquivalentTo([
            ("container#0", "netns", "container#0 -> container#2 -> container#1 -> container#0: these containers join each other's network namespace, so none can start first"),
            ("container#1", "netns", "container#1 -> container#0 -> container#2 -> container#1: these containers join each other's network namespace, so none can start first"),
            ("container#2", "run_args", "container#2 -> container#1 -> container#0 -> container#2: these containers join each other's network namespace, so none can start first"),
        ]);
        problems[0].Fix.Should().Be("let one of them own its network: remove netns from container#0, or from another of them");
    }

    [Fact]
    public void a_chain_of_containers_sharing_a_network_is_fine() =>
        Seed.Validate(Containers + "[container#1]\ntype = docker\nimage = b\nnetns = container#0\n[container#2]\ntype = docker\nimage = c\nnetns = container#1\n")
            .Should().NotContain(p => p.Severity == Severity.Error);

    [Theory]
    [InlineData("svc1data", "svc1:data")]
    [InlineData("svc1:", "svc1:data")]
    [InlineData("svc1:data", ":data")]
    public void btrfs_src_and_dst_need_label_and_subvol(string src, string dst)
    {
        var problems = Seed.Validate($"[DEFAULT]\nnodes = n1\ndrpnodes = n3\n[sync#1]\ntype = btrfs\ntarget = drpnodes\nsrc = {src}\ndst = {dst}\n");

        problems.Should().ContainSingle(p => p.Severity == Severity.Error)
            .Which.Should().Match<ConfigProblem>(p => p.Reason.Contains("is not LABEL:subvol") && p.Node == null);
    }

    [Theory]
    [InlineData("dst", "lbl:../../etc", "the subvolume path '../../etc' has a '..' segment")]
    [InlineData("dst", "lbl:data/../..", "the subvolume path 'data/../..' has a '..' segment")]
    [InlineData("dst", "lbl:./data", "the subvolume path './data' has a '.' segment")]
    [InlineData("dst", "lbl:/", "the subvolume path is empty")]
    [InlineData("dst", "lbl:a//b", "has an empty segment")]
    [InlineData("dst", "lbl:.osync/x", "where the agent keeps its sync snapshots")]
    [InlineData("dst", "..:data", "the label '..' would name a directory outside")]
    [InlineData("dst", "a/b:data", "the label 'a/b' would name a directory outside")]
    [InlineData("src", "svc1:..", "the subvolume path '..' has a '..' segment")]
    public void btrfs_src_and_dst_that_would_leave_their_subvolume_are_refused_at_their_line(string keyword, string value, string reason)
    {
        var (src, dst) = keyword == "src" ? (value, "svc1:data") : ("svc1:data", value);
        var problem = Seed.Validate($"[DEFAULT]\nnodes = n1\ndrpnodes = n3\n[sync#1]\ntype = btrfs\ntarget = drpnodes\nsrc = {src}\ndst = {dst}\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Section, problem.Keyword, problem.Line, problem.Node).Should().Be(("sync#1", keyword, keyword == "src" ? 7 : 8, (NodeName?)null));
        problem.Reason.Should().StartWith($"'{value}' is refused: ").And.Contain(reason);
        problem.Fix.Should().StartWith($"write {keyword} = <fs label>:<subvolume path inside the filesystem>");
        problem.ToString().Should().StartWith($"svc1.conf:{problem.Line}: error: [sync#1] {keyword}: ");
    }

    [Fact]
    public void a_btrfs_dst_written_with_references_is_checked_once_expanded()
    {
        var problem = Seed.Validate("[DEFAULT]\nnodes = n1\ndrpnodes = n3\n[env]\nup = ..\n[sync#1]\ntype = btrfs\ntarget = drpnodes\nsrc = svc1:data\ndst = svc1:{env.up}/{env.up}/etc\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Keyword, problem.Line).Should().Be(("dst", 10));
        problem.Reason.Should().Be("'svc1:../../etc' is refused: the subvolume path '../../etc' has a '..' segment: it must name a subvolume inside the filesystem, without '.' or '..'");
    }

    [Fact]
    public void btrfs_src_and_dst_inside_their_filesystem_are_accepted()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\ndrpnodes = n3\n[sync#1]\ntype = btrfs\ntarget = drpnodes\nsrc = svc1:/apps/db/\ndst = dr.svc1:apps/db..old\n")
            .Should().NotContain(p => p.Severity == Severity.Error);
    }

    [Fact]
    public void target_both_is_not_a_valid_candidate()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\ndrpnodes = n3\n[sync#0]\ntype = docker\ntarget = both\n")
            .Should().ContainSingle(p => p.Keyword == "target" && p.Severity == Severity.Error)
            .Which.Should().Match<ConfigProblem>(p => p.Reason == "'both' is not in valid candidates: nodes, drpnodes"
                                                      && p.Fix == "target = nodes drpnodes");
    }

    [Fact]
    public void missing_required_keywords_are_errors()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\n[container#0]\ntype = docker\n[sync#0]\ntype = rsync\ntarget = nodes\n")
            .Where(p => p.Severity == Severity.Error).Select(p => (p.Section, p.Keyword))
            .Should().BeEquivalentTo([("container#0", "image"), ("sync#0", "src"), ("sync#0", "dst")]);
    }

    [Fact]
    public void invalid_values_are_errors_at_their_line()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\nrollback = maybe\nsync_max_delay = soon\n")
            .Where(p => p.Severity == Severity.Error).Select(p => (p.Keyword, p.Line))
            .Should().BeEquivalentTo([("rollback", 3), ("sync_max_delay", 4)]);
    }

    [Theory]
    [InlineData("[sync#0]\nsrc = /d\ndst = /d\ntarget = nodes\ntimeout = 5 minutes", "timeout", "'5 minutes' is not a duration", "timeout = 5m")]
    [InlineData("[sync#0]\nsrc = /d\ndst = /d\ntarget = nodes\ntimeout = soon", "timeout", "'soon' is not a duration", "write a number of seconds or units s, m, h, d, w: e.g. timeout = 300 or 1h30m")]
    [InlineData("[sync#0]\nsrc = /d\ndst = /d\ntarget = nodes\nsync_max_delay = 2 days", "sync_max_delay", "'2 days' is not a duration", "sync_max_delay = 2d")]
    [InlineData("[fs#0]\ndev = /a\nmnt = /m\ndisable = maybe", "disable", "'maybe' is not a boolean", "disable = true or disable = false")]
    [InlineData("[fs#0]\ndev = /a\nmnt = /m\nmonitor = perhaps", "monitor", "'perhaps' is not a boolean", "monitor = true or monitor = false")]
    [InlineData("[fs#0]\ndev = /a\nmnt = /m\nrestart = often", "restart", "'often' is not an integer", "write a whole number, e.g. restart = 0")]
    [InlineData("[container#0]\nimage = a\nstop_timeout = 2 mins", "stop_timeout", "'2 mins' is not a duration", "stop_timeout = 2m")]
    [InlineData("[container#0]\nimage = a\ncommand = sh -c 'sleep", "command", "cannot split 'sh -c 'sleep' into words: no closing quotation", "close the quote or escape it")]
    [InlineData("[sync#0]\nsrc = /d\ndst = /d\ntarget = nodes\nbwlimit = fast", "bwlimit", "'fast' is not a speed", "write e.g. 3 mb/s or 512 (KB/s)")]
    public void every_typed_value_is_converted_by_validate_with_the_fix(string section, string keyword, string reason, string fix)
    {
        var problem = Seed.Validate($"[DEFAULT]\nnodes = n1 n2\n{section}\n").Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Keyword, problem.Reason, problem.Fix, problem.Node).Should().Be((keyword, reason, fix, (NodeName?)null));
        problem.Line.Should().Be(3 + section.Split('\n').Length - 1);
    }

    [Fact]
    public void a_bad_scoped_value_is_reported_once_as_written()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1 n2\n[fs#0]\ndev = /a\nmnt = /m\nstat_timeout@n1 = a while\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error)
            .Which.Should().Match<ConfigProblem>(p => p.Keyword == "stat_timeout@n1" && p.Node == null && p.Line == 6);
    }

    [Fact]
    public void a_bad_value_reached_through_a_reference_is_reported_once_expanded()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1 n2\n[env]\nwait = 5 minutes\n[fs#0]\ndev = /a\nmnt = /m\nstat_timeout = {env.wait}\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error)
            .Which.Should().Match<ConfigProblem>(p => p.Keyword == "stat_timeout" && p.Node == null && p.Line == 8
                                                      && p.Reason == "'5 minutes' is not a duration");
    }

    [Fact]
    public void a_config_without_nodes_is_an_error_and_the_planner_refuses_it_with_the_same_words()
    {
        var doc = ConfigParser.Parse("[DEFAULT]\ndrpnodes = n3\n[fs#0]\ntype = ext4\ndev = /a\nmnt = /m\n", "svc1.conf");

        var problem = ConfigValidator.Validate(doc, "svc1").Should().ContainSingle(p => p.Severity == Severity.Error).Which;
        (problem.Section, problem.Keyword, problem.Line, problem.Node).Should().Be(("DEFAULT", "nodes", 1, (NodeName?)null));
        problem.Reason.Should().StartWith("no node declared: OpenSVC's default (the host reading the file) cannot work");
        problem.Fix.Should().Be("add nodes = <node names> to [DEFAULT]");

        var (view, refusal) = OpenSvc.Domain.Planning.ServiceViewBuilder.From(doc, "svc1");
        view.Should().BeNull();
        refusal.Should().Be(problem.ToString());
    }

    [Fact]
    public void a_config_without_nodes_still_resolves_as_opensvc_would_on_the_reading_host()
    {
        var service = Seed.ResolveText("[fs#0]\ntype = ext4\ndev@nodes = /a\nmnt = /m\n", "n1");

        (service.NodesDeclared, service.Role).Should().Be((false, NodeRole.PrimaryNode));
        service.Nodes.Should().Equal(new NodeName("n1"));
        service.Resource<FsResource>("fs#0")!.Dev.Should().Be("/a");
        service.Problems.Should().ContainSingle(p => p.Severity == Severity.Error).Which.Keyword.Should().Be("nodes");
    }

    [Fact]
    public void other_problems_of_a_config_without_nodes_are_reported_too()
    {
        Seed.Validate("[container#0]\ntype = docker\n").Where(p => p.Severity == Severity.Error).Select(p => p.Keyword)
            .Should().BeEquivalentTo(["nodes", "image"]);
    }

    [Fact]
    public void a_mandatory_keyword_missing_on_every_node_is_reported_once()
    {
        var problem = Seed.Validate("[DEFAULT]\nnodes = n1 n2\ndrpnodes = n3\n[container#0]\ntype = docker\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Section, problem.Keyword, problem.Node).Should().Be(("container#0", "image", (NodeName?)null));
        problem.Reason.Should().Be("container#0.image is mandatory and has no value: the resource cannot run");
        problem.Fix.Should().Be("add image = ...");
    }

    [Theory]
    [InlineData("nodes = N1 n2", "nodes", "node name 'N1' has capitals, compared as written, while node names are lower case: no agent would recognise itself", "nodes = n1 n2")]
    [InlineData("nodes = n1\ndrpnodes = N3 DR2", "drpnodes", "node names 'N3', 'DR2' have capitals, read in lower case: a scope or always_on written with capitals would not match", "drpnodes = n3 dr2")]
    public void capitalised_node_names_are_a_warning_with_the_lower_case_list(string lines, string keyword, string reason, string fix)
    {
        var problem = Seed.Validate($"[DEFAULT]\n{lines}\n").Should().ContainSingle(p => p.Keyword == keyword).Which;

        (problem.Severity, problem.Reason, problem.Fix).Should().Be((Severity.Warning, reason, fix));
    }

    [Fact]
    public void a_clean_config_has_no_problem()
    {
        Seed.Validate("""
            [DEFAULT]
            nodes = n1 n2
            drpnodes = n3
            container_data_dir = /srv/svc1/docker/data
            [fs#0]
            type = btrfs
            dev@nodes = /dev/a
            dev@drpnodes = /dev/b
            mnt = /srv/svc1/docker
            [container#0]
            type = docker
            image = ubuntu
            [sync#0]
            type = docker
            target = drpnodes
            """).Should().BeEmpty();
    }

    [Theory]
    [InlineData("04:00 * * jan")]
    [InlineData("04:00-06:00@2h")]
    [InlineData("!04:00-06:00")]
    [InlineData("[\"00:00-01:00@61 mon\", \"02:00-03:00@61 tue-sun\"]")]
    [InlineData("@1h sat,sun * %2")]
    public void opensvc_schedule_forms_validate_clean(string schedule) =>
        Seed.Validate($"[DEFAULT]\nnodes = n1\n[sync#0]\ntype = docker\ntarget = nodes\nschedule = {schedule}\n").Should().BeEmpty();

    [Fact]
    public void a_weekday_with_a_day_of_the_month_warns_how_opensvc_agents_read_it()
    {
        var problem = Seed.Validate("[DEFAULT]\nnodes = n1\n[sync#0]\ntype = docker\ntarget = nodes\nschedule = 04:00 sun:last\n").Should().ContainSingle().Subject;
        problem.Severity.Should().Be(Severity.Warning);
        problem.Keyword.Should().Be("schedule");
        problem.Line.Should().Be(6);
        problem.Reason.Should().Contain("a sun that is also the month's last day").And.Contain("the last sun of the month");
        problem.Fix.Should().Contain("sun:-7,sun:-6,sun:-5,sun:-4,sun:-3,sun:-2,sun:-1");
    }

    [Fact]
    public void a_users_sync_i0_section_is_accepted_not_run_and_each_keyword_is_said_ignored()
    {
        const string text = "[DEFAULT]\nnodes = n1 n2\n[sync#i0]\nschedule = @60\nsync_max_delay = 2h\n[sync#0]\ntype = rsync\nsrc = /a\ndst = /a\ntarget = nodes\n";
        var problems = Seed.Validate(text);
        problems.Should().OnlyContain(p => p.Severity == Severity.Info && p.Section == "sync#i0");
        problems.Should().Contain(p => p.Keyword == null && p.Reason.Contains("config store distributes"))
            .And.Contain(p => p.Keyword == "schedule" && p.Line == 4 && p.Reason.StartsWith("ignored:"))
            .And.Contain(p => p.Keyword == "sync_max_delay" && p.Line == 5);
        var service = Seed.ResolveText(text, "n1");
        service.Resources.Select(r => r.Id.ToString()).Should().Equal("sync#0");
        service.ConfigSyncKeywords.Should().Equal(new KeyValuePair<string, string>("schedule", "@60"), new KeyValuePair<string, string>("sync_max_delay", "2h"));
        ServicePrinter.Text(service).Should().Contain("  sync#i0 config sync [ignored: the config store distributes configs to every agent]\n    schedule = @60 (ignored)\n");
    }

    [Fact]
    public void an_unreadable_sync_schedule_is_an_error()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\nsync_schedule = 99:00\n[sync#0]\ntype = docker\ntarget = nodes\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error && p.Keyword == "sync_schedule" && p.Section == "DEFAULT" && p.Line == 3);
    }
}
