using System.Diagnostics;
using FluentAssertions;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Tests.Support;
using Xunit;

namespace OpenSvc.Tests.Drivers;

/// <summary>
/// The real drivers on the real lab. Drivers run in the agent process on its node, so each action runs the
/// product's own driver code inside a lab node: `lab/node-exec.sh NODE dotnet opensvc.dll driver exec ...`
/// (the same code path as a workflow step, minus the event store). The service is the seed's failover config
/// adapted to the lab (lab/services/failover.conf). Every test leaves the service stopped on every node.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class LabDriverTests(LabFixture lab) : IAsyncLifetime
{
    string _config = "";

    public async Task InitializeAsync()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        var text = (await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "lab", "failover.conf")))
            .Replace("@N1_DEV@", lab.Dev("n1")).Replace("@N3_DEV@", lab.Dev("n3")).Replace("@SUBNET@", lab.Subnet);
        _config = Path.Combine(lab.WorkDir, "svc1.conf");
        await File.WriteAllTextAsync(_config, text);
    }

    public async Task DisposeAsync()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        foreach (var node in new[] { "n1", "n2", "n3" })
            foreach (var rid in new[] { "container#1", "ip#0", "container#0", "fs#1", "fs#0" })
                await DriverAsync(node, rid, "stop");
    }

    string Ip => $"{lab.Subnet}.50";

    [LabFact]
    public async Task fs_mounts_and_unmounts_idempotently_and_n2_sees_on_the_shared_disk_what_n1_wrote()
    {
        (await Must("n1", "fs#1", "status")).Should().Contain("fs#1: down");
        (await Must("n1", "fs#1", "start")).Should().Contain("changed").And.Contain($"mount -o defaults,subvol=data -- {lab.Dev("n1")} /srv/svc1/data");
        (await Must("n1", "fs#1", "start")).Should().Contain("unchanged").And.Contain("already mounted");
        (await Must("n1", "fs#1", "status")).Should().Contain($"fs#1: up ({lab.Dev("n1")} mounted on /srv/svc1/data)");

        var token = Guid.NewGuid().ToString("N");
        (await lab.ExecAsync("n1", ["sh", "-c", $"echo {token} > /srv/svc1/data/written-on-n1 && sync"])).Succeeded.Should().BeTrue();

        (await Must("n1", "fs#1", "stop")).Should().Contain("changed");
        (await Must("n1", "fs#1", "stop")).Should().Contain("unchanged").And.Contain("already unmounted");
        (await Must("n1", "fs#1", "status")).Should().Contain("fs#1: down");

        (await Must("n2", "fs#1", "start")).Should().Contain("changed");
        var read = await lab.ExecAsync("n2", ["cat", "/srv/svc1/data/written-on-n1"]);
        read.StdOut.Trim().Should().Be(token, "n1 and n2 share the disk");
        (await Must("n2", "fs#1", "stop")).Should().Contain("changed");

        // n3 is a DR node: its own disk (dev@drpnodes), standby there.
        (await Must("n3", "fs#1", "startstandby")).Should().Contain($"{lab.Dev("n3")} /srv/svc1/data");
        (await lab.ExecAsync("n3", ["test", "-e", "/srv/svc1/data/written-on-n1"])).ExitCode.Should().Be(1, "n3 has its own disk");
        (await Must("n3", "fs#1", "stop")).Should().Contain("changed");
    }

    [LabFact]
    public async Task a_dev_that_looks_like_a_mount_option_reaches_mount_as_a_device_name()
    {
        // Without "--", mount would read -oremount,exec as an option; with it, mount looks for a device of that name.
        var config = Path.Combine(lab.WorkDir, "optdev.conf");
        await File.WriteAllTextAsync(config, "[DEFAULT]\nnodes = n1 n2\n[fs#0]\ntype = ext4\ndev = -oremount,exec\nmnt = /srv/optdev\n");

        var r = await DriverAsync("n1", "fs#0", "start", config, "optdev");

        r.ExitCode.Should().Be(1, r.StdOut);
        r.StdErr.Should().Contain("mount -t ext4 -- -oremount,exec /srv/optdev failed").And.Contain("-oremount,exec does not exist");
        (await lab.ExecAsync("n1", ["mountpoint", "-q", "/srv/optdev"])).ExitCode.Should().NotBe(0, "nothing was mounted or remounted");
    }

    [LabFact]
    public async Task stop_of_a_busy_fs_is_refused_naming_the_process_holding_it()
    {
        await Must("n1", "fs#1", "start");
        var holder = Process.Start(new ProcessStartInfo(Path.Combine(lab.RepoRoot, "lab", "node-exec.sh"))
        {
            ArgumentList = { "n1", "sh", "-c", "cd /srv/svc1/data && exec sleep 120" },
            Environment = { ["LAB_PREFIX"] = lab.Prefix, ["LAB_SUBNET"] = lab.Subnet, ["LAB_DIR"] = lab.Dir },
            UseShellExecute = false,
        })!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            ProcessResult busy;
            do
            {
                await Task.Delay(200);
                busy = await DriverAsync("n1", "fs#1", "stop");
            } while (busy.Succeeded && DateTime.UtcNow < deadline && await RemountAsync());
            busy.ExitCode.Should().Be(1, busy.StdOut);
            busy.StdErr.Should().Contain("cannot unmount /srv/svc1/data on n1").And.Contain("busy").And.Contain("sleep");
            (await Must("n1", "fs#1", "status")).Should().Contain("fs#1: up");
        }
        finally
        {
            holder.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        }
        (await Must("n1", "fs#1", "stop")).Should().Contain("changed");
    }

    /// <summary>When the holder had not entered the mount yet and the stop succeeded, mount again and retry.</summary>
    async Task<bool> RemountAsync() => (await DriverAsync("n1", "fs#1", "start")).Succeeded;

    [LabFact]
    public async Task containers_run_on_the_service_private_dockerd_and_the_ip_answers_from_n2_until_stopped()
    {
        await Must("n1", "fs#0", "start");
        await Must("n1", "fs#1", "start");
        var sock = Path.Combine(lab.Dir, "n1", "var", "svc", "svc1", "docker.sock");

        // A fresh private daemon on the service's fs has no image, and no registry is reachable: a clear failure.
        var missing = await DriverAsync("n1", "container#0", "start");
        missing.ExitCode.Should().Be(1);
        missing.StdErr.Should().Contain("image opensvc/busybox:lab is not present on node n1").And.Contain("private dockerd of svc1");
        // What the docker sync will do: load the images into the private daemon.
        var load = await lab.ExecAsync("n1", ["sh", "-c", $"docker save opensvc/busybox:lab opensvc/httpd:lab | docker -H unix://{sock} load"]);
        load.Succeeded.Should().BeTrue(load.Tail());

        (await Must("n1", "container#0", "start")).Should().Contain("created svc1.container.0").And.Contain("network none");
        (await Must("n1", "ip#0", "start")).Should().Contain($"{Ip}/24 on eth0").And.Contain($"default via {lab.Subnet}.1");
        (await Must("n1", "container#1", "start")).Should().Contain("network container:svc1.container.0");
        (await Must("n1", "container#0", "start")).Should().Contain("unchanged").And.Contain("already running");
        (await Must("n1", "ip#0", "start")).Should().Contain("unchanged");
        (await Must("n1", "container#1", "status")).Should().Contain("container#1: up");
        (await Must("n1", "ip#0", "status")).Should().Contain("ip#0: up");

        var inspect = await lab.ExecAsync("n1", ["docker", "-H", $"unix://{sock}", "inspect", "-f",
            "{{.HostConfig.NetworkMode}} {{index .Config.Labels \"com.opensvc.rid\"}} {{index .Config.Labels \"com.opensvc.path\"}}", "svc1.container.1"]);
        var id0 = (await lab.ExecAsync("n1", ["docker", "-H", $"unix://{sock}", "inspect", "-f", "{{.Id}}", "svc1.container.0"])).StdOut.Trim();
        // Docker records the joined container by id.
        inspect.StdOut.Trim().Should().Be($"container:{id0} container#1 svc1");
        var root = await lab.ExecAsync("n1", ["docker", "-H", $"unix://{sock}", "info", "-f", "{{.DockerRootDir}}"]);
        root.StdOut.Trim().Should().Be("/srv/svc1/docker", "the private daemon's data lives on the service's fs");
        (await lab.ExecAsync("n1", ["docker", "ps", "-q", "--filter", "name=svc1"])).StdOut.Trim().Should().BeEmpty("the node's own dockerd runs none of them");

        var ping = await lab.ExecAsync("n2", ["busybox", "ping", "-c", "3", "-W", "2", Ip], timeout: TimeSpan.FromSeconds(20));
        ping.Succeeded.Should().BeTrue(ping.StdOut + ping.StdErr);
        // bash's /dev/tcp: the one HTTP client every node has (busybox wget crashes on this host's static build).
        var http = await lab.ExecAsync("n2", ["timeout", "10", "bash", "-c",
            $"exec 3<>/dev/tcp/{Ip}/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"], timeout: TimeSpan.FromSeconds(20));
        http.StdOut.Should().MatchRegex(@"^HTTP/1\.[01] 200").And.Contain("opensvc lab", "container#1 serves on container#0's address");

        (await Must("n1", "container#1", "stop")).Should().Contain("keeps running for svc1.container.0");
        (await Must("n1", "ip#0", "stop")).Should().Contain($"removed {Ip}/24");
        var gone = await lab.ExecAsync("n2", ["busybox", "ping", "-c", "1", "-W", "1", Ip], timeout: TimeSpan.FromSeconds(10));
        gone.Succeeded.Should().BeFalse("the address went with the stop");
        (await Must("n1", "ip#0", "status")).Should().Contain("ip#0: down");
        (await Must("n1", "container#0", "stop")).Should().Contain("stopped the private dockerd of svc1");
        (await Must("n1", "container#0", "stop")).Should().Contain("unchanged");
        (await Must("n1", "ip#0", "status")).Should().Contain("ip#0: n/a");
        (await Must("n1", "container#0", "status")).Should().Contain("container#0: down");
        (await lab.ExecAsync("n1", ["docker", "-H", $"unix://{sock}", "version"], timeout: TimeSpan.FromSeconds(20))).Succeeded.Should().BeFalse("the private daemon is stopped");

        // Restart from the existing containers: the images are on the service's fs, no load needed.
        (await Must("n1", "container#0", "start")).Should().Contain("started the private dockerd").And.NotContain("created");
        await Must("n1", "container#0", "stop");
    }

    [LabFact]
    public async Task a_missing_image_on_the_node_daemon_fails_naming_the_image_and_the_node()
    {
        var conf = Path.Combine(lab.WorkDir, "svc2.conf");
        await File.WriteAllTextAsync(conf, "[DEFAULT]\nnodes = n1 n2\n[container#0]\ntype = docker\nimage = opensvc/absent:lab\ncommand = sleep 5\n");
        var r = await DriverAsync("n1", "container#0", "start", conf, "svc2");
        r.ExitCode.Should().Be(1);
        r.StdErr.Trim().Should().StartWith("opensvc: container#0: image opensvc/absent:lab is not present on node n1 in the node's dockerd")
            .And.Contain("set image_pull_policy = always");
        (await lab.ExecAsync("n1", ["docker", "ps", "-aq", "--filter", "name=svc2"])).StdOut.Trim().Should().BeEmpty("nothing was created");
    }

    async Task<string> Must(string node, string rid, string action)
    {
        var r = await DriverAsync(node, rid, action);
        r.Succeeded.Should().BeTrue($"{rid} {action} on {node} should succeed: {r.StdOut}{r.StdErr}");
        return r.StdOut;
    }

    Task<ProcessResult> DriverAsync(string node, string rid, string action, string? config = null, string service = "svc1") =>
        lab.ExecAsync(node,
            ["dotnet", LabBinaries.OpensvcDll(lab.Dir), "driver", "exec", "--config", config ?? _config, "--service", service, "--node", node, "--rid", rid, "--action", action],
            new Dictionary<string, string>
            {
                // The lab's dockerds use cgroupfs under the node's cgroup, so `lab down` finds every container process.
                ["OPENSVC_DOCKERD_EXTRA_ARGS"] = $"--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent {lab.Prefix}-{node}",
            },
            TimeSpan.FromMinutes(3));
}
