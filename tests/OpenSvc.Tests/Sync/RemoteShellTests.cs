using FluentAssertions;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Infrastructure.Execution.Ssh;
using Xunit;

namespace OpenSvc.Tests.Sync;

public sealed class RemoteShellTests
{
    [Theory]
    [InlineData("docker", "docker")]
    [InlineData("/srv/svc1/data/", "/srv/svc1/data/")]
    [InlineData("unix:///run/docker.sock", "unix:///run/docker.sock")]
    [InlineData("", "''")]
    [InlineData("two words", "'two words'")]
    [InlineData("it's", "'it'\\''s'")]
    [InlineData("$HOME", "'$HOME'")]
    [InlineData("a;rm -rf /", "'a;rm -rf /'")]
    [InlineData("`id`", "'`id`'")]
    [InlineData("FOO=bar", "'FOO=bar'")]
    [InlineData("{{.Id}}", "'{{.Id}}'")]
    [InlineData("sync#1", "'sync#1'")]
    [InlineData("*", "'*'")]
    [InlineData("~root", "'~root'")]
    public void each_element_is_quoted_only_as_much_as_the_shell_needs(string element, string quoted) =>
        RemoteShell.Quote(element).Should().Be(quoted);

    [Fact]
    public async Task a_real_shell_sees_exactly_the_elements_that_were_joined()
    {
        string[] elements = ["it's", "two  words", "$HOME", "`id`", "a;b|c&d", "back\\slash", "new\nline", "\"dq\"", "FOO=bar", "*", "", "~", "#c", "é€"];
        var line = RemoteShell.Join(["printf", "[%s]", .. elements]);

        var r = await ProcessRunner.RunAsync("sh", ["-c", line]);

        r.ExitCode.Should().Be(0, r.StdErr);
        r.StdOut.Should().Be(string.Concat(elements.Select(e => $"[{e}]")) + "\n", "ProcessRunner ends captured output with a newline");
    }

    [Fact]
    public void commands_chain_with_and_so_the_first_failure_stops_the_rest() =>
        RemoteShell.AndThen(["mkdir", "-p", "/a b"], ["rm", "-rf", "/x"]).Should().Be("mkdir -p '/a b' && rm -rf /x");
}
