using FluentAssertions;
using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Infrastructure.Drivers.Sync.Rsync;
using OpenSvc.Tests.Drivers;
using Xunit;

namespace OpenSvc.Tests.Sync;

/// <summary>
/// An rsync source must be on the filesystem it belongs to: with --delete, a source whose fs is not mounted (an empty
/// directory on the root fs) or an empty freshly mounted fs would empty the DR copy.
/// </summary>
public sealed class RsyncSourcesTests
{
    const string Mounts = """
        22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
        160 22 0:45 /data /srv/svc1/data rw,relatime - btrfs /dev/loop2 rw,subvolid=257,subvol=/data
        170 22 0:50 / /srv/blank rw,relatime - ext4 /dev/sdz rw
        171 160 0:51 / /srv/svc1/data/cache rw,relatime - tmpfs tmpfs rw
        """;

    static readonly IReadOnlyList<MountEntry> Table = MountTable.Parse(Mounts);

    const string Config = """
        [DEFAULT]
        nodes = n1 n2
        [fs#0]
        type = btrfs
        dev = /dev/loop2
        mnt = /srv/svc1/data
        mnt_opt = subvol=data
        [fs#1]
        type = ext4
        dev = /dev/loop7
        mnt = /srv/svc1/logs
        [fs#2]
        type = ext4
        dev = /dev/sdy
        mnt = /srv/blank
        [sync#0]
        src = /srv/svc1/data/
        dst = /srv/svc1/data
        target = nodes
        """;

    static readonly IReadOnlyList<FsResource> Fs = DriverConfigs.Resolve(Config).Resources.OfType<FsResource>().ToList();

    static string? Problem(string source, bool deletes = true, params string[] empty) =>
        RsyncSources.Problem(source, deletes, Fs, Table, d => d, p => empty.Contains(p));

    [Theory]
    [InlineData("/srv/svc1/data/")]
    [InlineData("/srv/svc1/data/db")]
    [InlineData("/srv/svc1/data/cache/")]
    [InlineData("/etc/opensvc/")]
    public void a_source_on_its_own_mounted_filesystem_is_sent(string source) => Problem(source).Should().BeNull();

    [Theory]
    [InlineData("/srv/svc1/logs/")]
    [InlineData("/srv/svc1/logs/app")]
    public void a_source_whose_fs_is_not_mounted_is_refused_with_or_without_delete(string source)
    {
        Problem(source).Should().Contain($"src {source} belongs on fs#1's filesystem, but /srv/svc1/logs is not mounted").And.Contain("start fs#1 first");
        Problem(source, deletes: false).Should().Contain("is not mounted");
    }

    [Fact]
    public void a_source_on_another_device_than_its_fs_is_refused() =>
        Problem("/srv/blank").Should().Contain("belongs on fs#2's filesystem, but /srv/blank is mounted from /dev/sdz, not /dev/sdy");

    [Fact]
    public void an_empty_mounted_filesystem_is_refused_when_rsync_would_delete()
    {
        Problem("/srv/svc1/data/", deletes: true, "/srv/svc1/data").Should().Contain("is an empty filesystem (/dev/loop2 mounted there)");
        Problem("/srv/svc1/data/cache", deletes: true, "/srv/svc1/data/cache").Should().Contain("is an empty filesystem");
        Problem("/srv/svc1/data/", deletes: false, "/srv/svc1/data").Should().BeNull("without --delete nothing on the copy is removed");
        Problem("/srv/svc1/data/db", deletes: true, "/srv/svc1/data/db").Should().BeNull("an empty directory inside the fs is ordinary");
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("reset_options = true\noptions = -a\n", false)]
    [InlineData("reset_options = true\noptions = -a --delete-after\n", true)]
    [InlineData("reset_options = true\noptions = -a --del\n", true)]
    public void deleting_is_the_default_or_any_del_option(string extra, bool deletes) =>
        RsyncSources.Deletes(DriverConfigs.Resolve(Config + "\n" + extra).Resource<RsyncSync>("sync#0")!).Should().Be(deletes);
}
