using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FluentAssertions;
using Marten;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Access;
using OpenSvc.Host.Agent;
using OpenSvc.Host.Api;
using OpenSvc.Host.Cli;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using Xunit;

namespace OpenSvc.Tests.Api;

/// <summary>The REST API with the real host (Kestrel on loopback) on real PostgreSQL, two node agents on the fake cluster.</summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class ApiTests : IAsyncLifetime
{
    WebApplication _n1 = null!;
    WebApplication _n2 = null!;
    WebApplication _n3 = null!;
    string _url = "";
    string _connection = "";
    readonly string _socket = Path.Combine(Directory.CreateTempSubdirectory("osapi").FullName, "n1.sock");
    static readonly string Me = $"{Environment.UserName}@local";

    /// <summary>n1's tokens: alice operates, bob views.</summary>
    internal static AccessPolicy Tokens() => new(TokenStore.Of(("alice", Role.Operator, "op-token"), ("bob", Role.Viewer, "viewer-token")));
    static readonly string Seed = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "failover-docker-btrfs.conf"));

    public async Task InitializeAsync()
    {
        _connection = await PostgresServer.NewDatabaseAsync("api");
        _n1 = AgentHost.Build(new AgentSettings(new NodeName("n1"), "127.0.0.1:0", _connection, FakeCluster: true, Workers: 2, QueuePoll: SharedProcess.QueuePoll,
            Socket: _socket), _connection, access: Tokens());
        await _n1.Services.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        await _n1.StartAsync();
        _url = AgentHost.TcpUrl(_n1);
        _n2 = AgentHost.Build(new AgentSettings(new NodeName("n2"), "127.0.0.1:0", _connection, FakeCluster: true, Workers: 2, QueuePoll: SharedProcess.QueuePoll), _connection);
        await _n2.StartAsync();
        _n3 = AgentHost.Build(new AgentSettings(new NodeName("n3"), "127.0.0.1:0", _connection, FakeCluster: true, Workers: 2, QueuePoll: SharedProcess.QueuePoll), _connection);
        await _n3.StartAsync();
        // Plans refuse to act while a peer's agent is silent: wait for every agent's first heartbeat.
        using var client = Client();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await client.AgentsAsync(default)).Count < 3)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("agents n1..n3 did not heartbeat");
            await Task.Delay(100);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var app in new[] { _n1, _n2, _n3 })
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        Directory.Delete(Path.GetDirectoryName(_socket)!, recursive: true);
    }

    /// <summary>The CLI's client on this machine: n1's local socket, no token.</summary>
    ApiClusterClient Client() => new("unix:" + _socket, null);

    [Fact]
    public async Task a_service_is_created_started_and_audited_through_the_api()
    {
        using var client = Client();
        var created = await client.ConfigureAsync(new ConfigureService("svc1", Seed, "tester", MustExist: false, MustNotExist: true), default);
        created.Accepted.Should().BeTrue();
        created.Version.Should().Be(1);
        created.Problems.Should().Contain(p => p.Severity == Domain.Config.Severity.Error && p.Node == new NodeName("n3"), "the seed has no dev for n3");

        var started = await client.RequestActionAsync(new ActionRequest("svc1", ServiceAction.Start, new NodeName("n1"), "tester"), default);
        started.Should().BeOfType<ActionAccepted>((started as ActionRefused)?.Refusal);
        var run = await WaitAsync(client, started.RunId());
        run.Status.Should().Be(RunStatus.Completed);
        run.RequestedBy.Should().Be(Me, "the local socket's caller, named by the kernel");
        run.ConfigVersion.Should().StartWith("v1 (");

        // The second start on another node of a failover service is refused, and the refusal is a run too.
        var status = await WaitForStatusAsync(client, "svc1", "n1", Status.Up);
        status.Avail.Should().Be(Status.Up);
        var refused = await client.RequestActionAsync(new ActionRequest("svc1", ServiceAction.Start, new NodeName("n2"), "tester"), default);
        refused.Should().BeOfType<ActionRefused>();
        ((ActionRefused)refused).Refusal.Should().Contain("already up on n1");
        (await client.FindRunAsync(RunTimeline.Short(refused.RunId()), default)).Run!.Status.Should().Be(RunStatus.Refused);

        var runs = await client.ListRunsAsync(new RunFilter(Service: "svc1"), default);
        runs.Select(r => r.Status).Should().Contain([RunStatus.Completed, RunStatus.Refused]);
        (await client.ConfigHistoryAsync("svc1", default)).Should().ContainSingle().Which.By.Should().Be(Me);
        (await client.CancelAsync(new CancelRun(run.Id, "tester", null), default)).Accepted.Should().BeFalse();
        (await client.AgentsAsync(default)).Select(a => a.Id).Should().Contain(["n1", "n2"]);
    }

    [Fact]
    public async Task sync_lag_is_warn_until_a_sync_runs_and_each_sync_resource_gets_a_job_at_its_next_due_time()
    {
        using var client = Client();
        // The seed gives the DR node no devices: its standby fs could not hold the received images, and a sync plan (whose
        // first step prepares n3 to receive) is refused for that config error. Give n3 its own disk, as the lab does.
        var config = Seed.Replace("  [DEFAULT]\n", "  [DEFAULT]\n  sync_max_delay = 5\n", StringComparison.Ordinal)
            .Replace("  dev@nodes = /dev/mapper/svc1.d0\n", "  dev@nodes = /dev/mapper/svc1.d0\n  dev@drpnodes = /dev/mapper/svc1.dr\n", StringComparison.Ordinal);
        config.Should().Contain("sync_max_delay = 5").And.Contain("dev@drpnodes");
        (await client.ConfigureAsync(new ConfigureService("svc-lag", config, "tester", MustExist: false, MustNotExist: true), default)).Accepted.Should().BeTrue();
        // Each sync resource has one delayed job at its next due time (the seed's default ~04:00-06:00), in the dashboard's Scheduled page.
        var armed = await _n1.Services.GetRequiredService<OpenSvc.Workflows.Syncs.SyncSchedules>().ListAsync("svc-lag", default);
        armed.Select(a => a.Rid).Should().Equal("sync#0", "sync#1");
        var scheduled = _n1.Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi().ScheduledJobs(0, 1000).ToDictionary(j => j.Key, j => j.Value);
        foreach (var a in armed)
        {
            a.NextDue.Should().NotBeNull();
            a.NextDue!.Value.ToLocalTime().TimeOfDay.Should().BeGreaterThanOrEqualTo(TimeSpan.FromHours(4)).And.BeLessThanOrEqualTo(TimeSpan.FromHours(6));
            scheduled.Should().ContainKey(a.JobId!);
            scheduled[a.JobId!].EnqueueAt.Should().Be(a.NextDue.Value.UtcDateTime);
        }

        var before = await client.StatusAsync("svc-lag", default);
        before!.Syncs.Should().HaveCount(2).And.OnlyContain(l => l.Status == Status.Warn && l.Message == "never synced" && l.Target == "n3");

        var start = await client.RequestActionAsync(new ActionRequest("svc-lag", ServiceAction.Start, new NodeName("n1"), "tester"), default);
        (await WaitAsync(client, start.RunId())).Status.Should().Be(RunStatus.Completed);
        await WaitForStatusAsync(client, "svc-lag", "n1", Status.Up);
        var sync = await client.RequestActionAsync(new ActionRequest("svc-lag", ServiceAction.Sync, new NodeName("n1"), "tester"), default);
        sync.Should().BeOfType<ActionAccepted>((sync as ActionRefused)?.Refusal);
        var run = await WaitAsync(client, sync.RunId());
        run.Steps.Select(x => $"{x.Step.Node} {x.Step.Action} {x.Step.Rid}>{x.Step.Target}").Should().Equal(
            "n3 PrepareReceive sync#0>", "n1 Sync sync#0>n3", "n1 Sync sync#1>n3");

        var after = await client.StatusAsync("svc-lag", default);
        after!.Syncs.Should().OnlyContain(l => l.Status == Status.Up && l.LastRun == run.Id);

        // Readiness on the DR node: the copies are fresh, but its receiving filesystems are down until startstandby.
        var notReady = (await client.ReadinessAsync(new GetReadiness("svc-lag", null), default))!;
        notReady.Node.Should().Be("n3", "the first DR node by default");
        notReady.Ready.Should().BeFalse();
        notReady.Checks.Should().Contain(c => c.Check == "agent" && c.Level == CheckLevel.Ok)
            .And.Contain(c => c.Check == "standby" && c.Level == CheckLevel.Fail && c.Sentence.Contains("startstandby svc-lag --node n3"))
            .And.Contain(c => c.Check == "copy sync#1" && c.Level == CheckLevel.Ok && c.Sentence.Contains("loses at most"))
            .And.Contain(c => c.Check == "config" && c.Level == CheckLevel.Ok);
        var standby = await client.RequestActionAsync(new ActionRequest("svc-lag", ServiceAction.StartStandby, new NodeName("n3"), "tester"), default);
        (await WaitAsync(client, standby.RunId())).Status.Should().Be(RunStatus.Completed);
        await WaitForReadinessAsync(client, "svc-lag");
        using (var http = new HttpClient { BaseAddress = new Uri(_url) })
        {
            (await http.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "a scraper needs a viewer token");
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "viewer-token");
            var metrics = await http.GetStringAsync("/metrics");
            metrics.Should().Contain("# TYPE opensvc_sync_last_success_age_seconds gauge")
                .And.MatchRegex(@"opensvc_sync_last_success_age_seconds\{service=""svc-lag"",rid=""sync#1"",target=""n3""\} [0-9.]+\n")
                .And.Contain("opensvc_sync_max_delay_seconds{service=\"svc-lag\",rid=\"sync#1\",target=\"n3\"} 300\n", "sync_max_delay = 5 counts minutes")
                .And.Contain("opensvc_dr_ready{service=\"svc-lag\",node=\"n3\"} 1\n")
                .And.Contain("opensvc_runs_total{service=\"svc-lag\",action=\"sync\",outcome=\"completed\"} 1\n")
                .And.Contain("opensvc_agent_up{node=\"n1\"} 1\n");
        }
        (await client.StatusAsync("svc-lag", default))!.Syncs.Should().OnlyContain(l => l.Message.StartsWith("last sync", StringComparison.Ordinal));

        // Deleting the service disarms its scheduled syncs.
        (await client.DeleteServiceAsync(new DeleteService("svc-lag", "tester"), default)).Outcome.Should().Be(DeleteOutcome.Deleted);
        (await _n1.Services.GetRequiredService<OpenSvc.Workflows.Syncs.SyncSchedules>().ListAsync("svc-lag", default)).Should().BeEmpty();
        _n1.Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi().ScheduledJobs(0, 1000).Select(j => j.Key)
            .Should().NotContain(armed.Select(a => a.JobId));
    }

    [Fact]
    public async Task a_dry_run_plans_against_the_cluster_without_running_anything()
    {
        using var client = Client();
        await client.ConfigureAsync(new ConfigureService("svc-dry", Seed, "tester", MustExist: false, MustNotExist: true), default);

        // Every agent probes a newly stored service within seconds, not at its next 30 s refresh.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await client.StatusAsync("svc-dry", default))!.Instances.Any(i => i.Report is null))
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "each agent should report svc-dry soon after it is created");
            await Task.Delay(200);
        }
        var dry = await client.PlanAsync(new ActionRequest("svc-dry", ServiceAction.Start, new NodeName("n2"), "tester"), default);

        dry.Should().BeOfType<ActionAccepted>((dry as ActionRefused)?.Refusal);
        dry.Plan!.Steps.Should().HaveCount(5).And.OnlyContain(s => s.Node == new NodeName("n2"));
        ((ActionAccepted)dry).RunId.Should().BeNull();
        (await client.ListRunsAsync(new RunFilter(Service: "svc-dry"), default)).Should().BeEmpty();
    }

    [Fact]
    public async Task errors_are_problem_details_with_the_plain_reason()
    {
        using var http = new HttpClient { BaseAddress = new Uri(_url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "op-token");
        var response = await http.GetAsync("/api/services/nosuch");
        response.StatusCode.Should().Be(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        doc.RootElement.GetProperty("detail").GetString().Should().Be("service nosuch does not exist");

        var bad = await http.PostAsync("/api/services/svc1/actions/dance", JsonContent("{\"node\":\"n1\"}"));
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await bad.Content.ReadAsStringAsync()).Should().Contain("is not one of start, stop");

        (await http.GetAsync("/openapi/v1.json")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task a_request_from_another_machine_needs_a_token_and_a_viewer_token_only_reads()
    {
        // TestServer requests carry no loopback address: exactly what a remote caller looks like.
        await using var app = AgentHost.Build(new AgentSettings(new NodeName("remote"), "127.0.0.1:0", _connection, FakeCluster: true, Workers: 1), _connection,
            b => b.WebHost.UseTestServer(), Tokens());
        await app.StartAsync();
        using var http = app.GetTestClient();

        var anonymous = await http.GetAsync("/api/services");
        anonymous.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await anonymous.Content.ReadAsStringAsync()).Should().Contain("needs a token");
        var dashboard = await http.GetAsync("/hangfire");
        dashboard.StatusCode.Should().Be(HttpStatusCode.Redirect, "a browser is sent to the sign-in form");
        dashboard.Headers.Location!.OriginalString.Should().Be("/signin?return=%2Fhangfire");
        (await http.GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.OK);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        (await http.GetAsync("/api/services")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "viewer-token");
        (await http.GetAsync("/api/services")).StatusCode.Should().Be(HttpStatusCode.OK);
        var refused = await http.PostAsync("/api/services/svc-x", ConfigJson(Seed));
        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadAsStringAsync()).Should().Contain("bob is a viewer: it may read, not act");
        (await http.GetAsync("/hangfire")).StatusCode.Should().Be(HttpStatusCode.OK);

        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "op-token");
        (await http.PostAsync("/api/services/svc-x", ConfigJson(Seed))).StatusCode.Should().Be(HttpStatusCode.Created);
        (await http.GetFromJsonAsync<IReadOnlyList<ServiceConfigured>>("/api/services/svc-x/history", ApiJson.Options))!.Single().By.Should().Be("alice");
        await app.StopAsync();
    }

    [Fact]
    public async Task the_cli_talks_to_the_agent_and_exits_with_the_documented_codes()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "Fixtures", "failover-docker-btrfs.conf");
        (await Cli("svc", "create", "svc-cli", "--config", file)).Code.Should().Be(0);
        var start = await Cli("svc", "start", "svc-cli", "--node", "n1");
        start.Code.Should().Be(0, start.Output);
        start.Output.Should().Contain("completed").And.Contain("opensvc run show");
        var refused = await Cli("svc", "takeover", "svc-cli", "--node", "n3");
        refused.Code.Should().Be(3, refused.Output);
        refused.Output.Should().Contain("refused");
        (await Cli("svc", "start", "svc-cli", "--node", "n1", "--force")).Code.Should().Be(2, "--force needs --reason");
        (await Cli("runs", "--status", "bogus")).Code.Should().Be(2);
        var runs = await Cli("runs", "--service", "svc-cli");
        runs.Output.Should().Contain("completed").And.Contain("refused");
        var unreachable = await Cli("runs", "--server", "http://127.0.0.1:1");
        unreachable.Code.Should().Be(1);
        unreachable.Output.Should().Contain("cannot reach the agent");
    }

    async Task<(int Code, string Output)> Cli(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(AgentProcess.OpensvcDll);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        if (!args.Contains("--server"))
        {
            psi.ArgumentList.Add("--server");
            psi.ArgumentList.Add("unix:" + _socket);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    internal static HttpContent ConfigJson(string config) => System.Net.Http.Json.JsonContent.Create(new ConfigBody(config), options: ApiJson.Options);

    [Fact]
    public async Task an_action_right_after_a_run_is_planned_from_the_status_its_steps_left()
    {
        using var client = Client();
        (await client.ConfigureAsync(new ConfigureService("svc-race", Seed, "tester", MustExist: false, MustNotExist: true), default)).Accepted.Should().BeTrue();
        var started = await client.RequestActionAsync(new ActionRequest("svc-race", ServiceAction.Start, new NodeName("n1"), "tester"), default);
        var run = await WaitAsync(client, started.RunId());
        run.Status.Should().Be(RunStatus.Completed);
        await WaitForStatusAsync(client, "svc-race", "n1", Status.Up);

        // n1's report as it would read had the agent not probed since before the start's last step; the agent's
        // probe after that step lands 300 ms later.
        var store = _n1.Services.GetRequiredService<IDocumentStore>();
        var key = Workflows.Monitoring.InstanceStatusReport.Key("svc-race", "n1");
        Workflows.Monitoring.InstanceStatusReport fresh;
        await using (var query = store.QuerySession())
            fresh = (await query.LoadAsync<Workflows.Monitoring.InstanceStatusReport>(key))!;
        await using (var session = store.LightweightSession())
        {
            session.Store(fresh with { Avail = Status.Down, Overall = Status.Down, UpdatedAt = run.Steps.Max(s => s.StartedAt!.Value) });
            await session.SaveChangesAsync();
        }
        var probe = Task.Run(async () =>
        {
            await Task.Delay(300);
            await using var session = store.LightweightSession();
            session.Store(fresh with { UpdatedAt = DateTimeOffset.UtcNow });
            await session.SaveChangesAsync();
        });

        var second = await client.RequestActionAsync(new ActionRequest("svc-race", ServiceAction.Start, new NodeName("n2"), "tester"), default);
        await probe;

        second.Should().BeOfType<ActionRefused>("planned from the report that followed the run, not from the one before its last step");
        ((ActionRefused)second).Refusal.Should().Contain("already up on n1");
    }

    async Task<WorkflowRun> WaitAsync(IClusterClient client, Guid id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var (run, _) = await client.FindRunAsync(id.ToString(), default);
            if (run is { IsFinished: true })
                return run;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"run {id} still {run?.Status}: " + string.Join(", ", run?.Steps.Select(s => $"{s.Step.Index + 1} {s.Step.Rid}:{s.Status}/{s.Attempt}") ?? [])
                    + $"\nHangfire's view (newest jobs):\n{await InProcessCluster.HangfireViewAsync(_connection)}{await InProcessCluster.StacksAsync()}");
            await Task.Delay(100);
        }
    }

    static async Task WaitForReadinessAsync(IClusterClient client, string service)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var readiness = await client.ReadinessAsync(new GetReadiness(service, null), default);
            if (readiness!.Ready)
                return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{service} never became ready:\n{ServiceCommands.ReadinessText(readiness)}");
            await Task.Delay(200);
        }
    }

    static async Task<Workflows.Monitoring.ServiceStatusView> WaitForStatusAsync(IClusterClient client, string service, string node, Status avail)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var view = await client.StatusAsync(service, default);
            if (view?.Instances.FirstOrDefault(i => i.Node == node)?.Report?.Avail == avail)
                return view;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{service} on {node} never reported {avail}");
            await Task.Delay(200);
        }
    }
}
