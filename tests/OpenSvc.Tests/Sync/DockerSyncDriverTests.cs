using FluentAssertions;
using Xunit;

namespace OpenSvc.Tests.Sync;

/// <summary>sync.docker run inside n1 (as n1's agent would) towards the DR node n3 of the lab.</summary>
[Collection(SyncLabCollection.Name)]
public sealed class DockerSyncDriverTests(SyncLab lab)
{
    const string Images = "opensvc/busybox:lab opensvc/httpd:lab";

    async Task<string> PrepareAsync()
    {
        var config = lab.WriteShared($"docker-{Guid.NewGuid():N}.conf", SyncConfigs.FailoverDockerBtrfs(lab.Device("n1"), lab.Device("n3")));
        foreach (var node in new[] { "n1", "n3" })
        {
            var m = await lab.Sh(node, "mkdir -p /srv/svc1/docker && (mountpoint -q /srv/svc1/docker || mount -o subvol=docker \"$1\" /srv/svc1/docker)", lab.Device(node));
            m.ExitCode.Should().Be(0, m.StdErr);
        }
        // n3 starts without the images (a previous test may have shipped them).
        await lab.Sh("n3", "docker rmi -f $0 $1 >/dev/null 2>&1; true", Images.Split(' '));
        return config;
    }

    static string Ids(Infrastructure.Execution.ProcessResult r) => string.Join(",", r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

    [LabFact]
    public async Task missing_images_reach_the_target_and_a_second_sync_sends_zero_bytes()
    {
        var config = await PrepareAsync();
        var var = $"/srv/var-docker-{Guid.NewGuid():N}";

        var never = await lab.SyncExec("n1", var, config, "svc1", "sync#0", null, "status");
        never.StdOut.Should().Contain("sync#0 warn: never synced to n3");

        var first = await lab.SyncExec("n1", var, config, "svc1", "sync#0", "n3");
        first.ExitCode.Should().Be(0, first.StdOut + first.StdErr);
        SyncLab.Metric(first, "images_sent").Should().Be(2);
        SyncLab.Metric(first, "bytes_sent").Should().BeGreaterThan(1_000_000, "two busybox images are about 2 MB each as a tar");
        first.StdOut.Should().Contain("changed=true");

        var inspect = new[] { "docker", "image", "inspect", "--format", "{{.Id}} {{index .RepoTags 0}}", "opensvc/busybox:lab", "opensvc/httpd:lab" };
        var onN1 = await lab.On("n1", inspect);
        var onN3 = await lab.On("n3", inspect);
        onN3.ExitCode.Should().Be(0, "the images must be on n3 under their names: " + onN3.StdErr);
        Ids(onN3).Should().Be(Ids(onN1), "same ids and tags as on the sender");

        var second = await lab.SyncExec("n1", var, config, "svc1", "sync#0", "n3");
        second.ExitCode.Should().Be(0, second.StdOut + second.StdErr);
        SyncLab.Metric(second, "bytes_sent").Should().Be(0);
        SyncLab.Metric(second, "images_present").Should().Be(2);
        second.StdOut.Should().Contain("changed=false").And.Contain("already has all 2 image(s)");

        (await lab.SyncExec("n1", var, config, "svc1", "sync#0", null, "status")).StdOut.Should().StartWith("sync#0 up: n3 synced");
        (await lab.SyncExec("n3", var, config, "svc1", "sync#0", null, "status")).StdOut.Should().StartWith("sync#0 up: n3 synced",
            "the last_sync file was pushed to the target");
    }

    [LabFact]
    public async Task a_target_whose_container_data_fs_is_not_mounted_is_refused_before_sending()
    {
        var config = await PrepareAsync();
        var umount = await lab.On("n3", "umount", "/srv/svc1/docker");
        umount.ExitCode.Should().Be(0, umount.StdErr);

        var refused = await lab.SyncExec("n1", $"/srv/var-docker-{Guid.NewGuid():N}", config, "svc1", "sync#0", "n3");

        refused.ExitCode.Should().Be(1);
        refused.StdErr.Should().Contain("the destination fs /srv/svc1/docker").And.Contain("is not mounted on n3").And.Contain("refusing to sync");
        (await lab.On("n3", "docker", "image", "inspect", "opensvc/busybox:lab")).ExitCode.Should().NotBe(0, "nothing was sent");
    }
}
