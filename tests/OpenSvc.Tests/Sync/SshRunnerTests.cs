using System.Diagnostics;
using FluentAssertions;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Sync;

/// <summary>The SSH.NET runner against the lab's real sshd: host keys verified, streaming stdin, quoting.</summary>
[Collection(SyncLabCollection.Name)]
public sealed class SshRunnerTests(SyncLab lab, ITestOutputHelper output)
{
    SshRunner Runner(string? knownHosts = null) =>
        new(new SshOptions { KnownHostsPath = knownHosts ?? lab.KnownHosts, KeyPath = lab.Key, ConnectTimeout = TimeSpan.FromSeconds(5) });

    string N3Fingerprint()
    {
        var line = File.ReadAllLines(lab.KnownHosts).Single(l => l.StartsWith("n3,", StringComparison.Ordinal));
        return KnownHosts.Fingerprint(Convert.FromBase64String(line.Split(' ')[2]));
    }

    [LabFact]
    public async Task a_known_host_runs_commands_with_arguments_passed_exactly()
    {
        using var ssh = await Runner().ConnectAsync(lab.Address("n3"), CancellationToken.None);
        var weird = "it's a \"test\" $HOME `id` ; rm -rf / * \\ end";
        var r = await ssh.RunAsync(["printf", "%s|%s", "hostname-check", weird], CancellationToken.None);
        r.ExitCode.Should().Be(0, r.StdErr);
        r.StdOut.Should().Be("hostname-check|" + weird);
        (await ssh.RunAsync(["hostname"], CancellationToken.None)).StdOut.Trim().Should().Be("n3");
        ssh.Cipher.Should().StartWith("aes128", "AES is preferred over chacha20 for throughput");

        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 10; i++)
            (await ssh.RunAsync(["true"], CancellationToken.None)).ExitCode.Should().Be(0);
        output.WriteLine($"10 exec round trips: {sw.ElapsedMilliseconds} ms; cipher {ssh.Cipher}");
    }

    [LabFact]
    public async Task stdin_is_streamed_to_the_remote_command_and_counted()
    {
        using var ssh = await Runner().ConnectAsync(lab.Address("n3"), CancellationToken.None);
        var payload = new byte[3 * 1024 * 1024 + 17];
        Random.Shared.NextBytes(payload);
        var r = await ssh.RunWithInputAsync(["sh", "-c", "wc -c"], async (stdin, ct) =>
        {
            await stdin.WriteAsync(payload, ct);
            return payload.Length;
        }, CancellationToken.None);
        r.ExitCode.Should().Be(0, r.StdErr);
        r.StdOut.Trim().Should().Be(payload.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        r.BytesSent.Should().Be(payload.Length);
    }

    [LabFact]
    public async Task one_exec_prints_its_prelude_then_reads_the_stdin_fed_from_what_the_prelude_said()
    {
        using var ssh = await Runner().ConnectAsync(lab.Address("n3"), CancellationToken.None);
        var payload = new byte[1024 * 1024 + 3];
        Random.Shared.NextBytes(payload);
        string? seen = null;
        // The prelude is printed in two writes around a pause, and the marker line's text also appears inside a longer line.
        var (r, prelude) = await ssh.RunWithPreludeAsync(["sh", "-c", "printf 'size %s\n' \"$1\"; sleep 0.2; echo 'x--- go'; echo '--- go'; echo after; wc -c", "sh", "1048579"], "--- go",
            async (text, stdin, ct) =>
            {
                seen = text;
                await stdin.WriteAsync(payload, ct);
                return payload.Length;
            }, CancellationToken.None);
        r.ExitCode.Should().Be(0, r.StdErr);
        prelude.Should().Be("size 1048579\nx--- go\n");
        seen.Should().Be(prelude, "the feed is called with the prelude");
        r.StdOut.Should().Be("size 1048579\nx--- go\n--- go\nafter\n1048579\n", "the whole output is kept");
        r.BytesSent.Should().Be(payload.Length);
    }

    [LabFact]
    public async Task an_exec_that_ends_before_its_marker_is_not_fed_and_says_why()
    {
        using var ssh = await Runner().ConnectAsync(lab.Address("n3"), CancellationToken.None);
        var fed = false;
        var (r, prelude) = await ssh.RunWithPreludeAsync(["sh", "-c", "echo checking; echo 'no such label' >&2; exit 11; echo '--- go'; cat"], "--- go",
            (_, _, _) =>
            {
                fed = true;
                return Task.FromResult(0L);
            }, CancellationToken.None);
        prelude.Should().BeNull();
        fed.Should().BeFalse();
        r.ExitCode.Should().Be(11);
        r.StdOut.Should().Be("checking\n");
        r.StdErr.Should().Contain("no such label");
    }

    [LabFact]
    public async Task an_unknown_host_key_is_refused_naming_the_node_and_its_fingerprint()
    {
        var empty = lab.WriteShared("known_hosts_empty", "");
        var act = () => Runner(empty).ConnectAsync(lab.Address("n3"), CancellationToken.None);
        var refused = await act.Should().ThrowAsync<SshHostKeyException>();
        refused.Which.Message.Should().Contain(lab.Address("n3")).And.Contain("unknown").And.Contain(N3Fingerprint());
    }

    [LabFact]
    public async Task a_changed_host_key_is_refused_naming_the_node_and_both_fingerprints()
    {
        // n1's key listed for n3's address: what a man in the middle or a reinstalled node looks like.
        var n1 = File.ReadAllLines(lab.KnownHosts).Single(l => l.StartsWith("n1,", StringComparison.Ordinal)).Split(' ');
        var wrong = lab.WriteShared("known_hosts_wrong", $"{lab.Address("n3")} {n1[1]} {n1[2]}\n");
        var act = () => Runner(wrong).ConnectAsync(lab.Address("n3"), CancellationToken.None);
        var refused = await act.Should().ThrowAsync<SshHostKeyException>();
        refused.Which.Message.Should().Contain("CHANGED").And.Contain(lab.Address("n3")).And.Contain(N3Fingerprint())
            .And.Contain(KnownHosts.Fingerprint(Convert.FromBase64String(n1[2])));
    }

    [LabFact]
    public async Task a_known_hosts_line_that_negates_the_host_does_not_vouch_for_it()
    {
        var n3 = File.ReadAllLines(lab.KnownHosts).Single(l => l.StartsWith("n3,", StringComparison.Ordinal)).Split(' ');
        var negated = lab.WriteShared("known_hosts_negated", $"!{lab.Address("n3")},{lab.Address("n3")} {n3[1]} {n3[2]}\n");
        var act = () => Runner(negated).ConnectAsync(lab.Address("n3"), CancellationToken.None);
        (await act.Should().ThrowAsync<SshHostKeyException>()).Which.Message.Should().Contain("unknown");
    }

    [LabFact]
    public async Task a_private_key_others_may_read_is_not_used()
    {
        var key = lab.WriteShared("id_exposed", File.ReadAllText(lab.Key));
        File.SetUnixFileMode(key, (UnixFileMode)0b110_100_100);
        var runner = new SshRunner(new SshOptions { KnownHostsPath = lab.KnownHosts, KeyPath = key, ConnectTimeout = TimeSpan.FromSeconds(5) });
        var act = () => runner.ConnectAsync(lab.Address("n3"), CancellationToken.None);
        (await act.Should().ThrowAsync<SshConnectException>()).Which.Message.Should().Contain($"private key {key} is accessible by group or others (mode 0644)");

        File.SetUnixFileMode(key, (UnixFileMode)0b110_000_000);
        using var ssh = await runner.ConnectAsync(lab.Address("n3"), CancellationToken.None);
        (await ssh.RunAsync(["true"], CancellationToken.None)).ExitCode.Should().Be(0);
    }
}
