using FluentAssertions;
using OpenSvc.Domain;
using OpenSvc.Infrastructure.Drivers.Fs;
using Xunit;

namespace OpenSvc.Tests.Drivers;

public sealed class MountTableTests
{
    const string Table = """
        22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
        160 22 0:45 /data /srv/svc1/data rw,relatime shared:80 - btrfs /dev/loop2 rw,space_cache,subvolid=257,subvol=/data
        161 22 0:45 /docker /srv/svc1/docker rw,relatime - btrfs /dev/loop2 rw,subvolid=256,subvol=/docker
        162 22 0:46 / /srv/with\040space ro,relatime - ext4 /dev/sdb1 ro
        163 22 0:47 / /srv/other rw,relatime - ext4 /dev/sdc1 rw
        164 163 0:48 / /srv/other rw,relatime - tmpfs tmpfs rw
        """;

    static readonly IReadOnlyList<MountEntry> Entries = MountTable.Parse(Table);

    [Fact]
    public void parse_reads_root_mount_point_type_and_source_and_unescapes_octal()
    {
        Entries.Should().HaveCount(6);
        Entries[1].Should().Be(new MountEntry("/data", "/srv/svc1/data", "rw,relatime", "btrfs", "/dev/loop2", "rw,space_cache,subvolid=257,subvol=/data"));
        Entries[3].MountPoint.Should().Be("/srv/with space");
        Entries[3].ReadOnly.Should().BeTrue();
    }

    public static TheoryData<string, Status, string> Cases => new()
    {
        { "dev = /dev/loop2\nmnt = /srv/svc1/data\nmnt_opt = defaults,subvol=data", Status.Up, "/dev/loop2 mounted on /srv/svc1/data" },
        { "type = btrfs\ndev = /dev/loop2\nmnt = /srv/svc1/data/\nmnt_opt = subvol=data", Status.Up, "/dev/loop2 mounted on /srv/svc1/data" },
        { "dev = /dev/loop2\nmnt = /srv/svc1/logs\nmnt_opt = subvol=logs", Status.Down, "/srv/svc1/logs is not mounted" },
        { "dev = /dev/loop9\nmnt = /srv/svc1/data\nmnt_opt = subvol=data", Status.Warn, "/srv/svc1/data is mounted from /dev/loop2, not /dev/loop9" },
        { "dev = /dev/loop2\nmnt = /srv/svc1/data\nmnt_opt = subvol=docker", Status.Warn, "/srv/svc1/data is mounted from /dev/loop2 subvolume /data, not docker" },
        { "type = ext4\ndev = /dev/sdb1\nmnt = /srv/with space", Status.Warn, "/srv/with space is mounted read-only" },
        { "type = ext4\ndev = /dev/sdb1\nmnt = /srv/with space\nmnt_opt = ro", Status.Up, "/dev/sdb1 mounted on /srv/with space" },
        // The topmost mount decides: something stacked over our mount hides it.
        { "type = ext4\ndev = /dev/sdc1\nmnt = /srv/other", Status.Warn, "/srv/other is mounted from tmpfs, not /dev/sdc1" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void evaluate_says_up_down_or_warn_from_the_topmost_mount(string body, Status status, string message)
    {
        var (s, m, _) = MountTable.Evaluate(DriverConfigs.Fs(body), Entries, d => d);
        (s, m).Should().Be((status, message));
    }

    [Fact]
    public void devices_compare_after_resolving_links()
    {
        var fs = DriverConfigs.Fs("dev = /dev/mapper/svc1.d0\nmnt = /srv/svc1/data\nmnt_opt = subvol=data");
        MountTable.Evaluate(fs, Entries, d => d == "/dev/mapper/svc1.d0" ? "/dev/loop2" : d).Status.Should().Be(Status.Up);
    }
}
