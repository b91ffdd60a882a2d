using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Access;
using OpenSvc.Host.Agent;
using OpenSvc.Host.Api;
using OpenSvc.Host.Cli;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using Xunit;

namespace OpenSvc.Tests.Api;

/// <summary>
/// Issue 12's attacks on a real agent (Kestrel on loopback, real PostgreSQL, fake cluster), each sent the way a browser
/// page or a local process would send it: nothing is trusted for coming from this machine, a Host that is not the
/// agent's (DNS rebinding) and a foreign Origin are refused, API bodies are JSON only, dashboard forms need the page's
/// antiforgery token, tokens never ride in URLs, the audit names the token and not a header, /health keeps the database's
/// error to signed-in callers, and nothing can be framed. The CLI on the agent's machine keeps working through the
/// agent's root-only socket.
/// </summary>
[Collection(InProcessEngineCollection.Name)]
public sealed partial class TrustTests : IAsyncLifetime
{
    const string Alice = "alice-0123456789abcdef0123456789abcdef";
    const string Bob = "bob-0123456789abcdef0123456789abcdef01";
    static readonly string Seed = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "failover-docker-btrfs.conf"));
    static readonly string Me = $"{Environment.UserName}@local";

    /// <summary>A service of n1 alone, so a start needs no other agent.</summary>
    const string Solo = "[DEFAULT]\nnodes = n1\n[fs#0]\ntype = none\ndev = /dev/a\nmnt = /srv/a\n";

    WebApplication _agent = null!;
    string _connection = "";
    string _url = "";
    string _dir = "";
    string Socket => Path.Combine(_dir, "agent.sock");
    string TokensFile => Path.Combine(_dir, "tokens");

    /// <summary>A client that keeps no cookies and follows no redirect: each test says exactly what the browser sends.</summary>
    readonly HttpClient _http = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false });

    public async Task InitializeAsync()
    {
        _connection = await PostgresServer.NewDatabaseAsync("trust");
        _dir = Directory.CreateTempSubdirectory("ostrust").FullName;
        TokenFile.Save(TokensFile, [new NamedToken("alice", Role.Operator, NamedToken.HashOf(Alice)), new NamedToken("bob", Role.Viewer, NamedToken.HashOf(Bob))]);
        _agent = AgentHost.Build(new AgentSettings(new NodeName("n1"), "127.0.0.1:0", _connection, FakeCluster: true, Workers: 2, QueuePoll: SharedProcess.QueuePoll,
            Socket: Socket), _connection, access: new AccessPolicy(new TokenStore([], TokensFile)));
        await _agent.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await _agent.StartAsync();
        _url = AgentHost.TcpUrl(_agent);
        _http.BaseAddress = new Uri(_url);
        using var local = Local();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await local.AgentsAsync(default)).Count == 0)
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "n1 should heartbeat");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _agent.StopAsync();
        await _agent.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The CLI's client on the agent's machine: the local socket, no token.</summary>
    ApiClusterClient Local() => new("unix:" + Socket, null);

    Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? body = null, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, path) { Content = body };
        foreach (var (name, value) in headers)
        {
            if (name == "Host")
                request.Headers.Host = value;
            else
                request.Headers.TryAddWithoutValidation(name, value);
        }
        return _http.SendAsync(request);
    }

    static (string, string) Bearer(string token) => ("Authorization", $"Bearer {token}");

    static (string, string) Cookie(params string[] cookies) => ("Cookie", string.Join("; ", cookies));

    static string Session(string token) => $"{SignIn.CookieName}={token}";

    static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("detail").GetString()!;
    }

    static HttpContent StartBody() => JsonContent.Create(new ActionBody("n1"), options: ApiJson.Options);

    [Fact]
    public async Task a_local_process_without_a_token_gets_nothing_over_loopback()
    {
        (await SendAsync(HttpMethod.Get, "/api/services")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        var store = await SendAsync(HttpMethod.Post, "/api/services/svc-root", ApiTests.ConfigJson(Seed));
        store.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await DetailAsync(store)).Should().Contain("needs a token");
        (await SendAsync(HttpMethod.Post, "/api/services/svc-root/actions/start", StartBody())).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await SendAsync(HttpMethod.Get, "/openapi/v1.json")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await SendAsync(HttpMethod.Post, "/hangfire/recurring/trigger", new FormUrlEncodedContent([new("jobs[]", "x")]))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await SendAsync(HttpMethod.Get, "/api/services", null, Bearer("not-a-token"))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        using var local = Local();
        (await local.ServiceAsync("svc-root", default)).Should().BeNull("nothing was stored");
        using var tcp = new ApiClusterClient(_url, null);
        var refused = () => tcp.ServicesAsync(default);
        (await refused.Should().ThrowAsync<UserError>()).Which.ExitCode.Should().Be(ExitCodes.Refused);
    }

    [Fact]
    public async Task the_cli_on_the_agents_machine_works_through_its_root_only_socket_as_user_at_local()
    {
        File.GetUnixFileMode(Socket).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var local = Local();
        (await local.ConfigureAsync(new ConfigureService("svc-local", Solo, "ignored", MustExist: false, MustNotExist: true), default)).Accepted.Should().BeTrue();
        (await local.ConfigHistoryAsync("svc-local", default)).Single().By.Should().Be(Me);
        var started = await local.RequestActionAsync(new ActionRequest("svc-local", ServiceAction.Start, new NodeName("n1"), "ignored"), default);
        started.Should().BeOfType<ActionAccepted>((started as ActionRefused)?.Refusal);
        (await local.FindRunAsync(started.RunId().ToString(), default)).Run!.RequestedBy.Should().Be(Me);
    }

    [Fact]
    public async Task a_dns_rebinding_page_is_refused_by_its_host_header_even_with_the_users_cookie()
    {
        var port = new Uri(_url).Port;
        var rebound = ("Host", $"rebind.attacker.example:{port}");
        var read = await SendAsync(HttpMethod.Get, "/api/services", null, rebound, Cookie(Session(Alice)));
        read.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await DetailAsync(read)).Should().Contain("Host 'rebind.attacker.example' is not a name of this agent");
        (await SendAsync(HttpMethod.Post, "/api/services/svc-rebind", ApiTests.ConfigJson(Seed), rebound, Cookie(Session(Alice))))
            .StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await SendAsync(HttpMethod.Get, "/hangfire", null, rebound, Cookie(Session(Alice)))).StatusCode.Should().Be(HttpStatusCode.BadRequest);

        (await SendAsync(HttpMethod.Get, "/api/services", null, ("Host", $"127.0.0.1:{port}"), Cookie(Session(Alice)))).StatusCode.Should().Be(HttpStatusCode.OK);
        (await SendAsync(HttpMethod.Get, "/api/services", null, ("Host", $"localhost:{port}"), Bearer(Bob))).StatusCode.Should().Be(HttpStatusCode.OK);
        using var local = Local();
        (await local.ServiceAsync("svc-rebind", default)).Should().BeNull();
    }

    [Fact]
    public async Task a_cross_site_text_plain_post_is_refused_and_stores_nothing()
    {
        // What <form enctype="text/plain"> or fetch(..., {mode: "no-cors"}) on another site sends with the user's cookie.
        HttpContent Plain() => new StringContent(Seed, System.Text.Encoding.UTF8, "text/plain");
        var crossSite = await SendAsync(HttpMethod.Post, "/api/services/svc-evil", Plain(),
            ("Origin", "http://evil.example"), ("Sec-Fetch-Site", "cross-site"), Cookie(Session(Alice)));
        crossSite.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await DetailAsync(crossSite)).Should().Contain("Origin http://evil.example is not this agent");

        // A browser that sends no Origin still cannot send JSON cross-site without a preflight this agent never grants.
        var plain = await SendAsync(HttpMethod.Post, "/api/services/svc-evil", Plain(), Cookie(Session(Alice)));
        plain.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        (await DetailAsync(plain)).Should().Contain("JSON bodies only");
        (await SendAsync(HttpMethod.Post, "/api/services/svc-evil/actions/start", null, Cookie(Session(Alice))))
            .StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType, "an empty no-cors POST has no content type");
        (await SendAsync(HttpMethod.Post, "/api/services/svc-evil", new FormUrlEncodedContent([new("config", Seed)]), Cookie(Session(Alice))))
            .StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);

        using var local = Local();
        (await local.ServiceAsync("svc-evil", default)).Should().BeNull();
    }

    [Fact]
    public async Task a_start_with_a_foreign_host_header_is_refused_before_anything_runs()
    {
        using var local = Local();
        (await local.ConfigureAsync(new ConfigureService("svc-host", Seed, "ignored", false, true), default)).Accepted.Should().BeTrue();

        var start = await SendAsync(HttpMethod.Post, "/api/services/svc-host/actions/start", StartBody(), ("Host", "opensvc.attacker.example"), Bearer(Alice));

        start.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await local.ListRunsAsync(new RunFilter(Service: "svc-host"), default)).Should().BeEmpty();
    }

    [Fact]
    public async Task a_cross_site_form_cannot_remove_a_scheduled_sync_from_the_dashboard()
    {
        using var local = Local();
        (await local.ConfigureAsync(new ConfigureService("svc-dash", Seed, "ignored", false, true), default)).Accepted.Should().BeTrue();
        var armed = await _agent.Services.GetRequiredService<OpenSvc.Workflows.Syncs.SyncSchedules>().ListAsync("svc-dash", default);
        var job = armed.Single(a => a.Rid == "sync#0").JobId!;
        var other = armed.Single(a => a.Rid == "sync#1").JobId!;
        ScheduledJobs().Should().Contain(job);
        var cookies = await SignInAsync(Alice, "/hangfire/jobs/scheduled");

        // The attacker's page posts the dashboard's own form. Even if the browser attached the cookies, it is refused:
        // with an Origin by the guard, without one (an older browser, a same-site page) for want of the page's token.
        HttpContent Form() => new FormUrlEncodedContent([new("jobs[]", job)]);
        (await SendAsync(HttpMethod.Post, "/hangfire/jobs/scheduled/delete", Form(), ("Origin", "http://evil.example"), Cookie(cookies)))
            .StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await SendAsync(HttpMethod.Post, "/hangfire/jobs/scheduled/delete", Form(), Cookie(cookies))).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await SendAsync(HttpMethod.Post, "/hangfire/jobs/scheduled/delete", Form(), Cookie(cookies), ("RequestVerificationToken", "forged")))
            .StatusCode.Should().Be(HttpStatusCode.Forbidden);
        ScheduledJobs().Should().Contain(job, "the cross-site form removed nothing");

        // The dashboard itself still works: its page carries the token its script sends back.
        var page = await SendAsync(HttpMethod.Get, "/hangfire/jobs/scheduled", null, Cookie(cookies));
        page.StatusCode.Should().Be(HttpStatusCode.OK);
        var html = await page.Content.ReadAsStringAsync();
        html.Should().NotContain(Alice, "the token never appears in a page");
        html.Should().Contain("sync svc-dash sync#0, due ", "each sync resource shows as one entry, named with its due time");
        var header = CsrfMeta().Match(html);
        header.Success.Should().BeTrue("the dashboard page carries its antiforgery token");
        var removed = await SendAsync(HttpMethod.Post, "/hangfire/jobs/scheduled/delete", Form(), Cookie(cookies),
            (header.Groups["header"].Value, WebUtility.HtmlDecode(header.Groups["token"].Value)), ("Origin", _url));
        removed.StatusCode.Should().Be(HttpStatusCode.NoContent);
        ScheduledJobs().Should().NotContain(job);

        // A viewer's dashboard is read-only: even with its own page's token, a command is refused.
        var viewer = await SignInAsync(Bob, "/hangfire/jobs/scheduled");
        var viewerPage = await (await SendAsync(HttpMethod.Get, "/hangfire/jobs/scheduled", null, Cookie(viewer))).Content.ReadAsStringAsync();
        var viewerToken = CsrfMeta().Match(viewerPage);
        (await SendAsync(HttpMethod.Post, "/hangfire/jobs/scheduled/enqueue", new FormUrlEncodedContent([new("jobs[]", other)]), Cookie(viewer),
            (viewerToken.Groups["header"].Value, WebUtility.HtmlDecode(viewerToken.Groups["token"].Value)))).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        ScheduledJobs().Should().Contain(other);
    }

    [Fact]
    public async Task sign_in_keeps_the_token_in_a_strict_http_only_cookie_and_never_leaves_for_another_site()
    {
        var form = await SendAsync(HttpMethod.Get, "/signin?return=%2F%2Fevil.example%2Fx");
        form.StatusCode.Should().Be(HttpStatusCode.OK);
        var (antiforgeryCookie, field) = await FormTokenAsync(form);

        var wrong = await SendAsync(HttpMethod.Post, "/signin", SignInForm("not-a-token", "//evil.example/x", field), Cookie(antiforgeryCookie));
        wrong.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await wrong.Content.ReadAsStringAsync()).Should().Contain("this token is not valid").And.NotContain("not-a-token");
        (wrong.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith(SignIn.CookieName, StringComparison.Ordinal)))
            .Should().BeFalse("a wrong token signs nobody in");

        var noToken = await SendAsync(HttpMethod.Post, "/signin", new FormUrlEncodedContent([new("token", Alice), new("return", "/hangfire")]), Cookie(antiforgeryCookie));
        noToken.StatusCode.Should().Be(HttpStatusCode.BadRequest, "a sign-in form without the page's antiforgery token is refused (login CSRF)");

        var ok = await SendAsync(HttpMethod.Post, "/signin", SignInForm(Alice, "//evil.example/x", field), Cookie(antiforgeryCookie));
        ok.StatusCode.Should().Be(HttpStatusCode.Redirect);
        ok.Headers.Location!.OriginalString.Should().Be("/", "a return address on another site is not followed: the console instead");
        var session = ok.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(SignIn.CookieName, StringComparison.Ordinal));
        session.Should().Contain("httponly").And.Contain("samesite=strict").And.Contain("path=/");
        (await SendAsync(HttpMethod.Get, "/hangfire", null, Cookie(Session(Alice)))).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task a_forged_user_header_does_not_change_who_asked()
    {
        var forged = ("X-OpenSvc-User", "mallory");
        (await SendAsync(HttpMethod.Post, "/api/services/svc-who", ApiTests.ConfigJson(Solo), Bearer(Alice), forged)).StatusCode.Should().Be(HttpStatusCode.Created);
        var start = await SendAsync(HttpMethod.Post, "/api/services/svc-who/actions/start", StartBody(), Bearer(Alice), forged);
        start.StatusCode.Should().Be(HttpStatusCode.Accepted);

        using var local = Local();
        (await local.ConfigHistoryAsync("svc-who", default)).Single().By.Should().Be("alice");
        (await local.ListRunsAsync(new RunFilter(Service: "svc-who"), default)).Single().RequestedBy.Should().Be("alice");
    }

    [Fact]
    public async Task a_token_in_the_url_is_refused_everywhere()
    {
        var api = await SendAsync(HttpMethod.Get, $"/api/services?access_token={Alice}");
        api.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await DetailAsync(api)).Should().Contain("tokens are not accepted in URLs");
        var dashboard = await SendAsync(HttpMethod.Get, $"/hangfire?access_token={Alice}");
        dashboard.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        dashboard.Headers.Contains("Set-Cookie").Should().BeFalse("no sign-in from a URL");
    }

    [Fact]
    public async Task no_page_of_the_agent_can_be_framed()
    {
        foreach (var (path, auth) in new[] { ("/signin", ("X-None", "")), ("/hangfire", Cookie(Session(Bob))), ("/api/services", Bearer(Bob)), ("/health", ("X-None", "")) })
        {
            var r = await SendAsync(HttpMethod.Get, path, null, auth);
            r.IsSuccessStatusCode.Should().BeTrue(path);
            r.Headers.GetValues("X-Frame-Options").Should().Equal(["DENY"], path);
            r.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("frame-ancestors 'none'", path);
        }
    }

    [Fact]
    public async Task named_tokens_added_with_the_cli_work_at_once_and_stop_when_removed()
    {
        var add = await Opensvc("token", "add", "carol", "--role", "operator", "--file", TokensFile);
        add.Code.Should().Be(0, add.Err);
        var secret = add.Out.Trim();
        secret.Should().MatchRegex("^[0-9a-f]{48}$");
        File.ReadAllText(TokensFile).Should().Contain("carol operator sha256:").And.NotContain(secret, "the file keeps hashes only");
        File.GetUnixFileMode(TokensFile).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        (await Opensvc("token", "list", "--file", TokensFile)).Out.Should().MatchRegex(@"carol\s+operator");

        await EventuallyAsync(async () => (await SendAsync(HttpMethod.Get, "/api/services", null, Bearer(secret))).StatusCode == HttpStatusCode.OK);
        (await SendAsync(HttpMethod.Post, "/api/services/svc-carol", ApiTests.ConfigJson(Seed), Bearer(secret))).StatusCode.Should().Be(HttpStatusCode.Created);
        using (var local = Local())
            (await local.ConfigHistoryAsync("svc-carol", default)).Single().By.Should().Be("carol");

        (await Opensvc("token", "remove", "carol", "--file", TokensFile)).Code.Should().Be(0);
        await EventuallyAsync(async () => (await SendAsync(HttpMethod.Get, "/api/services", null, Bearer(secret))).StatusCode == HttpStatusCode.Unauthorized);
        (await SendAsync(HttpMethod.Get, "/hangfire", null, Cookie(Session(secret)))).StatusCode.Should().Be(HttpStatusCode.Redirect, "its browsers are signed out");
    }

    /// <summary>Runs last in its own agent's life: the database goes away under the agent.</summary>
    [Fact]
    public async Task health_tells_anonymous_callers_that_the_database_is_down_not_why()
    {
        (await SendAsync(HttpMethod.Get, "/health")).StatusCode.Should().Be(HttpStatusCode.OK);
        var database = new NpgsqlConnectionStringBuilder(_connection).Database!;
        await using (var admin = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_connection) { Database = "postgres", Pooling = false }.ConnectionString))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"drop database \"{database}\" with (force)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        var anonymous = await SendAsync(HttpMethod.Get, "/health");
        anonymous.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        var body = await anonymous.Content.ReadAsStringAsync();
        body.Should().Contain("\"status\":\"unhealthy\"").And.Contain("unreachable").And.NotContain(database).And.NotContain("does not exist");

        var signedIn = await SendAsync(HttpMethod.Get, "/health", null, Bearer(Bob));
        (await signedIn.Content.ReadAsStringAsync()).Should().Contain(database, "a signed-in caller gets the reason");
    }

    List<string> ScheduledJobs() =>
        _agent.Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi().ScheduledJobs(0, 1000).Select(j => j.Key).ToList();

    /// <summary>Signs in as a browser does (form page, then its form); returns the cookies the browser then holds.</summary>
    async Task<string> SignInAsync(string token, string back)
    {
        var (antiforgeryCookie, field) = await FormTokenAsync(await SendAsync(HttpMethod.Get, SignIn.PathTo(back)));
        var signedIn = await SendAsync(HttpMethod.Post, "/signin", SignInForm(token, back, field), Cookie(antiforgeryCookie));
        signedIn.StatusCode.Should().Be(HttpStatusCode.Redirect);
        signedIn.Headers.Location!.OriginalString.Should().Be(back);
        var session = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith(SignIn.CookieName, StringComparison.Ordinal)).Split(';')[0];
        return $"{antiforgeryCookie}; {session}";
    }

    static async Task<(string Cookie, KeyValuePair<string, string> Field)> FormTokenAsync(HttpResponseMessage page)
    {
        var cookie = page.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("opensvc_antiforgery", StringComparison.Ordinal)).Split(';')[0];
        var m = HiddenToken().Match(await page.Content.ReadAsStringAsync());
        m.Success.Should().BeTrue("the sign-in form carries an antiforgery field");
        return (cookie, KeyValuePair.Create(m.Groups["name"].Value, WebUtility.HtmlDecode(m.Groups["value"].Value)));
    }

    static FormUrlEncodedContent SignInForm(string token, string back, KeyValuePair<string, string> antiforgery) =>
        new([new("token", token), new("return", back), antiforgery]);

    static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the agent should read the tokens file again within seconds");
            await Task.Delay(200);
        }
    }

    static Task<(int Code, string Out, string Err)> Opensvc(params string[] args) => Cli.ConfigCommandTests.Opensvc(args);

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>__RequestVerificationToken)\" value=\"(?<value>[^\"]+)\">")]
    private static partial Regex HiddenToken();

    [GeneratedRegex("<meta name=\"csrf-header\" content=\"(?<header>[^\"]+)\">\\s*<meta name=\"csrf-token\" content=\"(?<token>[^\"]+)\">")]
    private static partial Regex CsrfMeta();
}
