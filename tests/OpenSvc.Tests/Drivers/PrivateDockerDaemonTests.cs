using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using OpenSvc.Infrastructure.Drivers;
using OpenSvc.Infrastructure.Drivers.Container.Docker;
using Xunit;

namespace OpenSvc.Tests.Drivers;

public sealed class PrivateDockerDaemonTests
{
    static readonly AgentPaths Paths = new("/var/lib/opensvc", "/run/opensvc");

    [Fact]
    public void the_daemon_keeps_its_socket_and_pid_under_the_service_var_dir_and_data_on_the_service_fs()
    {
        PrivateDockerDaemon.DaemonArgv(Paths, "svc1", "/srv/svc1/docker/data", ["--cgroup-parent", "lab-n1"]).Should().Equal(
            "dockerd", "--config-file", "/var/lib/opensvc/svc/svc1/daemon.json",
            "--data-root=/srv/svc1/docker/data",
            "--exec-root", "/run/opensvc/svc1",
            "--pidfile", "/var/lib/opensvc/svc/svc1/docker.pid",
            "-H", "unix:///var/lib/opensvc/svc/svc1/docker.sock",
            "--bridge=none", "--iptables=false", "--ip-masq=false", "--ip6tables=false",
            "--cgroup-parent", "lab-n1");
    }

    [Fact]
    public void socket_path_is_opensvcs()
    {
        var daemon = new PrivateDockerDaemon(Paths, NullLogger<PrivateDockerDaemon>.Instance);
        daemon.SocketPath("svc1").Should().Be("/var/lib/opensvc/svc/svc1/docker.sock");
        daemon.Endpoint("svc1").Should().Be(new Uri("unix:///var/lib/opensvc/svc/svc1/docker.sock"));
    }
}
