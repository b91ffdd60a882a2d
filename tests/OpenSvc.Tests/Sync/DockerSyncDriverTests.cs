using FluentAssertions;
using OpenSvc.Tests.Support;
using Xunit;

namespace OpenSvc.Tests.Sync;

/// <summary>
/// sync.docker run inside n1 (as n1's agent would) towards the DR node n3 of the lab, for a service with a private
/// dockerd (docker_data_dir): images go from n1's private daemon into n3's, which n3 gets ready itself
/// (prepare-receive, as n3's agent does in a sync run).
/// </summary>
[Collection(SyncLabCollection.Name)]
public sealed class DockerSyncDriverTests(SyncLab lab) : IAsyncLifetime
{
    static readonly string[] Images = ["opensvc/busybox:lab", "opensvc/httpd:lab"];

    // The agent's var dir: the same path on both nodes, each under its own private /srv.
    readonly string _var = $"/srv/var-docker-{Guid.NewGuid():N}";
    string _config = "";

    string Socket => $"unix://{_var}/svc/svc1/docker.sock";

    public async Task InitializeAsync()
    {
        if (!lab.Up)
            return;
        _config = lab.WriteShared($"docker-{Guid.NewGuid():N}.conf", SyncConfigs.FailoverDockerBtrfs(lab.Dev("n1"), lab.Dev("n3")));
        foreach (var node in new[] { "n1", "n3" })
        {
            var m = await lab.Sh(node, "mkdir -p /srv/svc1/docker && (mountpoint -q /srv/svc1/docker || mount -o subvol=docker \"$1\" /srv/svc1/docker)", lab.Dev(node));
            m.ExitCode.Should().Be(0, m.StdErr);
        }
        // The sender's private daemon holds the images (loaded from n1's own dockerd: no registry in the lab).
        var ready = await lab.SyncExec("n1", _var, _config, "svc1", "sync#0", null, "prepare-receive");
        ready.ExitCode.Should().Be(0, ready.StdOut + ready.StdErr);
        var load = await lab.Sh("n1", "s=$1; shift; docker save \"$@\" | docker -H \"$s\" load -q", [Socket, .. Images]);
        load.ExitCode.Should().Be(0, load.StdErr);
    }

    public async Task DisposeAsync()
    {
        if (!lab.Up)
            return;
        foreach (var node in new[] { "n1", "n3" })
            await lab.Sh(node, "[ ! -f \"$1\" ] || start-stop-daemon --stop --oknodo --pidfile \"$1\" --retry TERM/30/KILL/5 --remove-pidfile", $"{_var}/svc/svc1/docker.pid");
    }

    Task<Infrastructure.Execution.ProcessResult> InspectAsync(string node) =>
        lab.ExecAsync(node, ["docker", "-H", Socket, "image", "inspect", "--format", "{{.Id}} {{index .RepoTags 0}}", .. Images]);

    static string Ids(Infrastructure.Execution.ProcessResult r) => string.Join(",", r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

    [LabFact]
    public async Task missing_images_reach_the_targets_private_daemon_and_a_second_sync_sends_zero_bytes()
    {
        var never = await lab.SyncExec("n1", _var, _config, "svc1", "sync#0", null, "status");
        never.StdOut.Should().Contain("sync#0: warn (never synced to n3");

        // Without n3's preparation its private daemon is not there: refused, nothing goes to the node's daemon instead.
        var unprepared = await lab.SyncExec("n1", _var, _config, "svc1", "sync#0", "n3");
        unprepared.ExitCode.Should().Be(1, unprepared.StdOut);
        unprepared.StdErr.Should().Contain("the private dockerd of svc1 is not running on n3").And.Contain("prepare-receive");

        var prepared = await lab.SyncExec("n3", _var, _config, "svc1", "sync#0", null, "prepare-receive");
        prepared.ExitCode.Should().Be(0, prepared.StdOut + prepared.StdErr);
        prepared.StdOut.Should().Contain("started the private dockerd of svc1 on n3").And.Contain("ready to receive");
        (await lab.Sh("n3", "s=$1; shift; docker -H \"$s\" rmi -f \"$@\" >/dev/null 2>&1; true", [Socket, .. Images])).ExitCode.Should().Be(0);

        var first = await lab.SyncExec("n1", _var, _config, "svc1", "sync#0", "n3");
        first.ExitCode.Should().Be(0, first.StdOut + first.StdErr);
        LabInstance.Metric(first, "images_sent").Should().Be(2);
        LabInstance.Metric(first, "bytes_sent").Should().BeGreaterThan(1_000_000, "two busybox images are about 2 MB each as a tar");
        first.StdOut.Should().Contain("sync#0 sync: changed");

        var onN1 = await InspectAsync("n1");
        var onN3 = await InspectAsync("n3");
        onN3.ExitCode.Should().Be(0, "the images must be in n3's private daemon under their names: " + onN3.StdErr);
        Ids(onN3).Should().Be(Ids(onN1), "same ids and tags as on the sender");

        (await lab.SyncExec("n3", _var, _config, "svc1", "sync#0", null, "prepare-receive")).StdOut
            .Should().Contain("already runs on n3", "preparing is idempotent");
        var second = await lab.SyncExec("n1", _var, _config, "svc1", "sync#0", "n3");
        second.ExitCode.Should().Be(0, second.StdOut + second.StdErr);
        LabInstance.Metric(second, "bytes_sent").Should().Be(0);
        LabInstance.Metric(second, "images_present").Should().Be(2);
        second.StdOut.Should().Contain("sync#0 sync: unchanged").And.Contain("already has all 2 image(s)");

        (await lab.SyncExec("n1", _var, _config, "svc1", "sync#0", null, "status")).StdOut.Should().StartWith("sync#0: up (n3 synced");
        (await lab.SyncExec("n3", _var, _config, "svc1", "sync#0", null, "status")).StdOut.Should().StartWith("sync#0: up (n3 synced",
            "the last_sync file was pushed to the target");
    }

    [LabFact]
    public async Task a_target_whose_container_data_fs_is_not_mounted_is_refused_before_sending()
    {
        var umount = await lab.ExecAsync("n3", ["umount", "/srv/svc1/docker"]);
        umount.ExitCode.Should().Be(0, umount.StdErr);

        // n3 refuses to start a daemon whose images would land on its root disk...
        var prepare = await lab.SyncExec("n3", _var, _config, "svc1", "sync#0", null, "prepare-receive");
        prepare.ExitCode.Should().Be(1);
        prepare.StdErr.Should().Contain("refusing to receive images on n3").And.Contain("fs#0 (/srv/svc1/docker), which is not mounted on n3");

        // ... and the sender refuses too, whatever n3 did.
        var refused = await lab.SyncExec("n1", _var, _config, "svc1", "sync#0", "n3");
        refused.ExitCode.Should().Be(1);
        refused.StdErr.Should().Contain("the destination fs /srv/svc1/docker").And.Contain("is not mounted on n3").And.Contain("refusing to sync");
        (await lab.ExecAsync("n3", ["test", "-S", $"{_var}/svc/svc1/docker.sock"])).ExitCode.Should().NotBe(0, "no daemon was started on n3");
    }
}
