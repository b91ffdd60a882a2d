using FluentAssertions;
using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Domain;
using OpenSvc.Infrastructure.Drivers.Sync.Btrfs;
using OpenSvc.Infrastructure.Drivers.Sync.Common;
using OpenSvc.Infrastructure.Drivers.Sync.Docker;
using OpenSvc.Infrastructure.Execution.Ssh;
using Xunit;

namespace OpenSvc.Tests.Sync;

public sealed class ImageIdsTests
{
    [Theory]
    [InlineData("sha256:3a1112a88d04", "3a1112a88d04")]
    [InlineData("3a1112a88d04", "3a1112a88d04")]
    [InlineData("  SHA256:3A1112A88D04\n", "3a1112a88d04")]
    public void ids_compare_equal_with_or_without_the_sha256_prefix(string id, string normalized) =>
        ImageIds.Normalize(id).Should().Be(normalized);

    [Fact]
    public void a_target_listing_with_prefixes_matches_local_ids_without() =>
        ImageIds.ParseList("sha256:aaa\nsha256:bbb\n\nsha256:aaa\n").Should().BeEquivalentTo(["aaa", "bbb"]);
}

public sealed class BtrfsSendTests
{
    static readonly SubvolumeInfo Last = new("1111", "-", true);

    [Theory]
    [InlineData(false, null, null, SendMode.Full, "first sync")]
    [InlineData(true, null, null, SendMode.Full, "the target has no parent snapshot")]
    [InlineData(false, "1111", true, SendMode.Full, "the sender has no parent snapshot")]
    [InlineData(true, "-", false, SendMode.Full, "made writable")]
    [InlineData(true, "1111", false, SendMode.Full, "writable")]
    [InlineData(true, "2222", true, SendMode.Full, "received from 2222, not from the sender's last snapshot 1111")]
    [InlineData(true, "1111", true, SendMode.Incremental, "parent snapshot 1111")]
    public void a_send_is_incremental_only_onto_the_read_only_copy_of_the_senders_last_snapshot(
        bool localHasLast, string? remoteReceived, bool? remoteReadOnly, SendMode mode, string reason)
    {
        var remote = remoteReceived is null ? null : new SubvolumeInfo("9999", remoteReceived, remoteReadOnly!.Value);
        var decision = BtrfsSend.Decide(localHasLast ? Last : null, remote);
        decision.Mode.Should().Be(mode);
        decision.Reason.Should().Contain(reason);
    }

    [Fact]
    public void subvolume_show_output_gives_uuid_received_uuid_and_read_only()
    {
        const string show = """
            .osync/svc1/sync#1/last/data
            	Name: 			data
            	UUID: 			b3828fb2-5234-704a-a003-cf8f3b4dd0f4
            	Parent UUID: 		9e0d1c9a-0000-4000-8000-000000000000
            	Received UUID: 		1c2d3e4f-5234-704a-a003-cf8f3b4dd0f4
            	Flags: 			readonly
            """;
        BtrfsSend.ParseShow(show).Should().Be(new SubvolumeInfo("b3828fb2-5234-704a-a003-cf8f3b4dd0f4", "1c2d3e4f-5234-704a-a003-cf8f3b4dd0f4", true));
        BtrfsSend.ParseShow(show.Replace("readonly", "-").Replace("1c2d3e4f-5234-704a-a003-cf8f3b4dd0f4", "-"))
            .Should().Be(new SubvolumeInfo("b3828fb2-5234-704a-a003-cf8f3b4dd0f4", "-", false));
    }

    [Theory]
    [InlineData("data", "data", true)]
    [InlineData("/apps/db/", "apps_db", true)]
    [InlineData("..", "..", false)]
    [InlineData("data/../..", "data_.._..", false)]
    [InlineData("/", "", false)]
    [InlineData(".osync", ".osync", false)]
    public void snapshot_names_and_unsafe_subvolumes(string subvolume, string name, bool safe)
    {
        BtrfsSend.SnapshotName(subvolume).Should().Be(name);
        BtrfsSend.IsSafeSubvolume(subvolume).Should().Be(safe);
    }
}

public sealed class MountInfoTests
{
    const string Sample = """
        67 45 254:0 /var/lib/lab/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw
        132 45 254:0 /var/lib/lab/n1/docker /var/lib/docker rw,relatime shared:7 - ext4 /dev/vda rw
        236 127 0:49 /docker /srv/svc1/docker rw,relatime - btrfs /dev/loop1 rw,subvolid=256,subvol=/docker
        237 127 0:49 /data//deleted /srv/my\040data rw,relatime - btrfs /dev/loop1 rw,subvolid=258
        """;

    [Fact]
    public void entries_keep_root_mount_point_type_and_source_with_optional_fields_and_escapes()
    {
        var mounts = MountTable.Parse(Sample);
        mounts.Should().HaveCount(4);
        mounts[1].Should().Be(new OpenSvc.Infrastructure.Drivers.Fs.MountEntry("/var/lib/lab/n1/docker", "/var/lib/docker", "rw,relatime", "ext4", "/dev/vda", "rw"));
        mounts[3].MountPoint.Should().Be("/srv/my data");
        mounts[3].Root.Should().Be("/data//deleted");
    }

    [Theory]
    [InlineData("/srv/svc1/docker", true)]
    [InlineData("/srv/svc1/docker/", true)]
    [InlineData("/srv/svc1", false)]
    [InlineData("/srv/svc1/docker/data", false)]
    public void only_an_exact_mount_point_counts_as_mounted(string path, bool mounted) =>
        (MountTable.At(MountTable.Parse(Sample), path) is not null).Should().Be(mounted);

    [Theory]
    [InlineData("/srv/plain", "/srv/plain")]
    [InlineData("/srv/my data", "/srv/my\\040data")]
    [InlineData("/srv/a\tb\\c\nd", "/srv/a\\011b\\134c\\012d")]
    public void a_path_is_escaped_as_mountinfo_writes_it_so_a_script_can_compare_fields(string path, string escaped)
    {
        MountTable.Escape(path).Should().Be(escaped);
        MountTable.Parse($"1 1 0:1 / {MountTable.Escape(path)} rw - btrfs /dev/x rw")[0].MountPoint.Should().Be(path);
    }
}

public sealed class SyncStateTests
{
    [Theory]
    [InlineData(97200, "1d3h")]
    [InlineData(5400, "1h30m")]
    [InlineData(45, "45s")]
    public void durations_read_like_opensvcs(long seconds, string text) => SyncState.Duration(seconds).Should().Be(text);
}

public sealed class SshSettingsTests
{
    [Fact]
    public void defaults_are_root_port_22_and_the_root_ed25519_key_overridable_by_environment()
    {
        var none = SshOptions.FromVariables(_ => null, _ => true);
        none.Should().Be(new SshOptions());
        none.KeyPath.Should().Be("/root/.ssh/id_ed25519");
        SshOptions.FromVariables(_ => null, p => p == "/root/.ssh/id_rsa").KeyPath.Should().Be("/root/.ssh/id_rsa");
        var env = new Dictionary<string, string?> { [SshOptions.KnownHostsVariable] = "/lab/known_hosts", [SshOptions.KeyVariable] = "/lab/key" };
        var lab = SshOptions.FromVariables(k => env.GetValueOrDefault(k), _ => false);
        lab.KnownHostsPath.Should().Be("/lab/known_hosts");
        lab.KeyPath.Should().Be("/lab/key");
        lab.SshArgv().Should().ContainInOrder("-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/lab/known_hosts");
    }

    [Fact]
    public void known_hosts_matches_plain_lists_ports_and_hashed_names()
    {
        var key = Convert.ToBase64String(new byte[] { 0, 0, 0, 11, 1, 2, 3 });
        var salt = new byte[20];
        var hash = System.Security.Cryptography.HMACSHA1.HashData(salt, "n9"u8.ToArray());
        var known = KnownHosts.Parse([
            $"n1,10.0.0.1 ssh-ed25519 {key}",
            $"[n2]:2222 ssh-ed25519 {key}",
            $"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(hash)} ssh-ed25519 {key}",
            "# comment",
        ]);
        known.For("10.0.0.1", 22).Should().HaveCount(1);
        known.For("n2", 22).Should().BeEmpty();
        known.For("n2", 2222).Should().HaveCount(1);
        known.For("n9", 22).Should().HaveCount(1);
        known.For("n3", 22).Should().BeEmpty();
    }

    [Fact]
    public void a_negated_pattern_rejects_its_line_for_that_host_as_openssh_does()
    {
        var key = Convert.ToBase64String(new byte[] { 0, 0, 0, 11, 1, 2, 3 });
        var other = Convert.ToBase64String(new byte[] { 0, 0, 0, 11, 4, 5, 6 });
        var known = KnownHosts.Parse([
            $"!n3,n3,n4 ssh-ed25519 {key}",
            $"n5,!*.dmz.example,n5.dmz.example ssh-ed25519 {key}",
            $"!10.0.0.?,10.0.0.9 ssh-ed25519 {key}",
            $"n3 ssh-ed25519 {other}",
        ]);
        known.For("n3", 22).Should().ContainSingle().Which.Key.Should().Equal(Convert.FromBase64String(other), "only the line without the negation counts");
        known.For("n4", 22).Should().ContainSingle();
        known.For("n5", 22).Should().ContainSingle();
        known.For("n5.dmz.example", 22).Should().BeEmpty("a wildcard negation matches it");
        known.For("N5.DMZ.example", 22).Should().BeEmpty("patterns match case-insensitively");
        known.For("10.0.0.9", 22).Should().BeEmpty();
    }

    [Theory]
    [InlineData(0b110_000_000, true)]
    [InlineData(0b100_000_000, true)]
    [InlineData(0b110_100_000, false)]
    [InlineData(0b110_100_100, false)]
    [InlineData(0b110_000_010, false)]
    public void a_private_key_that_group_or_others_may_read_is_refused(int mode, bool ok)
    {
        var problem = SshRunner.KeyPermissionProblem("/lab/key", (UnixFileMode)mode);
        (problem is null).Should().Be(ok);
        if (!ok)
            problem.Should().Contain("/lab/key").And.Contain("chmod 600 /lab/key");
    }
}
