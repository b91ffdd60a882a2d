using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

/// <summary>run_args, environment and volume_mounts: what they ask of docker run, and what is refused (with where and the fix).</summary>
public class DockerRunOptionsTests
{
    static DockerRunOptions Parse(string runArgs, string environment = "", string volumeMounts = "", string? hostname = null, string? netns = null) =>
        DockerRunOptions.Parse("container#0", Shlex.Split(runArgs), Shlex.Split(environment), Shlex.Split(volumeMounts), hostname, netns);

    static DockerContainer Container(string body) =>
        Seed.ResolveText($"[DEFAULT]\nnodes = n1\n[container#0]\ntype = docker\nimage = a\n{body}\n", "n1").Resource<DockerContainer>("container#0")!;

    [Fact]
    public void the_seed_run_args_give_a_bind_and_no_network()
    {
        var o = Parse("--net=none\n-v /etc/localtime:/etc/localtime:ro");

        o.Problems.Should().BeEmpty();
        o.Binds.Should().Equal("/etc/localtime:/etc/localtime:ro");
        (o.Network, o.RunArgsNetwork).Should().Be(("none", "none"));
    }

    [Theory]
    [InlineData("", null, "none")]
    [InlineData("--net=host", null, "host")]
    [InlineData("--network bridge", null, "bridge")]
    [InlineData("--net container:svc1.container.9", null, "container:svc1.container.9")]
    [InlineData("--net=bridge", "host", "host")]
    public void the_network_comes_from_netns_else_run_args_else_none(string runArgs, string? netns, string network) =>
        Parse(runArgs, netns: netns).Network.Should().Be(network);

    [Fact]
    public void detach_name_and_rm_are_dropped_and_every_env_form_is_read()
    {
        var o = Parse("-d --rm --name=other --name other2 -e A=1 --env=B=2 -e C=x=y", environment: "D=4 \"E=with space\"");

        o.Problems.Should().BeEmpty();
        o.Env.Should().Equal("A=1", "B=2", "C=x=y", "D=4", "E=with space");
    }

    [Fact]
    public void hostname_entrypoint_user_workdir_labels_caps_flags_and_volumes_are_read()
    {
        var o = Parse("-h web1 --entrypoint /bin/sh -u 1000 -w /srv -l tier=web --cap-add NET_ADMIN --privileged -it --volume=/data -v vol1:/var/lib/x",
            volumeMounts: "/a:/b:ro,z");

        o.Problems.Should().BeEmpty();
        (o.Hostname, o.Entrypoint, o.User, o.WorkingDir).Should().Be(("web1", "/bin/sh", "1000", "/srv"));
        o.Labels.Should().Equal([KeyValuePair.Create("tier", "web")]);
        o.CapAdd.Should().Equal("NET_ADMIN");
        (o.Privileged, o.Tty, o.Interactive, o.Init).Should().Be((true, true, true, false));
        o.Volumes.Should().Equal("/data");
        o.Binds.Should().Equal("vol1:/var/lib/x", "/a:/b:ro,z");
    }

    [Fact]
    public void the_hostname_keyword_wins_over_run_args() =>
        Parse("--hostname ra", hostname: "kw").Hostname.Should().Be("kw");

    public static TheoryData<string, string, string, string, string> Refused => new()
    {
        // run_args, environment, volume_mounts → keyword, reason, fix
        { "-p 80:80", "", "", "run_args",
            "-p 80:80 is not supported: containers get no bridge network here|remove -p 80:80 and give the container an address with an ip.docker resource (netns = container#0)" },
        { "--publish=8080:80", "", "", "run_args", "--publish 8080:80 is not supported: containers get no bridge network here|remove --publish 8080:80 and give the container an address with an ip.docker resource (netns = container#0)" },
        { "--restart=always", "", "", "run_args", $"option --restart is not supported by this agent|remove --restart from run_args (supported: {DockerRunOptions.Supported})" },
        { "-e HOME", "", "", "run_args", "-e HOME has no value: the agent does not copy its own environment into containers|-e HOME=VALUE" },
        { "-v", "", "", "run_args", "option -v needs a value|write -v <value>, or remove -v" },
        { "nginx", "", "", "run_args", "'nginx' is not an option (the image goes in 'image', its arguments in 'command')|remove nginx from run_args: image = <image>, command = <arguments>" },
        { "", "HOME", "", "environment", "entry 'HOME' has no value|write HOME=VALUE" },
        { "", "=1", "", "environment", "entry '=1' has no value|write NAME=1" },
        { "", "", "/a:b", "volume_mounts", "volume '/a:b': the container path 'b' is not absolute|write /b as the container path" },
        { "", "", "data", "volume_mounts", "volume 'data': the container path 'data' is not absolute|write /data as the container path" },
        { "", "", "./data:/d", "volume_mounts", "volume './data:/d': the host path './data' is neither absolute nor a volume name|write the absolute host path (/data?)" },
        { "", "", "/a:/b:readonly", "volume_mounts", "volume '/a:/b:readonly': unknown option 'readonly'|use ro or rw (or z, Z, shared, rshared, slave, rslave, private, rprivate, nocopy, consistent, cached, delegated)" },
        { "", "", "/a:/b:ro:x", "volume_mounts", "volume '/a:/b:ro:x': has more than source:destination:options|write /host/path:/container/path[:ro]" },
        { "-v /a::ro", "", "", "run_args", "volume '/a::ro': the container path is empty|write /host/path:/container/path[:ro]" },
        { "--net=container:svc1.container.1 -h web", "", "", "run_args",
            "-h/--hostname cannot be set on a container sharing the network of container:svc1.container.1 (docker refuses it)|remove -h/--hostname from run_args" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void what_docker_run_cannot_honour_is_a_problem_naming_keyword_reason_and_fix(string runArgs, string environment, string volumeMounts, string keyword, string reasonAndFix)
    {
        var problem = Parse(runArgs, environment, volumeMounts).Problems.Should().ContainSingle().Which;

        problem.Keyword.Should().Be(keyword);
        $"{problem.Reason}|{problem.Fix}".Should().Be(reasonAndFix);
    }

    [Fact]
    public void a_hostname_keyword_on_a_container_joining_another_network_is_a_problem_of_the_hostname_keyword()
    {
        var problem = Parse("", hostname: "web", netns: "host").Problems.Should().ContainSingle().Which;

        problem.Keyword.Should().Be("hostname");
        problem.Fix.Should().Be("remove hostname: the container has the hostname of the network it joins");
    }

    [Fact]
    public void validation_reports_run_option_problems_at_their_keyword_line_with_the_fix()
    {
        var problems = Seed.Validate("""
            [DEFAULT]
            nodes = n1 n2
            [container#0]
            type = docker
            image = nginx
            run_args = --net=none
                -p 80:80
            environment = A=1 HOME
            volume_mounts = /srv/data:data
            """).Where(p => p.Severity == Severity.Error).ToList();

        problems.Select(p => (p.Line, p.Section, p.Keyword, p.Node)).Should().Equal(
            (6, "container#0", "run_args", (NodeName?)null),
            (8, "container#0", "environment", null),
            (9, "container#0", "volume_mounts", null));
        problems[0].ToString().Should().Be(
            "svc1.conf:6: error: [container#0] run_args: -p 80:80 is not supported: containers get no bridge network here (fix: remove -p 80:80 and give the container an address with an ip.docker resource (netns = container#0))");
    }

    [Fact]
    public void a_run_args_inherited_from_default_is_reported_on_the_default_line()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1\nrun_args = --restart=always\n[container#0]\ntype = docker\nimage = a\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error)
            .Which.Should().Match<ConfigProblem>(p => p.Section == "DEFAULT" && p.Line == 3 && p.Keyword == "run_args");
    }

    [Fact]
    public void a_scoped_run_args_is_a_problem_only_on_its_node()
    {
        Seed.Validate("[DEFAULT]\nnodes = n1 n2\n[container#0]\ntype = docker\nimage = a\nrun_args@n2 = -p 80:80\n")
            .Should().ContainSingle(p => p.Severity == Severity.Error)
            .Which.Should().Match<ConfigProblem>(p => p.Keyword == "run_args@n2" && p.Node == new NodeName("n2"));
    }

    [Fact]
    public void the_resolved_container_carries_the_parsed_options_the_driver_translates()
    {
        var c = Container("run_args = -v /a:/a:ro --net=bridge\nenvironment = A=1\nhostname = h");

        c.RunOptions.Binds.Should().Equal("/a:/a:ro");
        c.RunOptions.Env.Should().Equal("A=1");
        (c.RunOptions.Hostname, c.RunOptions.Network).Should().Be(("h", "bridge"));
        (c.NetworkArg, c.EffectiveNetwork).Should().Be((null, "--net=bridge"));
    }
}
