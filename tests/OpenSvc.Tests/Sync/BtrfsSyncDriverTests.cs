using FluentAssertions;
using OpenSvc.Tests.Support;
using Xunit;

namespace OpenSvc.Tests.Sync;

/// <summary>
/// sync.btrfs run inside n1 towards n3. Both sites' filesystems are labelled svc1 and visible to the one
/// kernel: each side must pick its own (n1 the shared site disk, n3 its DR disk).
/// </summary>
[Collection(SyncLabCollection.Name)]
public sealed class BtrfsSyncDriverTests(SyncLab lab)
{
    async Task<string> PrepareAsync()
    {
        var config = lab.WriteShared($"btrfs-{Guid.NewGuid():N}.conf", SyncConfigs.FailoverDockerBtrfs(lab.Dev("n1"), lab.Dev("n3")));
        foreach (var node in new[] { "n1", "n3" })
        {
            var m = await lab.Sh(node, "mkdir -p /srv/svc1/data && (mountpoint -q /srv/svc1/data || mount -o subvol=data \"$1\" /srv/svc1/data)", lab.Dev(node));
            m.ExitCode.Should().Be(0, m.StdErr);
        }
        var data = await lab.Sh("n1", """
            rm -rf /srv/svc1/data/payload && mkdir -p /srv/svc1/data/payload &&
            for i in 1 2 3 4 5 6 7 8; do head -c 1000000 /dev/urandom > /srv/svc1/data/payload/blob$i; done &&
            echo v1 > /srv/svc1/data/payload/version
            """);
        data.ExitCode.Should().Be(0, data.StdErr);
        return config;
    }

    Task<Infrastructure.Execution.ProcessResult> Sums(string node, string dir) =>
        lab.Sh(node, "cd \"$1\" && md5sum payload/*", dir);

    [LabFact]
    public async Task data_reaches_dst_on_the_target_and_a_second_sync_sends_only_the_delta()
    {
        var config = await PrepareAsync();
        var var = $"/srv/var-btrfs-{Guid.NewGuid():N}";
        // The work dirs live in the filesystem (.osync/<svc>/<rid>): a fresh service name starts from no parent.
        var svc = $"svc{Guid.NewGuid():N}"[..11];

        var first = await lab.SyncExec("n1", var, config, svc, "sync#1", "n3");

        first.ExitCode.Should().Be(0, first.StdOut + first.StdErr);
        first.StdOut.Should().Contain("full send of svc1:data").And.Contain("first sync")
            .And.Contain($"from n1 ({lab.Dev("n1")}) to n3 ({lab.Dev("n3")})", "each node resolves svc1 among its own filesystems");
        LabInstance.Metric(first, "full").Should().Be(1);
        var full = LabInstance.Metric(first, "bytes_sent");
        full.Should().BeGreaterThan(8_000_000);
        var expected = (await Sums("n1", "/srv/svc1/data")).StdOut;
        (await Sums("n3", $"{var}/btrfs/svc1/data")).StdOut.Should().Be(expected, "the received copy is the dst subvolume on n3");
        (await Sums("n3", "/srv/svc1/data")).StdOut.Should().Be(expected, "n3's mount of dst was moved onto the new copy");

        var change = await lab.Sh("n1", "echo v2 > /srv/svc1/data/payload/version && head -c 100000 /dev/urandom > /srv/svc1/data/payload/blob1");
        change.ExitCode.Should().Be(0, change.StdErr);
        var second = await lab.SyncExec("n1", var, config, svc, "sync#1", "n3");

        second.ExitCode.Should().Be(0, second.StdOut + second.StdErr);
        second.StdOut.Should().Contain("incremental send");
        LabInstance.Metric(second, "full").Should().Be(0);
        LabInstance.Metric(second, "bytes_sent").Should().BeLessThan(full / 10, "only about 100 kB changed");
        (await lab.ExecAsync("n3", ["cat", "/srv/svc1/data/payload/version"])).StdOut.Should().Be("v2\n");
        (await Sums("n3", "/srv/svc1/data")).StdOut.Should().Be((await Sums("n1", "/srv/svc1/data")).StdOut);
        (await lab.SyncExec("n3", var, config, svc, "sync#1", null, "status")).StdOut.Should().StartWith("sync#1: up (n3 synced");

        // The target's parent snapshot made writable: an incremental onto it would be unsafe, so a full resend, with the reason.
        var writable = await lab.ExecAsync("n3", ["btrfs", "property", "set", "-f", $"{var}/btrfs/svc1/.osync/{svc}/sync#1/last/data", "ro", "false"]);
        writable.ExitCode.Should().Be(0, writable.StdErr);
        var third = await lab.SyncExec("n1", var, config, svc, "sync#1", "n3");
        third.ExitCode.Should().Be(0, third.StdOut + third.StdErr);
        LabInstance.Metric(third, "full").Should().Be(1);
        third.StdOut.Should().Contain("made writable");
    }

    [LabFact]
    public async Task a_reverse_send_from_the_dr_node_is_incremental_from_the_common_parent_and_lands_on_the_primary()
    {
        var config = await PrepareAsync();
        var var = $"/srv/var-btrfs-{Guid.NewGuid():N}";
        var svc = $"svc{Guid.NewGuid():N}"[..11];
        var forward = await lab.SyncExec("n1", var, config, svc, "sync#1", "n3");
        forward.ExitCode.Should().Be(0, forward.StdOut + forward.StdErr);
        var full = LabInstance.Metric(forward, "bytes_sent");

        // The takeover: the service writes on n3, in the DR copy.
        var write = await lab.Sh("n3", "echo written-on-n3 > /srv/svc1/data/payload/version && head -c 200000 /dev/urandom > /srv/svc1/data/payload/blob2");
        write.ExitCode.Should().Be(0, write.StdErr);

        // Reprotect: n3 sends back to n1 (outside the drpnodes target: a reversed send), from the parent both hold.
        var back = await lab.SyncExec("n3", var, config, svc, "sync#1", "n1");

        back.ExitCode.Should().Be(0, back.StdOut + back.StdErr);
        back.StdOut.Should().Contain("incremental reverse send of svc1:data from n3").And.Contain("common parent");
        LabInstance.Metric(back, "full").Should().Be(0);
        LabInstance.Metric(back, "bytes_sent").Should().BeLessThan(full / 10, "only about 200 kB changed on n3 since the common parent");
        (await lab.ExecAsync("n1", ["cat", "/srv/svc1/data/payload/version"])).StdOut.Should().Be("written-on-n3\n", "n1's mount of src shows n3's data");
        (await Sums("n1", "/srv/svc1/data")).StdOut.Should().Be((await Sums("n3", "/srv/svc1/data")).StdOut);

        // The next reverse send has its own parent (the one it just sent).
        var change = await lab.Sh("n3", "echo again-on-n3 > /srv/svc1/data/payload/version");
        change.ExitCode.Should().Be(0, change.StdErr);
        var again = await lab.SyncExec("n3", var, config, svc, "sync#1", "n1");
        again.ExitCode.Should().Be(0, again.StdOut + again.StdErr);
        again.StdOut.Should().Contain("incremental reverse send").And.Contain("parent snapshot");
        (await lab.ExecAsync("n1", ["cat", "/srv/svc1/data/payload/version"])).StdOut.Should().Be("again-on-n3\n");

        // Given back: the normal direction again sends n1's data, n3's copy follows it exactly.
        var onN1 = await lab.Sh("n1", "echo back-on-n1 > /srv/svc1/data/payload/version");
        onN1.ExitCode.Should().Be(0, onN1.StdErr);
        var normal = await lab.SyncExec("n1", var, config, svc, "sync#1", "n3");
        normal.ExitCode.Should().Be(0, normal.StdOut + normal.StdErr);
        LabInstance.Metric(normal, "full").Should().Be(0);
        (await lab.ExecAsync("n3", ["cat", "/srv/svc1/data/payload/version"])).StdOut.Should().Be("back-on-n1\n");
        (await Sums("n3", "/srv/svc1/data")).StdOut.Should().Be((await Sums("n1", "/srv/svc1/data")).StdOut);
    }

    [LabFact]
    public async Task a_reverse_send_without_a_common_parent_is_full_and_says_why()
    {
        var config = await PrepareAsync();
        var var = $"/srv/var-btrfs-{Guid.NewGuid():N}";
        var svc = $"svc{Guid.NewGuid():N}"[..11];
        var forward = await lab.SyncExec("n1", var, config, svc, "sync#1", "n3");
        forward.ExitCode.Should().Be(0, forward.StdOut + forward.StdErr);
        // The primary lost the snapshot it sent (a rebuilt site): nothing to be incremental from.
        var lost = await lab.Sh("n1", "btrfs subvolume delete \"$1\"", $"{var}/btrfs/svc1/.osync/{svc}/sync#1/n3/last/data");
        lost.ExitCode.Should().Be(0, lost.StdErr);

        var back = await lab.SyncExec("n3", var, config, svc, "sync#1", "n1");

        back.ExitCode.Should().Be(0, back.StdOut + back.StdErr);
        LabInstance.Metric(back, "full").Should().Be(1);
        back.StdOut.Should().Contain("full reverse send").And.Contain("no common parent: the target no longer holds the snapshot it sent");
        (await Sums("n1", "/srv/svc1/data")).StdOut.Should().Be((await Sums("n3", "/srv/svc1/data")).StdOut);
    }

    [LabFact]
    public async Task a_target_that_cannot_prepare_its_work_dirs_fails_with_its_message_and_keeps_the_previous_copy()
    {
        var config = await PrepareAsync();
        var var = $"/srv/var-btrfs-{Guid.NewGuid():N}";
        var svc = $"svc{Guid.NewGuid():N}"[..11];
        var first = await lab.SyncExec("n1", var, config, svc, "sync#1", "n3");
        first.ExitCode.Should().Be(0, first.StdOut + first.StdErr);
        var expected = (await Sums("n3", $"{var}/btrfs/svc1/data")).StdOut;
        // The target's preparation runs in the receive's exec, after it printed its state: a file where its next dir goes.
        var block = await lab.Sh("n3", "rm -rf \"$1/next\" && echo in-the-way > \"$1/next\"", $"{var}/btrfs/svc1/.osync/{svc}/sync#1");
        block.ExitCode.Should().Be(0, block.StdErr);
        var change = await lab.Sh("n1", "echo v2 > /srv/svc1/data/payload/version");
        change.ExitCode.Should().Be(0, change.StdErr);

        var failed = await lab.SyncExec("n1", var, config, svc, "sync#1", "n3");

        failed.ExitCode.Should().Be(1, failed.StdOut);
        failed.StdErr.Should().Contain("n3").And.Contain("File exists", "the target's own message is reported");
        (await Sums("n3", $"{var}/btrfs/svc1/data")).StdOut.Should().Be(expected, "dst still holds the previous copy, never a partial one");
        var fixedUp = await lab.Sh("n3", "rm -f \"$1/next\"", $"{var}/btrfs/svc1/.osync/{svc}/sync#1");
        fixedUp.ExitCode.Should().Be(0, fixedUp.StdErr);
        var again = await lab.SyncExec("n1", var, config, svc, "sync#1", "n3");
        again.ExitCode.Should().Be(0, again.StdOut + again.StdErr);
        again.StdOut.Should().Contain("incremental send", "the parent both sides kept is still the one the next increment needs");
        (await lab.ExecAsync("n3", ["cat", $"{var}/btrfs/svc1/data/payload/version"])).StdOut.Should().Be("v2\n");
    }

    [LabFact]
    public async Task a_target_without_its_svc1_filesystem_mounted_is_refused_clearly()
    {
        var config = await PrepareAsync();
        var umount = await lab.Sh("n3", "for m in $(grep ' - btrfs ' /proc/self/mountinfo | awk '{print $5}' | sort -r); do umount \"$m\" || exit 1; done; ! grep -q ' - btrfs ' /proc/self/mountinfo");
        umount.ExitCode.Should().Be(0, umount.StdErr);

        var refused = await lab.SyncExec("n1", $"/srv/var-btrfs-{Guid.NewGuid():N}", config, "svc1", "sync#1", "n3");

        refused.ExitCode.Should().Be(1);
        refused.StdErr.Should().Contain("no btrfs labelled svc1 is mounted on n3").And.Contain("refusing to sync");
    }
}
