using System.Text.RegularExpressions;
using FluentAssertions;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Access;
using OpenSvc.Host.Agent;
using OpenSvc.Host.Cli;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Api;

/// <summary>
/// The operator console in a real browser (Debian's chromium driven by Playwright) against three agents on the fake
/// cluster and real PostgreSQL: what a viewer sees and cannot do, a DR activation from the service page watched to its
/// end, a refusal's sentence, antiforgery, and no console errors on any page. Screenshots of the main pages go to
/// OPENSVC_CONSOLE_SCREENSHOTS when set (docs/console is made that way).
/// </summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class ConsoleTests(ITestOutputHelper output) : IAsyncLifetime
{
    const string Chromium = "/usr/bin/chromium";
    WebApplication _n1 = null!;
    WebApplication _n2 = null!;
    WebApplication _n3 = null!;
    string _url = "";
    readonly string _socket = Path.Combine(Directory.CreateTempSubdirectory("osconsole").FullName, "n1.sock");
    IPlaywright _playwright = null!;
    IBrowser _browser = null!;
    readonly List<string> _consoleErrors = [];
    /// <summary>The statuses of this test's deliberate refused POSTs: the browser logs them as failed loads, which is no page error.</summary>
    readonly HashSet<int> _refusedOnPurpose = [];
    static readonly string Seed = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "failover-docker-btrfs.conf"));

    public async Task InitializeAsync()
    {
        File.Exists(Chromium).Should().BeTrue($"the console's tests drive {Chromium}: scripts/install-deps.sh installs Debian's chromium package");
        var connection = await PostgresServer.NewDatabaseAsync("console");
        _n1 = AgentHost.Build(new AgentSettings(new NodeName("n1"), "127.0.0.1:0", connection, FakeCluster: true, Workers: 2, QueuePoll: SharedProcess.QueuePoll,
            Socket: _socket), connection, access: ApiTests.Tokens());
        await _n1.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await _n1.StartAsync();
        _url = AgentHost.TcpUrl(_n1);
        _n2 = AgentHost.Build(new AgentSettings(new NodeName("n2"), "127.0.0.1:0", connection, FakeCluster: true, Workers: 2, QueuePoll: SharedProcess.QueuePoll), connection);
        await _n2.StartAsync();
        _n3 = AgentHost.Build(new AgentSettings(new NodeName("n3"), "127.0.0.1:0", connection, FakeCluster: true, Workers: 2, QueuePoll: SharedProcess.QueuePoll), connection);
        await _n3.StartAsync();
        using var client = Client();
        await Until(async () => (await client.AgentsAsync(default)).Count >= 3, "agents n1..n3 heartbeat");

        // svc1 as the lab runs it: started on n1, synced to its DR node n3, n3's standby filesystems up.
        var config = Seed.Replace("  dev@nodes = /dev/mapper/svc1.d0\n", "  dev@nodes = /dev/mapper/svc1.d0\n  dev@drpnodes = /dev/mapper/svc1.dr\n", StringComparison.Ordinal);
        (await client.ConfigureAsync(new ConfigureService("svc1", config, "tester", MustExist: false, MustNotExist: true), default)).Accepted.Should().BeTrue();
        await RunAsync(client, new ActionRequest("svc1", ServiceAction.Start, new NodeName("n1"), "tester"));
        await Until(async () => (await client.StatusAsync("svc1", default))?.Instances.FirstOrDefault(i => i.Node == "n1")?.Report?.Avail == Status.Up, "svc1 up on n1");
        await RunAsync(client, new ActionRequest("svc1", ServiceAction.Sync, new NodeName("n1"), "tester"));
        await RunAsync(client, new ActionRequest("svc1", ServiceAction.StartStandby, new NodeName("n3"), "tester"));
        await Until(async () => (await client.ReadinessAsync(new GetReadiness("svc1", null), default))!.Ready, "svc1 ready on n3");

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Args = ["--no-sandbox"], Headless = true });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
            await _browser.DisposeAsync();
        _playwright?.Dispose();
        foreach (var app in new[] { _n1, _n2, _n3 })
        {
            if (app is null)
                continue;
            await app.StopAsync();
            await app.DisposeAsync();
        }
        Directory.Delete(Path.GetDirectoryName(_socket)!, recursive: true);
    }

    ApiClusterClient Client() => new("unix:" + _socket, null);

    [Fact]
    public async Task a_viewer_sees_svc1_and_its_rpo_and_can_act_on_nothing()
    {
        var page = await SignedInAsync("viewer-token");
        await page.GotoAsync(_url + "/");
        var row = page.Locator("table.services tbody tr", new() { HasText = "svc1" });
        await Assertions.Expect(row).ToContainTextAsync("n1");
        await Assertions.Expect(row).ToContainTextAsync(new Regex(@"sync#1 → n3\s*last sync [0-9.ms]+ ago"));
        await Assertions.Expect(row).ToContainTextAsync("ready on n3");
        await Assertions.Expect(page.Locator("header .who")).ToContainTextAsync("bob · viewer (read only)");
        await ShotAsync(page, "services");

        await page.GotoAsync(_url + "/services/svc1");
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("svc1");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Activate DR (takeover)" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("You are signed in as a viewer");
        await page.GotoAsync(_url + "/services/svc1/act/takeover");
        await Assertions.Expect(page.Locator("form.confirm")).ToHaveCountAsync(0);

        // The server refuses a viewer's request anyway, even one that carries a valid antiforgery token.
        var token = await page.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value");
        token.Should().NotBeNullOrEmpty();
        var (status, body) = await PostFormAsync(page, "/services/svc1/act/takeover",
            $"__RequestVerificationToken={Uri.EscapeDataString(token!)}&Confirm=svc1&Reason=test&node=n3");
        status.Should().Be(403);
        body.Should().Contain("bob is a viewer: it may read, not act");
        (await Client().ListRunsAsync(new RunFilter("svc1", Action: ServiceAction.Takeover), default)).Should().BeEmpty();
        PageErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task an_operator_activates_dr_on_n3_from_the_service_page_and_the_report_shows_rto_and_rpo()
    {
        // Two more syncs, so the service page's sync history has a lag to chart.
        using (var syncs = Client())
            for (var i = 0; i < 2; i++)
                await RunAsync(syncs, new ActionRequest("svc1", ServiceAction.Sync, new NodeName("n1"), "tester"));
        var page = await SignedInAsync("op-token");
        await page.GotoAsync(_url + "/services/svc1");
        await Assertions.Expect(page.Locator("#synchistory + .charts svg")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#synchistory + .charts svg").First).ToHaveAttributeAsync("aria-label", new Regex(@"^lag: 3 runs, last [0-9.]+m?s, highest"));
        await ShotAsync(page, "service");
        await page.GetByRole(AriaRole.Link, new() { Name = "Activate DR (takeover)" }).ClickAsync();
        await Assertions.Expect(page.Locator("h2#checks")).ToContainTextAsync("Readiness of n3: ready");

        // While svc1 runs on n1, the domain refuses: the page shows the refusal's sentence.
        await Assertions.Expect(page.Locator("#plan-refusal")).ToContainTextAsync("already up on n1");
        await page.GetByLabel("Reason (required), recorded in the run").FillAsync("console test: n1 is lost");
        await page.GetByLabel("Type svc1 to confirm").FillAsync("svc1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate DR (takeover) on n3" }).ClickAsync();
        await Assertions.Expect(page.Locator("#problem")).ToContainTextAsync("svc1 is already up on n1; a failover service runs on one node at a time");
        await Assertions.Expect(page.Locator("#problem a")).ToContainTextAsync("The refusal is recorded as run");

        // The primary site goes away; the plan now says what a takeover loses.
        using var client = Client();
        await RunAsync(client, new ActionRequest("svc1", ServiceAction.Stop, new NodeName("n1"), "tester"));
        await Until(async () => (await client.StatusAsync("svc1", default))?.Instances.First(i => i.Node == "n1").Report?.Avail == Status.Down, "svc1 down on n1");
        await page.GotoAsync(_url + "/services/svc1/act/takeover");
        await Assertions.Expect(page.Locator("#plan-sentence")).ToContainTextAsync(new Regex(@"svc1 will be started on n3 from data synced \d+ \w+ ago: changes of the last \d+ \w+ will be lost\."));
        await ShotAsync(page, "takeover");

        // A typo in the confirmation requests nothing.
        await page.GetByLabel("Reason (required), recorded in the run").FillAsync("console test: n1 is lost");
        await page.GetByLabel("Type svc1 to confirm").FillAsync("svc2");
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate DR (takeover) on n3" }).ClickAsync();
        await Assertions.Expect(page.Locator("#problem")).ToContainTextAsync("type the service's name, svc1, to confirm");

        await page.GetByLabel("Reason (required), recorded in the run").FillAsync("console test: n1 is lost");
        await page.GetByLabel("Type svc1 to confirm").FillAsync("svc1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate DR (takeover) on n3" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/runs/[0-9a-f-]{36}$"));
        var runId = Guid.Parse(page.Url[^36..]);
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("completed", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#rto")).ToHaveTextAsync(new Regex(@"^[0-9.]+m?s$"));
        await Assertions.Expect(page.Locator("#rpo")).ToHaveTextAsync(new Regex(@"^[0-9.]+(ms|s|m\d\ds)$"));
        await Assertions.Expect(page.Locator("table.timeline a[href^='/hangfire/jobs/details/']").First).ToBeVisibleAsync();
        await ShotAsync(page, "run");

        var run = (await client.FindRunAsync(runId.ToString(), default)).Run!;
        run.Status.Should().Be(RunStatus.Completed);
        run.RequestedBy.Should().Be("alice");
        run.Reason.Should().Be("console test: n1 is lost");
        run.Recovery.Should().NotBeNull();

        // The step's job link opens that job in the dashboard, whose navigation leads back to the console.
        await page.Locator("table.timeline a[href^='/hangfire/jobs/details/']").First.ClickAsync();
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("svc1");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "OpenSvc console" })).ToHaveAttributeAsync("href", "/");

        await page.GotoAsync(_url + "/reports?service=svc1");
        var line = page.Locator("table.report tbody tr", new() { HasText = RunTimeline.Short(runId) });
        await Assertions.Expect(line).ToContainTextAsync("takeover");
        await Assertions.Expect(line).ToContainTextAsync("alice");
        await Assertions.Expect(line.Locator("td.rto")).ToHaveTextAsync(RunTimeline.Duration(run.Recovery!.Rto));
        await Assertions.Expect(line.Locator("td.rpo")).ToHaveTextAsync(RunTimeline.Duration(run.Recovery.Rpo));
        await ShotAsync(page, "reports");
        var csv = await page.APIRequest.GetAsync(_url + "/reports/recoveries.csv?service=svc1");
        csv.Status.Should().Be(200);
        (await csv.TextAsync()).Should().StartWith("run_id,service,kind").And.Contain(runId.ToString());
        var json = await page.APIRequest.GetAsync(_url + "/reports/recoveries.json?service=svc1");
        (await json.TextAsync()).Should().Contain(runId.ToString());

        await page.GotoAsync(_url + "/runs?service=svc1&action=takeover");
        await Assertions.Expect(page.Locator("table.runs")).ToContainTextAsync(RunTimeline.Short(runId));
        await Assertions.Expect(page.Locator("table.runs")).ToContainTextAsync("refused");
        await ShotAsync(page, "runs");
        PageErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task an_operator_drills_on_n3_cleans_up_then_after_a_takeover_reprotects_and_gives_back_to_n1()
    {
        using var client = Client();
        var page = await SignedInAsync("op-token");

        // The drill: offered on the DR node, the plan says production is not touched.
        await page.GotoAsync(_url + "/services/svc1");
        await page.GetByRole(AriaRole.Link, new() { Name = "Drill", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#node")).ToHaveValueAsync("n3");
        await Assertions.Expect(page.Locator("h2#checks")).ToContainTextAsync("Readiness of n3: ready");
        await Assertions.Expect(page.Locator("#plan-sentence")).ToContainTextAsync(new Regex(
            @"^svc1's DR copy will be started on n3 in isolation, under drill names, from data synced \d+ \w+ ago; production on n1 is not touched\. It is then checked to answer\. It stays until you clean it up\.$"));
        await page.GetByLabel("Keep the drill for").FillAsync("2h");
        await page.GetByLabel("Type svc1 to confirm").FillAsync("svc1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Drill on n3" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/runs/[0-9a-f-]{36}$"));
        var drillId = Guid.Parse(page.Url[^36..]);
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("completed", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("#rto")).ToHaveTextAsync(new Regex(@"^[0-9.]+(ms|s|m\d\ds)$"));
        await Assertions.Expect(page.Locator("#rpo")).ToHaveTextAsync(new Regex(@"^[0-9.]+(ms|s|m\d\ds)$"));
        await Assertions.Expect(page.Locator("#down")).ToHaveTextAsync("none");
        var drill = (await client.FindRunAsync(drillId.ToString(), default)).Run!;
        drill.Action.Should().Be(ServiceAction.Drill);
        drill.Node.Should().Be(new NodeName("n3"));
        drill.RequestedBy.Should().Be("alice");
        drill.Plan.Keep.Should().Be(TimeSpan.FromHours(2), "the optional keep field is the drill's --keep");
        drill.Recovery.Should().NotBeNull();
        (await client.StatusAsync("svc1", default))!.Instances.First(i => i.Node == "n1").Report!.Avail.Should().Be(Status.Up, "a drill leaves production alone");

        // The cleanup, offered on the same node.
        await page.GotoAsync(_url + "/services/svc1");
        await page.GetByRole(AriaRole.Link, new() { Name = "Clean up the drill" }).ClickAsync();
        await Assertions.Expect(page.Locator("#node")).ToHaveValueAsync("n3");
        await Assertions.Expect(page.Locator("#plan-sentence")).ToContainTextAsync(new Regex(
            @"^Everything a drill of svc1 left on n3 will be stopped and removed \(.*container#.*\).* production on n1 are not touched\.$"));
        await page.GetByLabel("Type svc1 to confirm").FillAsync("svc1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Clean up the drill on n3" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/runs/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("completed", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("drill-cleanup on n3");

        // The DR report lists the drill with its figures.
        await page.GotoAsync(_url + "/reports?service=svc1");
        var line = page.Locator("table.report tbody tr", new() { HasText = RunTimeline.Short(drillId) });
        await Assertions.Expect(line).ToContainTextAsync("drill");
        await Assertions.Expect(line).ToContainTextAsync("n3");
        await Assertions.Expect(line).ToContainTextAsync("alice");
        await Assertions.Expect(line.Locator("td.rto")).ToHaveTextAsync(RunTimeline.Duration(drill.Recovery!.Rto));
        await Assertions.Expect(line.Locator("td.rpo")).ToHaveTextAsync(RunTimeline.Duration(drill.Recovery.Rpo));

        // n1 is lost, svc1 taken over on n3 (the takeover's page is the other test's).
        await RunAsync(client, new ActionRequest("svc1", ServiceAction.Stop, new NodeName("n1"), "tester"));
        await Until(async () => (await client.StatusAsync("svc1", default))?.Instances.First(i => i.Node == "n1").Report?.Avail == Status.Down, "svc1 down on n1");
        await RunAsync(client, new ActionRequest("svc1", ServiceAction.Takeover, new NodeName("n3"), "tester") { Reason = "console test: n1 is lost" });
        await Until(async () => (await client.StatusAsync("svc1", default))?.Instances.First(i => i.Node == "n3").Report?.Avail == Status.Up, "svc1 up on n3");

        // Reprotect from the node it now runs on.
        await page.GotoAsync(_url + "/services/svc1");
        await page.GetByRole(AriaRole.Link, new() { Name = "Reprotect" }).ClickAsync();
        await Assertions.Expect(page.Locator("#node")).ToHaveValueAsync("n3");
        await Assertions.Expect(page.Locator("#plan-sentence")).ToContainTextAsync(new Regex(
            @"^svc1 keeps running on n3; n1 will mount its receiving filesystems and n3's data will be sent to n1 \(sync#\d.*\), so that n1 holds a recent copy"));
        await page.GetByLabel("Type svc1 to confirm").FillAsync("svc1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reprotect on n3" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/runs/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("completed", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("reprotect from n3 to n1");
        (await client.StatusAsync("svc1", default))!.Reversal!.From.Should().Be(new NodeName("n3"));

        // Giveback: back home with nothing lost.
        await page.GotoAsync(_url + "/services/svc1");
        await page.GetByRole(AriaRole.Link, new() { Name = "Give back" }).ClickAsync();
        await Assertions.Expect(page.Locator("#node")).ToHaveValueAsync("n3");
        await Assertions.Expect(page.Locator("#plan-sentence")).ToContainTextAsync(new Regex(
            @"^svc1 will be stopped on n3, its data sent to n1 once it has stopped writing \(sync#\d.*: nothing lost\), and started on n1"));
        await page.GetByLabel("Type svc1 to confirm").FillAsync("svc1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Give back on n3" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/runs/[0-9a-f-]{36}$"));
        var givebackId = Guid.Parse(page.Url[^36..]);
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("completed", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("giveback from n3 to n1");
        await Assertions.Expect(page.Locator("#rpo")).ToHaveTextAsync("0ms");
        await Assertions.Expect(page.Locator("#recovery")).ToContainTextAsync("request to the last start on n1");
        var giveback = (await client.FindRunAsync(givebackId.ToString(), default)).Run!;
        giveback.Recovery!.Rpo.Should().Be(TimeSpan.Zero);
        await Until(async () => (await client.StatusAsync("svc1", default))?.Instances.First(i => i.Node == "n1").Report?.Avail == Status.Up, "svc1 up on n1 again");
        (await client.StatusAsync("svc1", default))!.Reversal.Should().BeNull("giveback restores the normal direction");
        PageErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task freezes_read_in_words_with_their_thaw_command_and_an_operators_thaw_button_thaws_through_the_api_request()
    {
        // Frozen the way the CLI freezes (the API over the agent's socket): the service, its instance on n3, the node n2.
        using var client = Client();
        (await client.FreezeAsync(new FreezeService("svc1", null, true, "tester", "maintenance window"), default)).Outcome.Should().Be(FreezeOutcome.Done);
        (await client.FreezeAsync(new FreezeService("svc1", new NodeName("n3"), true, "tester", null), default)).Outcome.Should().Be(FreezeOutcome.Done);
        (await client.FreezeNodeAsync(new FreezeNode(new NodeName("n2"), true, "tester", "disk swap"), default)).Outcome.Should().Be(FreezeOutcome.Done);

        // A viewer reads every freeze in words and the command that thaws it, and has no thaw button.
        var viewer = await SignedInAsync("viewer-token");
        var row = viewer.Locator("table.services tbody tr", new() { HasText = "svc1" });
        await Assertions.Expect(row.Locator(".badge.frozen")).ToHaveTextAsync(["frozen", "node n2 frozen", "frozen on n3"]);
        await Assertions.Expect(row).ToContainTextAsync("no automatic start");
        await Assertions.Expect(row).ToContainTextAsync("thaw: opensvc svc thaw svc1");
        await Assertions.Expect(row).ToContainTextAsync("thaw: opensvc svc thaw svc1 --node n3");
        await Assertions.Expect(row).ToContainTextAsync("thaw: opensvc node thaw --node n2");
        await ShotAsync(viewer, "services-frozen");
        await viewer.GotoAsync(_url + "/services/svc1");
        var frozen = viewer.Locator("section.frozen");
        await Assertions.Expect(frozen.Locator("h2")).ToHaveTextAsync("Frozen: no automatic start");
        await Assertions.Expect(frozen).ToContainTextAsync(new Regex(@"svc1 is frozen since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ by \S+ \(maintenance window\): the orchestrator starts svc1 nowhere by itself; manual actions still run\."));
        await Assertions.Expect(frozen).ToContainTextAsync("svc1 on n3 is frozen since");
        await Assertions.Expect(frozen).ToContainTextAsync(new Regex(@"node n2 is frozen since .* \(disk swap\): the orchestrator starts no service on n2 by itself"));
        await Assertions.Expect(frozen).ToContainTextAsync("To thaw it from a shell: opensvc node thaw --node n2");
        await Assertions.Expect(viewer.Locator("#instance-n3 h3 .badge.frozen")).ToHaveTextAsync("frozen");
        await Assertions.Expect(viewer.Locator("#instance-n2 h3 .badge.frozen")).ToHaveTextAsync("node frozen");
        await Assertions.Expect(viewer.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Thaw") })).ToHaveCountAsync(0);
        var token = await viewer.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value");
        var (status, body) = await PostFormAsync(viewer, "/services/svc1?handler=Thaw", $"__RequestVerificationToken={Uri.EscapeDataString(token!)}&scope=Service");
        status.Should().Be(403);
        body.Should().Contain("bob is a viewer: it may read, not act");
        (await client.StatusAsync("svc1", default))!.Frozen.Should().NotBeNull("a viewer thaws nothing");

        // An operator thaws each from the service page, with a reason for the first.
        var page = await SignedInAsync("op-token");
        await page.GotoAsync(_url + "/services/svc1");
        await ShotAsync(page, "frozen");
        var thawService = page.GetByRole(AriaRole.Form, new() { Name = "Thaw svc1", Exact = true });
        await thawService.GetByLabel("Reason (optional)").FillAsync("maintenance over");
        await thawService.GetByRole(AriaRole.Button, new() { Name = "Thaw svc1", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("#notice")).ToHaveTextAsync("svc1 thawed by alice");
        await Assertions.Expect(page.Locator("section.frozen .badge.frozen")).ToHaveTextAsync(["node n2 frozen", "frozen on n3"]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Thaw svc1 on n3" }).ClickAsync();
        await Assertions.Expect(page.Locator("#notice")).ToHaveTextAsync("svc1 on n3 thawed by alice");
        await page.GetByRole(AriaRole.Button, new() { Name = "Thaw node n2" }).ClickAsync();
        await Assertions.Expect(page.Locator("#notice")).ToHaveTextAsync("node n2 thawed by alice");
        await Assertions.Expect(page.Locator("section.frozen")).ToHaveCountAsync(0);
        await page.GotoAsync(_url + "/");
        await Assertions.Expect(page.Locator("table.services .badge.frozen")).ToHaveCountAsync(0);

        // The thaws are the domain's, recorded with who and why, as the CLI's are.
        var thawed = await client.StatusAsync("svc1", default);
        thawed!.Frozen.Should().BeNull();
        thawed.Instances.Should().OnlyContain(i => i.Frozen == null && i.NodeFrozen == null);
        await using var session = _n1.Services.GetRequiredService<IDocumentStore>().QuerySession();
        var events = (await session.Events.FetchStreamAsync(ServiceActivity.StreamId("svc1"))).Select(e => e.Data).OfType<ServiceThawed>().ToList();
        events.Should().HaveCount(2).And.OnlyContain(e => e.By == "alice");
        events[0].Should().Match<ServiceThawed>(e => e.Node == null && e.Reason == "maintenance over");
        events[1].Node.Should().Be(new NodeName("n3"));
        (await session.Events.FetchStreamAsync(NodeFreezes.StreamId(new NodeName("n2")))).Select(e => e.Data).OfType<NodeThawed>().Should().ContainSingle(e => e.By == "alice");
        PageErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task a_form_without_its_antiforgery_token_is_refused_and_no_token_reaches_a_page()
    {
        var page = await SignedInAsync("op-token");
        await page.GotoAsync(_url + "/services/svc1/act/sync");
        var (status, _) = await PostFormAsync(page, "/services/svc1/act/sync", "Confirm=svc1&node=n1");
        status.Should().Be(400, "Razor Pages validate the antiforgery token of every POST");
        (await Client().ListRunsAsync(new RunFilter("svc1", Action: ServiceAction.Sync), default)).Should().HaveCount(1, "only the set-up's sync ran");

        var cookies = await page.Context.CookiesAsync();
        cookies.Should().ContainSingle(c => c.Name == SignIn.CookieName).Which.Should().Match<BrowserContextCookiesResult>(c => c.HttpOnly && c.SameSite == SameSiteAttribute.Strict);
        foreach (var path in new[] { "/", "/services/svc1", "/services/svc1/act/takeover", "/runs", "/reports" })
        {
            await page.GotoAsync(_url + path);
            (await page.ContentAsync()).Should().NotContain("op-token", $"{path} must not show the token");
            page.Url.Should().NotContain("op-token");
        }

        // A browser that has not signed in is sent to the sign-in form, which comes back to the console.
        var fresh = await _browser.NewPageAsync();
        await fresh.GotoAsync(_url + "/services/svc1");
        fresh.Url.Should().Contain("/signin?return=%2Fservices%2Fsvc1");
        PageErrors().Should().BeEmpty();
    }

    [Fact]
    public async Task an_operator_signs_in_and_syncs_svc1_with_the_keyboard_alone()
    {
        var context = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = 1360, Height = 900 } });
        var page = await context.NewPageAsync();
        page.PageError += (_, e) => _consoleErrors.Add($"{page.Url}: {e}");
        await page.GotoAsync(_url + "/");
        page.Url.Should().Contain("/signin");

        // Tab reaches the labelled token field; typing and Enter sign in.
        await TabToAsync(page, page.GetByLabel("Token"));
        await page.Keyboard.TypeAsync("op-token");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(_url + "/");

        // Tab reaches the service's link from the services page; Enter follows it.
        await TabToAsync(page, page.Locator("table.services tbody a", new() { HasText = "svc1" }).First);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(_url + "/services/svc1");

        // A guided action from the keyboard: Tab to the confirmation, type the name, Enter submits; the run completes.
        await page.GotoAsync(_url + "/services/svc1/act/sync?node=n1");
        await TabToAsync(page, page.GetByLabel("Type svc1 to confirm"));
        await page.Keyboard.TypeAsync("svc1");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(new Regex("/runs/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("completed", new() { Timeout = 60_000 });
        var run = (await Client().FindRunAsync(page.Url[^36..], default)).Run!;
        run.Action.Should().Be(ServiceAction.Sync);
        run.RequestedBy.Should().Be("alice");
        PageErrors().Should().BeEmpty();
    }

    /// <summary>Presses Tab (at most 60 times) until <paramref name="target"/> has the focus: it is reachable from the keyboard.</summary>
    static async Task TabToAsync(IPage page, ILocator target)
    {
        for (var i = 0; i < 60; i++)
        {
            if (await target.EvaluateAsync<bool>("el => el === document.activeElement"))
                return;
            await page.Keyboard.PressAsync("Tab");
        }
        throw new Xunit.Sdk.XunitException($"{target} never got the focus from the keyboard (60 Tabs)");
    }

    IEnumerable<string> PageErrors() =>
        _consoleErrors.Where(e => !_refusedOnPurpose.Any(code => e.EndsWith($"the server responded with a status of {code} ({(code == 400 ? "Bad Request" : "Forbidden")})", StringComparison.Ordinal)));

    async Task<IPage> SignedInAsync(string token)
    {
        var context = await _browser.NewContextAsync(new() { ViewportSize = new() { Width = 1360, Height = 900 } });
        var page = await context.NewPageAsync();
        page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning")
                _consoleErrors.Add($"{page.Url}: {m.Type}: {m.Text}");
        };
        page.PageError += (_, e) => _consoleErrors.Add($"{page.Url}: {e}");
        await page.GotoAsync(_url + "/");
        page.Url.Should().Contain("/signin");
        await page.GetByLabel("Token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(_url + "/");
        return page;
    }

    /// <summary>A same-origin form POST from the page (as a form would send it), its status and body.</summary>
    async Task<(int Status, string Body)> PostFormAsync(IPage page, string path, string body)
    {
        var result = await page.EvaluateAsync<string[]>(
            @"async ([path, body]) => { const r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body, credentials: 'same-origin' });
                return [String(r.status), await r.text()]; }", new object[] { path, body });
        var status = int.Parse(result[0], System.Globalization.CultureInfo.InvariantCulture);
        _refusedOnPurpose.Add(status);
        return (status, result[1]);
    }

    async Task ShotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("OPENSVC_CONSOLE_SCREENSHOTS") is not { Length: > 0 } dir)
            return;
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new() { Path = Path.Combine(dir, name + ".png"), FullPage = true });
        output.WriteLine($"screenshot {name}.png of {page.Url}");
    }

    static async Task RunAsync(IClusterClient client, ActionRequest request)
    {
        var result = await client.RequestActionAsync(request, default);
        result.Should().BeOfType<ActionAccepted>((result as ActionRefused)?.Refusal);
        var id = result.RunId();
        await Until(async () => (await client.FindRunAsync(id.ToString(), default)).Run is { IsFinished: true }, $"run {id} ends");
        (await client.FindRunAsync(id.ToString(), default)).Run!.Status.Should().Be(RunStatus.Completed);
    }

    static async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting until {what}");
            await Task.Delay(200);
        }
    }
}
