using FluentAssertions;
using OpenSvc.Tests.Support;
using Xunit;

namespace OpenSvc.Tests.Sync;

/// <summary>sync.rsync run inside n1 towards n3, with doc case 3's exclude written the way that works.</summary>
[Collection(SyncLabCollection.Name)]
public sealed class RsyncSyncDriverTests(SyncLab lab)
{
    async Task<string> PrepareAsync(bool mountOnTarget)
    {
        var config = lab.WriteShared($"rsync-{Guid.NewGuid():N}.conf", SyncConfigs.Rsync);
        var src = await lab.Sh("n1", """
            rm -rf /srv/svc2/data && mkdir -p /srv/svc2/data/logs /srv/svc2/data/db &&
            head -c 2000000 /dev/urandom > /srv/svc2/data/db/table &&
            echo hello > /srv/svc2/data/readme && echo noise > /srv/svc2/data/logs/app.log
            """);
        src.ExitCode.Should().Be(0, src.StdErr);
        var dst = await lab.Sh("n3", "umount /srv/svc2/data 2>/dev/null; rm -rf /srv/svc2 && mkdir -p /srv/svc2/data && if [ \"$1\" = yes ]; then mount -t tmpfs tmpfs /srv/svc2/data; fi",
            mountOnTarget ? "yes" : "no");
        dst.ExitCode.Should().Be(0, dst.StdErr);
        return config;
    }

    [LabFact]
    public async Task files_reach_the_target_and_the_exclude_is_honoured()
    {
        var config = await PrepareAsync(mountOnTarget: true);
        var var = $"/srv/var-rsync-{Guid.NewGuid():N}";

        var first = await lab.SyncExec("n1", var, config, "svc2", "sync#1", "n3");

        first.ExitCode.Should().Be(0, first.StdOut + first.StdErr);
        first.StdOut.Should().Contain("rsync -HAXpogDtrlvx --stats --delete --force --exclude=/logs/* --timeout=3600 -e ssh -o BatchMode=yes -o StrictHostKeyChecking=yes");
        LabInstance.Metric(first, "bytes_sent").Should().BeGreaterThan(2_000_000);
        (await lab.ExecAsync("n3", ["cat", "/srv/svc2/data/readme"])).StdOut.Should().Be("hello\n");
        var sums = await lab.Sh("n1", "md5sum < /srv/svc2/data/db/table");
        (await lab.Sh("n3", "md5sum < /srv/svc2/data/db/table")).StdOut.Should().Be(sums.StdOut);
        (await lab.ExecAsync("n3", ["test", "-e", "/srv/svc2/data/logs/app.log"])).ExitCode.Should().NotBe(0, "--exclude=/logs/* keeps the logs out");

        var second = await lab.SyncExec("n1", var, config, "svc2", "sync#1", "n3");
        second.ExitCode.Should().Be(0, second.StdErr);
        LabInstance.Metric(second, "bytes_sent").Should().BeLessThan(10_000, "nothing changed");
        (await lab.SyncExec("n3", var, config, "svc2", "sync#1", null, "status")).StdOut.Should().StartWith("sync#1: up (n3 synced");
    }

    [LabFact]
    public async Task a_source_whose_filesystem_is_missing_or_empty_is_refused_and_the_dr_copy_is_kept()
    {
        var config = await PrepareAsync(mountOnTarget: true);
        var var = $"/srv/var-rsync-{Guid.NewGuid():N}";
        (await lab.SyncExec("n1", var, config, "svc2", "sync#1", "n3")).ExitCode.Should().Be(0);

        // The data belongs on fs#0, which is not mounted on n1: /srv/svc2/data is a directory of the root fs.
        var withFs = lab.WriteShared($"rsync-fs-{Guid.NewGuid():N}.conf", SyncConfigs.Rsync + "\n[fs#0]\ntype = tmpfs\ndev = tmpfs\nmnt = /srv/svc2/data\n");
        (await lab.Sh("n1", "rm -rf /srv/svc2/data/* && touch /srv/svc2/data/junk-on-root-fs")).ExitCode.Should().Be(0);
        var unmounted = await lab.SyncExec("n1", var, withFs, "svc2", "sync#1", "n3");
        unmounted.ExitCode.Should().Be(1);
        unmounted.StdErr.Should().Contain("src /srv/svc2/data/ belongs on fs#0's filesystem, but /srv/svc2/data is not mounted");

        // An empty filesystem mounted there (a blank device, a failed restore): --delete would empty the copy.
        (await lab.Sh("n1", "rm -f /srv/svc2/data/junk-on-root-fs && mount -t tmpfs tmpfs /srv/svc2/data")).ExitCode.Should().Be(0);
        try
        {
            var empty = await lab.SyncExec("n1", var, config, "svc2", "sync#1", "n3");
            empty.ExitCode.Should().Be(1);
            empty.StdErr.Should().Contain("src /srv/svc2/data/ is an empty filesystem (tmpfs mounted there): with --delete the copy would be emptied");
        }
        finally
        {
            await lab.Sh("n1", "umount /srv/svc2/data");
        }
        (await lab.ExecAsync("n3", ["cat", "/srv/svc2/data/readme"])).StdOut.Should().Be("hello\n", "the DR copy is untouched");
    }

    [LabFact]
    public async Task a_target_whose_dstfs_is_not_mounted_is_refused_and_nothing_is_written_there()
    {
        var config = await PrepareAsync(mountOnTarget: false);

        var refused = await lab.SyncExec("n1", $"/srv/var-rsync-{Guid.NewGuid():N}", config, "svc2", "sync#1", "n3");

        refused.ExitCode.Should().Be(1);
        refused.StdErr.Should().Contain("the destination fs /srv/svc2/data (dstfs of sync#1) is not mounted on n3: refusing to sync");
        (await lab.ExecAsync("n3", ["ls", "-A", "/srv/svc2/data"])).StdOut.Should().BeEmpty("the parent filesystem got nothing");
    }
}
