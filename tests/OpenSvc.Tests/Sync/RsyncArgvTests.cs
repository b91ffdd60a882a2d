using FluentAssertions;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers.Sync.Rsync;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Workflows.Engine;
using Xunit;

namespace OpenSvc.Tests.Sync;

public sealed class RsyncArgvTests
{
    static readonly SshOptions Ssh = new() { KnownHostsPath = "/etc/opensvc/known_hosts", KeyPath = "/root/.ssh/id_ed25519" };

    const string Rsh = "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/opensvc/known_hosts -o GlobalKnownHostsFile=/dev/null -o ConnectTimeout=10 -o IdentitiesOnly=yes -o Ciphers=aes128-gcm@openssh.com,aes128-ctr,aes256-gcm@openssh.com,aes256-ctr,chacha20-poly1305@openssh.com -i /root/.ssh/id_ed25519 -p 22";

    /// <summary>Doc case 3 (the seed flex-failover-rsync), resolved for n2, with extra keywords appended to sync#1.</summary>
    static RsyncSync Resource(string extra = "")
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "sync", "doc-case-3.conf")) + extra;
        return new OpenSvc.Workflows.Drivers.ResolvedServices().Resolve(text, "svc1", new NodeName("n2")).Resource<RsyncSync>("sync#1")!;
    }

    static string Line(RsyncSync r, SshOptions? ssh = null) =>
        string.Join(" | ", RsyncArgv.Build(r, r.Src, new NodeName("n3"), ssh ?? Ssh));

    [Theory]
    [InlineData("/srv/svc1/data/", "/srv/svc1/data", "/srv/svc1/data/", "/srv/svc1/data")]
    [InlineData("/srv/svc1/data/", "/backup/svc1", "/backup/svc1/", "/srv/svc1/data")]
    [InlineData("/srv/svc1/data", "/backup", "/backup/data", "/srv/svc1/")]
    [InlineData("/srv/svc1/data", "/backup/", "/backup/data", "/srv/svc1/")]
    public void a_reversed_send_copies_dst_back_where_the_forward_send_took_it_from(string src, string dst, string back, string into)
    {
        var r = Resource() with { Src = [src], Dst = dst };

        RsyncArgv.Reverse(r).Should().Be((back, into, (string?)null));
    }

    [Fact]
    public void a_reversed_send_refuses_several_sources_merged_into_one_dst() =>
        RsyncArgv.Reverse(Resource() with { Src = ["/a/", "/b/"] }).Problem.Should().Contain("exactly one src");

    [Fact]
    public void doc_case_3_gives_the_C24_command_line_with_our_ssh_settings() =>
        RsyncArgv.Build(Resource(), Resource().Src, new NodeName("n3"), Ssh).Should().Equal(
            "rsync", "-HAXpogDtrlvx", "--stats", "--delete", "--force", "--exclude=/srv/svc1/data/logs/*", "--timeout=3600",
            "-e", Rsh, "--", "/srv/svc1/data/", "root@n3:/srv/svc1/data");

    [Theory]
    [InlineData("reset_options = true\n", "rsync | --exclude=/srv/svc1/data/logs/* | --timeout=3600 | -e | " + Rsh + " | -- | /srv/svc1/data/ | root@n3:/srv/svc1/data")]
    [InlineData("bwlimit = 5000\n", "rsync | -HAXpogDtrlvx | --stats | --delete | --force | --exclude=/srv/svc1/data/logs/* | --timeout=3600 | --bwlimit=5000 | -e | " + Rsh + " | -- | /srv/svc1/data/ | root@n3:/srv/svc1/data")]
    [InlineData("timeout = 10m\n", "rsync | -HAXpogDtrlvx | --stats | --delete | --force | --exclude=/srv/svc1/data/logs/* | --timeout=600 | -e | " + Rsh + " | -- | /srv/svc1/data/ | root@n3:/srv/svc1/data")]
    public void keywords_change_the_command_line_as_in_opensvc(string extra, string expected) =>
        Line(Resource(extra)).Should().Be(expected);

    [Theory]
    [InlineData("-e", "ssh -p 2222 -o StrictHostKeyChecking=no")]
    [InlineData("--rsh=ssh -o StrictHostKeyChecking=no", null)]
    [InlineData("--rsync-path=sh -c 'id'", null)]
    [InlineData("--", "/etc")]
    public void options_that_would_replace_the_ssh_transport_are_refused(string option, string? value)
    {
        var act = () => Line(Resource().WithOptions(value is null ? [option] : [option, value]));
        act.Should().Throw<ArgumentException>().WithMessage("*would replace the agent's ssh transport*");
    }

    [Fact]
    public void sources_and_destination_that_look_like_options_are_operands_after_the_double_dash()
    {
        var argv = RsyncArgv.Build(Resource() with { Dst = "-e sh" }, ["--rsh=sh", "-e"], new NodeName("n3"), Ssh);
        argv.Should().EndWith(["-e", Rsh, "--", "--rsh=sh", "-e", "root@n3:-e sh"]);
        argv.Count(a => a == "--").Should().Be(1);
    }

    [Fact]
    public void a_non_root_user_runs_the_remote_rsync_through_sudo() =>
        Line(Resource(), Ssh with { User = "opensvc" }).Should().Contain("--timeout=3600 | --rsync-path | sudo rsync | -e").And.EndWith("-- | /srv/svc1/data/ | opensvc@n3:/srv/svc1/data");

    [Fact]
    public void ssh_paths_with_blanks_are_quoted_for_rsyncs_own_splitting() =>
        RsyncArgv.Rsh(Ssh with { KeyPath = "/keys/my key" }).Should().Contain("-i '/keys/my key'");

    [Fact]
    public void stats_give_bytes_sent_and_files_transferred()
    {
        const string stats = """
            Number of files: 5 (reg: 3, dir: 2)
            Number of created files: 4 (reg: 3, dir: 1)
            Number of deleted files: 1
            Number of regular files transferred: 3
            Total file size: 2,000,010 bytes
            Total bytes sent: 2,001,234
            Total bytes received: 95
            """;
        RsyncArgv.ParseStats(stats).Should().Be(new RsyncStats(2_001_234, 3, 1));
    }
}

static class RsyncSyncExtensions
{
    public static RsyncSync WithOptions(this RsyncSync r, IReadOnlyList<string> options) => r with { Options = options };
}
