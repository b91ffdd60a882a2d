using FluentAssertions;
using OpenSvc.Infrastructure.Drivers.Fs;
using Xunit;

namespace OpenSvc.Tests.Drivers;

public sealed class FsCommandsTests
{
    public static TheoryData<string, string[]> MountCases => new()
    {
        { "type = btrfs\ndev = /dev/loop5\nmnt = /srv/svc1/data\nmnt_opt = defaults,subvol=data",
            ["mount", "-t", "btrfs", "-o", "defaults,subvol=data", "--", "/dev/loop5", "/srv/svc1/data"] },
        // The seed leaves type out: mount without -t.
        { "dev = /dev/mapper/svc1.d0\nmnt = /srv/svc1/docker\nmnt_opt = defaults,subvol=docker",
            ["mount", "-o", "defaults,subvol=docker", "--", "/dev/mapper/svc1.d0", "/srv/svc1/docker"] },
        { "type = ext4\ndev = /dev/sdb1\nmnt = /srv/a b", ["mount", "-t", "ext4", "--", "/dev/sdb1", "/srv/a b"] },
        // A value with shell metacharacters stays one argv element ($(...) is OpenSVC's expression syntax, evaluated by the config).
        { "type = xfs\ndev = /dev/sdc;rm -rf /\nmnt = /srv/`x`|y", ["mount", "-t", "xfs", "--", "/dev/sdc;rm -rf /", "/srv/`x`|y"] },
        // A dev that looks like an option is a device name after "--", never mount's -o.
        { "dev = -oremount,exec\nmnt = /srv/x", ["mount", "--", "-oremount,exec", "/srv/x"] },
        { "type = btrfs\ndev = --bind\nmnt = /srv/x", ["mount", "-t", "btrfs", "--", "--bind", "/srv/x"] },
    };

    [Theory]
    [MemberData(nameof(MountCases))]
    public void mount_builds_one_argv_element_per_value(string body, string[] expected) =>
        FsCommands.Mount(DriverConfigs.Fs(body)).Should().Equal(expected);

    [Fact]
    public void dev_is_taken_from_the_node_scope()
    {
        var text = "[DEFAULT]\nnodes = n1 n2\ndrpnodes = n3\n[fs#0]\ndev@nodes = /dev/loop2\ndev@drpnodes = /dev/loop3\nmnt = /srv/x\n";
        FsCommands.Mount(DriverConfigs.Resource<Domain.Config.FsResource>(text, "fs#0", "n3")).Should().Equal("mount", "--", "/dev/loop3", "/srv/x");
        FsCommands.Mount(DriverConfigs.Resource<Domain.Config.FsResource>(text, "fs#0", "n2")).Should().Equal("mount", "--", "/dev/loop2", "/srv/x");
    }

    [Theory]
    [InlineData("type = btrfs\ndev = /d\nmnt = /m", true)]
    [InlineData("dev = /d\nmnt = /m\nmnt_opt = defaults,subvol=data", true)]
    [InlineData("type = ext4\ndev = /d\nmnt = /m\nmnt_opt = subvol=x", false)]
    [InlineData("dev = /d\nmnt = /m", false)]
    public void btrfs_is_recognised_by_type_or_by_a_subvolume_option_when_untyped(string body, bool btrfs) =>
        FsCommands.IsBtrfs(DriverConfigs.Fs(body)).Should().Be(btrfs);

    [Theory]
    [InlineData("defaults,subvol=data", "data")]
    [InlineData("subvol=/docker,noatime", "docker")]
    [InlineData("defaults", null)]
    [InlineData(null, null)]
    public void subvolume_is_read_from_the_mount_options(string? opts, string? subvol) =>
        FsCommands.Subvolume(opts).Should().Be(subvol);

    [Fact]
    public void other_commands_are_plain_argv() 
    {
        FsCommands.Umount("/srv/svc1/data").Should().Equal("umount", "--", "/srv/svc1/data");
        FsCommands.Umount("-a").Should().Equal("umount", "--", "-a");
        FsCommands.BtrfsDeviceScan("/dev/loop2").Should().Equal("btrfs", "device", "scan", "--", "/dev/loop2");
        FsCommands.BtrfsDeviceScan("--all-devices").Should().Equal("btrfs", "device", "scan", "--", "--all-devices");
        FsCommands.Fuser("/srv/x").Should().Equal("fuser", "-v", "-m", "/srv/x");
        var fuser = () => FsCommands.Fuser("-k");
        fuser.Should().Throw<ArgumentException>("fuser has no --: its mount point must be absolute");
    }
}
