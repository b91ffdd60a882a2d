using FluentAssertions;
using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers.Container.Docker;
using Xunit;

namespace OpenSvc.Tests.Drivers;

public sealed class DockerRunArgsTests
{
    static readonly ServiceLabels Labels = new("0f2c1b8e-0000-4000-8000-000000000001", ServicePath.Parse("svc1"));

    static DockerRunSpec Translate(string body, string extra = "") =>
        DockerRunArgs.Translate(DriverConfigs.Container("image = opensvc/busybox:lab\n" + body, extra), Labels);

    [Fact]
    public void the_seed_container_gets_its_name_binds_network_and_command()
    {
        var spec = Translate("run_args = --net=none\n   -v /etc/localtime:/etc/localtime:ro\nrun_command = /bin/bash");
        spec.Errors.Should().BeEmpty();
        var p = spec.Parameters;
        p.Name.Should().Be("svc1.container.0");
        p.Image.Should().Be("opensvc/busybox:lab");
        p.HostConfig.NetworkMode.Should().Be("none");
        p.HostConfig.Binds.Should().Equal("/etc/localtime:/etc/localtime:ro");
        p.Cmd.Should().Equal("/bin/bash");
    }

    [Fact]
    public void labels_are_opensvcs_identity_labels()
    {
        Translate("").Parameters.Labels.Should().BeEquivalentTo(new Dictionary<string, string>
        {
            ["com.opensvc.id"] = "0f2c1b8e-0000-4000-8000-000000000001.container#0",
            ["com.opensvc.path"] = "svc1",
            ["com.opensvc.namespace"] = "root",
            ["com.opensvc.name"] = "svc1",
            ["com.opensvc.kind"] = "svc",
            ["com.opensvc.rid"] = "container#0",
        });
    }

    public static TheoryData<string, string> Networks => new()
    {
        { "", "none" },                                          // OpenSVC's default
        { "run_args = --net=host", "host" },
        { "run_args = --network bridge", "bridge" },
        { "run_args = --net container:svc1.container.9", "container:svc1.container.9" },
        { "netns = host", "host" },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void the_network_comes_from_netns_else_run_args_else_none(string body, string mode) =>
        Translate(body).Parameters.HostConfig.NetworkMode.Should().Be(mode);

    [Fact]
    public void netns_naming_another_container_joins_its_network()
    {
        var c = DriverConfigs.Resource<DockerContainer>(
            "[DEFAULT]\nnodes = n1\n[container#0]\ntype = docker\nimage = a\n[container#1]\ntype = docker\nimage = b\nnetns = container#0\n", "container#1");
        var spec = DockerRunArgs.Translate(c, Labels);
        spec.Parameters.HostConfig.NetworkMode.Should().Be("container:svc1.container.0");
        spec.Parameters.Name.Should().Be("svc1.container.1");
    }

    [Fact]
    public void detach_name_and_rm_are_taken_out_of_run_args_and_the_agent_name_kept()
    {
        var spec = Translate("run_args = -d --rm --name=other --name other2 -e A=1 --env=B=2 -e C=x=y");
        spec.Errors.Should().BeEmpty();
        spec.Parameters.Name.Should().Be("svc1.container.0");
        spec.Parameters.HostConfig.AutoRemove.Should().BeFalse();
        spec.Parameters.Env.Should().Equal("A=1", "B=2", "C=x=y");
    }

    [Fact]
    public void hostname_entrypoint_user_workdir_labels_caps_and_flags_are_translated()
    {
        var spec = Translate("run_args = -h web1 --entrypoint /bin/sh -u 1000 -w /srv -l tier=web --cap-add NET_ADMIN --privileged -it --volume=/data -v vol1:/var/lib/x");
        spec.Errors.Should().BeEmpty();
        var p = spec.Parameters;
        p.Hostname.Should().Be("web1");
        p.Entrypoint.Should().Equal("/bin/sh");
        (p.User, p.WorkingDir).Should().Be(("1000", "/srv"));
        p.Labels["tier"].Should().Be("web");
        p.HostConfig.CapAdd.Should().Equal("NET_ADMIN");
        p.HostConfig.Privileged.Should().BeTrue();
        (p.Tty, p.OpenStdin).Should().Be((true, true));
        p.Volumes.Should().ContainKey("/data");
        p.HostConfig.Binds.Should().Equal("vol1:/var/lib/x");
    }

    [Fact]
    public void the_hostname_keyword_wins_over_run_args() =>
        Translate("hostname = kw\nrun_args = --hostname ra").Parameters.Hostname.Should().Be("kw");

    [Fact]
    public void environment_and_volume_mounts_keywords_add_to_run_args() 
    {
        var p = Translate("run_args = -e A=1\nenvironment = B=2 \"C=with space\"\nvolume_mounts = /a:/b:ro").Parameters;
        p.Env.Should().Equal("A=1", "B=2", "C=with space");
        p.HostConfig.Binds.Should().Equal("/a:/b:ro");
    }

    [Fact]
    public void a_container_with_run_option_problems_is_refused_with_the_domains_reason_and_fix()
    {
        // What is refused is decided by DockerRunOptions (tested in the domain); the driver never runs such a container.
        var spec = Translate("run_args = -p 80:80 --restart=always\nenvironment = HOME");
        spec.Ok.Should().BeFalse();
        spec.Errors.Should().Equal(
            "container#0: run_args -p 80:80 is not supported: containers get no bridge network here (fix: remove -p 80:80 and give the container an address with an ip.docker resource (netns = container#0))",
            $"container#0: run_args option --restart is not supported by this agent (fix: remove --restart from run_args (supported: {DockerRunOptions.Supported}))",
            "container#0: environment entry 'HOME' has no value (fix: write HOME=VALUE)");
    }

    [Fact]
    public void a_missing_image_is_an_error() =>
        DockerRunArgs.Translate(DriverConfigs.Container(""), Labels).Errors.Should().Contain(e => e.Contains("image is not set"));

    [Fact]
    public void the_name_based_service_id_is_a_stable_uuid()
    {
        var id = DockerContainerDriver.NameBasedId("svc1");
        Guid.TryParse(id, out _).Should().BeTrue();
        id.Should().Be(DockerContainerDriver.NameBasedId("svc1")).And.NotBe(DockerContainerDriver.NameBasedId("svc2"));
    }
}
