using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

/// <summary>
/// Config values that would hand the node, or the agent's transport, to whoever writes the config: containers that are
/// root on the node are warned about (with the line and the fix); rsync options that replace the ssh transport are errors.
/// </summary>
public sealed class TrustValidationTests
{
    const string Container = "[DEFAULT]\nnodes = n1 n2\n[container#0]\ntype = docker\nimage = a\n";

    static IEnumerable<ConfigProblem> Warnings(string extra) =>
        Seed.Validate(Container + extra).Where(p => p.Section == "container#0" && p.Severity == Severity.Warning);

    [Theory]
    [InlineData("run_args = --privileged\n", "run_args", "--privileged gives the container every device")]
    [InlineData("run_args = --net=host\n", "run_args", "shares the node's network namespace")]
    [InlineData("netns = host\n", "netns", "shares the node's network namespace")]
    [InlineData("run_args = --cap-add SYS_ADMIN\n", "run_args", "--cap-add SYS_ADMIN lets the container act on the node")]
    [InlineData("run_args = --cap-add=cap_sys_module\n", "run_args", "--cap-add cap_sys_module")]
    [InlineData("run_args = -v /:/host\n", "run_args", "exposes the node (/)")]
    [InlineData("volume_mounts = /:/host:ro\n", "volume_mounts", "exposes the node (/)")]
    [InlineData("run_args = -v /var/run/docker.sock:/var/run/docker.sock:ro\n", "run_args", "exposes the node (/var/run/docker.sock)")]
    [InlineData("run_args = -v /srv/../dev:/d\n", "run_args", "exposes the node (/dev)")]
    [InlineData("run_args = -v /etc:/host-etc\n", "run_args", "lets the container write the node's /etc")]
    [InlineData("volume_mounts = /var/lib/opensvc/x:/x\n", "volume_mounts", "lets the container write the node's /var/lib/opensvc/x")]
    public void a_container_that_is_root_on_the_node_is_a_warning_on_the_line_that_asks_for_it(string extra, string keyword, string reason)
    {
        var warning = Warnings(extra).Should().ContainSingle().Which;
        warning.Keyword.Should().Be(keyword);
        warning.Reason.Should().Contain(reason);
        warning.Line.Should().Be(6, "the keyword is on the sixth line");
        warning.Fix.Should().NotBeNullOrEmpty();
    }

    [Theory]
    [InlineData("run_args = -v /etc/localtime:/etc/localtime:ro\n")]
    [InlineData("run_args = -v /srv/svc1/data:/data\n")]
    [InlineData("run_args = --cap-add NET_BIND_SERVICE --net=none\n")]
    [InlineData("volume_mounts = data:/data\n")]
    public void ordinary_containers_get_no_warning(string extra) => Warnings(extra).Should().BeEmpty();

    [Fact]
    public void a_disabled_container_is_not_warned_about() => Warnings("run_args = --privileged\ndisable = true\n").Should().BeEmpty();

    [Theory]
    [InlineData("-e ssh -p 2222", "-e")]
    [InlineData("-ave 'ssh -o StrictHostKeyChecking=no'", "-ave")]
    [InlineData("--rsh=ssh", "--rsh=ssh")]
    [InlineData("--rsh ssh", "--rsh")]
    [InlineData("--rsync-path='sudo rsync'", "--rsync-path=sudo rsync")]
    [InlineData("-M--log-file=/etc/x", "-M--log-file=/etc/x")]
    [InlineData("--remote-option=--fake-super", "--remote-option=--fake-super")]
    [InlineData("--connect-program='nc %H 873'", "--connect-program=nc %H 873")]
    [InlineData("--daemon", "--daemon")]
    [InlineData("--exclude=x -- /etc", "--")]
    public void rsync_options_that_replace_the_transport_are_errors(string options, string culprit)
    {
        var error = Seed.Validate($"[DEFAULT]\nnodes = n1\n[sync#0]\nsrc = /d/\ndst = /d\ntarget = nodes\noptions = {options}\n")
            .Should().ContainSingle(p => p.Keyword == "options" && p.Severity == Severity.Error).Which;
        error.Line.Should().Be(7);
        error.Reason.Should().Contain($"'{culprit}' would replace the agent's ssh transport");
        error.Fix.Should().StartWith($"remove {culprit}");
    }

    [Theory]
    [InlineData("--exclude=/logs/* --bwlimit=100")]
    [InlineData("-avz --delete-after")]
    [InlineData("-f '- *.tmp'")]
    [InlineData("-B4096e")]
    public void other_rsync_options_are_fine(string options) =>
        RsyncTransport.Override(Shlex.Split(options)).Should().BeNull();
}
