using FluentAssertions;
using Microsoft.AspNetCore.Http;
using OpenSvc.Host.Access;
using Xunit;

namespace OpenSvc.Tests.Api;

/// <summary>The access rules as pure functions: Host and Origin checks, JSON-only bodies, the tokens file, sign-in's return path.</summary>
public sealed class AccessRulesTests
{
    static readonly string[] Names = ["localhost", "n1", "n1.example.org"];

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.211.0.11", true)]
    [InlineData("[::1]", true)]
    [InlineData("localhost", true)]
    [InlineData("N1", true)]
    [InlineData("n1.example.org", true)]
    [InlineData("rebind.attacker.example", false)]
    [InlineData("127.0.0.1.nip.io", false)]
    [InlineData("localhost.attacker.example", false)]
    [InlineData("", false)]
    public void the_host_must_be_an_address_or_a_name_of_the_agent(string host, bool allowed) =>
        (RequestGuard.HostProblem(host, Names) is null).Should().Be(allowed);

    [Theory]
    [InlineData(null, null, "POST", true)]
    [InlineData("http://10.211.0.11:7480", null, "POST", true)]
    [InlineData("http://10.211.0.11:7480", "same-origin", "POST", true)]
    [InlineData("https://10.211.0.11:7480", null, "POST", true)]
    [InlineData("http://evil.example", "cross-site", "POST", false)]
    [InlineData("http://10.211.0.11:7481", null, "GET", false)]
    [InlineData("null", null, "POST", false)]
    [InlineData("file://", null, "POST", false)]
    [InlineData(null, "cross-site", "POST", false)]
    [InlineData(null, "cross-site", "GET", true)]
    public void an_origin_must_be_the_agents_own(string? origin, string? fetchSite, string method, bool allowed) =>
        (RequestGuard.OriginProblem(origin, fetchSite, "10.211.0.11:7480", method) is null).Should().Be(allowed);

    [Theory]
    [InlineData("/api/services/x", "POST", "application/json", true)]
    [InlineData("/api/services/x", "PUT", "application/json; charset=utf-8", true)]
    [InlineData("/api/services/x", "POST", "application/problem+json", true)]
    [InlineData("/api/services/x", "POST", "text/plain", false)]
    [InlineData("/api/services/x", "POST", "text/plain; charset=utf-8", false)]
    [InlineData("/api/services/x", "POST", "application/x-www-form-urlencoded", false)]
    [InlineData("/api/services/x", "POST", "multipart/form-data; boundary=x", false)]
    [InlineData("/api/runs/x/cancel", "POST", null, false)]
    [InlineData("/api/services/x", "DELETE", null, true)]
    [InlineData("/api/services", "GET", null, true)]
    [InlineData("/signin", "POST", "application/x-www-form-urlencoded", true)]
    public void api_bodies_are_json_only(string path, string method, string? contentType, bool allowed) =>
        (RequestGuard.BodyProblem(new PathString(path), method, contentType) is null).Should().Be(allowed);

    [Theory]
    [InlineData("/hangfire/jobs", "/hangfire/jobs")]
    [InlineData("/services/svc1", "/services/svc1")]
    [InlineData("/", "/")]
    [InlineData("//evil.example/x", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("https://evil.example", "/")]
    [InlineData(null, "/")]
    public void sign_in_returns_to_a_path_of_this_agent_only(string? back, string expected) =>
        SignIn.LocalPath(back).Should().Be(expected);

    [Fact]
    public void the_tokens_file_keeps_names_roles_and_hashes_and_finds_callers_by_secret()
    {
        var (alice, secret) = NamedToken.Generate("alice", Role.Operator);
        var text = TokenFile.Format([alice, new NamedToken("bob", Role.Viewer, NamedToken.HashOf("bob-secret"))]);
        text.Should().NotContain(secret);
        var parsed = TokenFile.Parse(text, "tokens");
        parsed.Select(t => (t.Name, t.Role)).Should().Equal(("alice", Role.Operator), ("bob", Role.Viewer));

        var store = new TokenStore(parsed, null);
        store.Find(secret).Should().Be(new Caller("alice", Role.Operator));
        store.Find("bob-secret").Should().Be(new Caller("bob", Role.Viewer));
        store.Find("bob-secre").Should().BeNull();
        store.Find("").Should().BeNull();
    }

    [Theory]
    [InlineData("alice operator", "tokens:2: expected NAME ROLE sha256:HEX, found 2 fields")]
    [InlineData("Alice operator sha256:" + Zeros, "tokens:2: token name 'Alice'")]
    [InlineData("root@local operator sha256:" + Zeros, "tokens:2: token name 'root@local'")]
    [InlineData("alice admin sha256:" + Zeros, "tokens:2: role 'admin' is not operator or viewer")]
    [InlineData("alice operator s3cret", "tokens:2: 's3cret' is not sha256: and 64 hex digits")]
    [InlineData("alice operator sha256:" + Zeros + "\nalice viewer sha256:" + Zeros, "tokens:3: token alice is listed twice")]
    public void a_bad_tokens_file_is_refused_with_its_line(string body, string message)
    {
        var act = () => TokenFile.Parse("# comment\n" + body + "\n", "tokens");
        act.Should().Throw<TokenFileException>().Which.Message.Should().StartWith(message);
    }

    const string Zeros = "0000000000000000000000000000000000000000000000000000000000000000";

    [Fact]
    public async Task a_tokens_file_others_may_write_is_refused_and_a_store_reading_it_fails_closed()
    {
        var dir = Directory.CreateTempSubdirectory("ostok").FullName;
        try
        {
            var path = Path.Combine(dir, "tokens");
            var (carol, secret) = NamedToken.Generate("carol", Role.Operator);
            TokenFile.Save(path, [carol]);
            File.GetUnixFileMode(path).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var store = new TokenStore([], path);
            store.Find(secret).Should().Be(new Caller("carol", Role.Operator));

            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
            var load = () => TokenFile.Load(path);
            load.Should().Throw<TokenFileException>().WithMessage($"*group or others may write it (mode 0606)*chmod 600 {path}");
            var reported = new List<string>();
            store.Report = reported.Add;
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (store.Find(secret) is not null)
            {
                DateTime.UtcNow.Should().BeBefore(deadline, "the store reads the file again within a second or so");
                await Task.Delay(100);
            }
            reported.Should().ContainSingle().Which.Should().Contain("ignored until it is fixed");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
