using System.Diagnostics;
using System.Text.RegularExpressions;
using FluentAssertions;
using Marten;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Engine;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Lab;

/// <summary>
/// End to end on the 3-node lab, the real product: one `opensvc agent` inside each node (real drivers) against one
/// PostgreSQL, the seed's failover service (Fixtures/lab/failover.conf) driven through the CLI. Every step is checked
/// on the real state (mount table inside the node, `docker ps` on the service's private dockerd, ping across the
/// bridge), on the run's events, and on `svc status` against OpenSVC's aggregation rules.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class FailoverScenarioTests(LabFixture lab, ITestOutputHelper output) : IAsyncLifetime
{
    static readonly string[] Nodes = ["n1", "n2", "n3"];
    static readonly TimeSpan StatusWait = TimeSpan.FromSeconds(30);

    readonly Stopwatch _clock = Stopwatch.StartNew();
    LabCluster? _cluster;
    string _config = "";
    string _broken = "";

    LabCluster Cluster => _cluster ?? throw new InvalidOperationException("no lab cluster");

    string Ip => $"{lab.Subnet}.50";

    string PrivateSocket(string node) => $"unix://{Path.Combine(lab.Dir, node, "var", "svc", "svc1", "docker.sock")}";

    public async Task InitializeAsync()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        var text = (await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "lab", "failover.conf")))
            .Replace("@N1_DEV@", lab.Dev("n1")).Replace("@N3_DEV@", lab.Dev("n3")).Replace("@SUBNET@", lab.Subnet);
        _config = Path.Combine(lab.WorkDir, "svc1-e2e.conf");
        await File.WriteAllTextAsync(_config, text);
        // The failure case: container#1's image does not exist anywhere. With rm = true the container made by an
        // earlier start is removed first (OpenSVC brings an existing container back with `docker start` otherwise,
        // whatever the image now says), so the start needs the missing image.
        _broken = Path.Combine(lab.WorkDir, "svc1-e2e-broken.conf");
        await File.WriteAllTextAsync(_broken, text.Replace("run_image = opensvc/httpd:lab", "run_image = opensvc/absent:lab\nrm = true", StringComparison.Ordinal));

        await lab.ResetServiceDisksAsync();
        await SeedPrivateImagesAsync();
        Log("disks reset, images seeded");
        _cluster = await LabCluster.StartAsync(lab, Nodes);
        Log("PostgreSQL and 3 agents ready");
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
        if (!LabFactAttribute.IsRoot)
            return;
        // Whatever happened, leave nothing running and the disks as `lab up` made them, for the other lab tests.
        foreach (var node in Nodes)
            foreach (var rid in new[] { "container#1", "ip#0", "container#0", "fs#1", "fs#0" })
                await DriverAsync(node, rid, "stop");
        await lab.ResetServiceDisksAsync();
        Log("cleaned up");
    }

    [LabFact]
    public async Task failover_service_starts_stands_by_stops_switches_and_rolls_back_on_the_lab_through_the_cli()
    {
        // ---- create -------------------------------------------------------------------------------------------
        (await Must("svc", "create", "svc1", "--config", _config)).Should().Contain("service svc1: stored as v1");
        (await Must("agents")).Should().MatchRegex(@"n1\s+alive").And.MatchRegex(@"n2\s+alive").And.MatchRegex(@"n3\s+alive");
        // Nothing runs: n3's always-on fs are standby and down, hence stdby down there and a warn overall.
        await ExpectStatusAsync("down", "warn", ("n1", "down"), ("n2", "down"), ("n3", "stdby down"));
        Log("created");

        // ---- start on n1 --------------------------------------------------------------------------------------
        var start = await RunAsync(0, "svc", "start", "svc1", "--node", "n1");
        start.Output.Should().Contain("fs#0").And.Contain("container#1");
        await AssertRunningOnAsync("n1");
        foreach (var other in new[] { "n2", "n3" })
            (await MountsAsync(other)).Should().BeEmpty($"{other} mounts nothing of svc1 yet");
        await ExpectStatusAsync("up", "warn", ("n1", "up"), ("n2", "down"), ("n3", "stdby down"));
        var startEvents = await EventsAsync(start.RunId);
        startEvents.OfType<StepSucceeded>().Should().HaveCount(5, "fs#0, fs#1, container#0, ip#0, container#1");
        startEvents.OfType<RunCompleted>().Should().ContainSingle();
        Log("started on n1");

        // ---- startstandby on n3: its own disk, the always-on fs only -----------------------------------------
        await RunAsync(0, "svc", "startstandby", "svc1", "--node", "n3");
        (await MountsAsync("n3")).Should().BeEquivalentTo(["/srv/svc1/data", "/srv/svc1/docker"]);
        (await PrivateDockerAnswersAsync("n3")).Should().BeFalse("startstandby starts no container");
        await ExpectStatusAsync("up", "warn", ("n1", "up"), ("n2", "down"), ("n3", "stdby up"));
        Log("standby on n3");

        // ---- stop on n1: everything goes, the standby on n3 stays ---------------------------------------------
        await RunAsync(0, "svc", "stop", "svc1", "--node", "n1");
        await AssertNothingRunningOnAsync("n1");
        (await MountsAsync("n3")).Should().HaveCount(2, "a stop on n1 does not touch n3's standby");
        await ExpectStatusAsync("down", "warn", ("n1", "down"), ("n2", "down"), ("n3", "stdby up"));
        Log("stopped on n1");

        // ---- start on n1 again, write data, switch to n2: the data follows on the shared disk -----------------
        await RunAsync(0, "svc", "start", "svc1", "--node", "n1");
        await AssertRunningOnAsync("n1");
        var token = Guid.NewGuid().ToString("N");
        (await lab.ExecAsync("n1", ["sh", "-c", $"echo {token} > /srv/svc1/data/written-on-n1 && sync"])).Succeeded.Should().BeTrue();
        var sw = await RunAsync(0, "svc", "switch", "svc1", "--node", "n1", "--to", "n2");
        sw.Output.Should().Contain("10 steps");
        await AssertNothingRunningOnAsync("n1");
        await AssertRunningOnAsync("n2", pingFrom: "n3");
        (await lab.ExecAsync("n2", ["cat", "/srv/svc1/data/written-on-n1"])).StdOut.Trim().Should().Be(token, "n1 and n2 share the disk");
        await ExpectStatusAsync("up", "warn", ("n1", "down"), ("n2", "up"), ("n3", "stdby up"));
        Log("switched to n2");

        // ---- a start that fails mid-way rolls back what it started --------------------------------------------
        await RunAsync(0, "svc", "stop", "svc1", "--node", "n2");
        await AssertNothingRunningOnAsync("n2");
        (await Must("svc", "update", "svc1", "--config", _broken)).Should().Contain("stored as v2").And.Contain("opensvc/absent:lab");
        var failed = await RunAsync(1, "svc", "start", "svc1", "--node", "n1");
        failed.Output.Should().Contain("container#1: FAILED").And.Contain("image opensvc/absent:lab is not present on node n1");
        await AssertNothingRunningOnAsync("n1");
        var events = await EventsAsync(failed.RunId);
        var stepFailed = events.OfType<StepFailed>().Last();
        stepFailed.Step.Should().Be(4, "container#1 is the 5th step (0-based 4)");
        events.OfType<StepRetried>().Should().BeEmpty("a missing image cannot appear by retrying: the driver marks it permanent");
        var compensation = events.OfType<CompensationPlanned>().Should().ContainSingle().Subject;
        compensation.FailedStep.Should().Be(4);
        compensation.Steps.Select(s => $"{s.Step.Rid} {s.Step.Action}").Should().Equal(
            "ip#0 Stop", "container#0 Stop", "fs#1 Stop", "fs#0 Stop");
        events.OfType<StepCompensated>().Select(c => c.Step).Should().BeEquivalentTo([0, 1, 2, 3]);
        var runFailed = events.OfType<RunFailed>().Should().ContainSingle().Subject;
        runFailed.RolledBack.Should().BeTrue();
        runFailed.FailedStep.Should().Be(4);
        var show = await Must("run", "show", failed.RunId.ToString());
        show.Should().Contain("failed").And.Contain("(undo").And.Contain("ok, rolled back");
        output.WriteLine(show);
        await ExpectStatusAsync("down", "warn", ("n1", "down"), ("n2", "down"), ("n3", "stdby up"));
        Log("rolled back on n1");

        // ---- back to the good config; a forced stop takes n3's standby down too -------------------------------
        (await Must("svc", "update", "svc1", "--config", _config)).Should().Contain("stored as v3");
        await RunAsync(0, "svc", "stop", "svc1", "--node", "n3", "--force", "--reason", "end of the lab scenario");
        (await MountsAsync("n3")).Should().BeEmpty();
        await ExpectStatusAsync("down", "warn", ("n1", "down"), ("n2", "down"), ("n3", "stdby down"));
        (await Must("runs", "--service", "svc1")).Should().Contain("failed").And.Contain("completed");
        Log("done");
    }

    // ---- real state ------------------------------------------------------------------------------------------

    async Task AssertRunningOnAsync(string node, string pingFrom = "n2")
    {
        // The private dockerd adds its own mount under its data root (btrfs storage driver): both fs, at least.
        (await MountsAsync(node)).Should().Contain(["/srv/svc1/data", "/srv/svc1/docker"], $"both fs are mounted on {node}");
        var ps = await lab.ExecAsync(node, ["docker", "-H", PrivateSocket(node), "ps", "--format", "{{.Names}}"]);
        ps.Succeeded.Should().BeTrue(ps.Tail());
        ps.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().BeEquivalentTo(["svc1.container.0", "svc1.container.1"],
            $"both containers run on the service's private dockerd on {node}");
        (await lab.ExecAsync(node, ["docker", "ps", "-q", "--filter", "name=svc1"])).StdOut.Trim().Should().BeEmpty("the node's own dockerd runs none");
        var ping = await lab.ExecAsync(pingFrom, ["busybox", "ping", "-c", "3", "-W", "2", Ip], timeout: TimeSpan.FromSeconds(20));
        ping.Succeeded.Should().BeTrue($"{Ip} answers {pingFrom}: {ping.StdOut}{ping.StdErr}");
    }

    async Task AssertNothingRunningOnAsync(string node)
    {
        (await MountsAsync(node)).Should().BeEmpty($"nothing of svc1 stays mounted on {node}");
        (await PrivateDockerAnswersAsync(node)).Should().BeFalse($"the private dockerd of svc1 on {node} is stopped");
        var daemons = await ProcessRunner.RunAsync("pgrep", ["-f", Path.Combine(lab.Dir, node, "var", "svc", "svc1", "daemon.json")]);
        daemons.StdOut.Trim().Should().BeEmpty($"no dockerd of svc1 on {node} is left");
        var ping = await lab.ExecAsync(node == "n2" ? "n1" : "n2", ["busybox", "ping", "-c", "1", "-W", "1", Ip], timeout: TimeSpan.FromSeconds(10));
        ping.Succeeded.Should().BeFalse($"{Ip} went with the stop on {node}");
    }

    async Task<List<string>> MountsAsync(string node)
    {
        var r = await lab.ExecAsync(node, ["cat", "/proc/self/mountinfo"]);
        r.Succeeded.Should().BeTrue(r.Tail());
        // mountinfo field 5 is the mount point.
        return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')[4])
            .Where(m => m.StartsWith("/srv/svc1", StringComparison.Ordinal))
            .ToList();
    }

    async Task<bool> PrivateDockerAnswersAsync(string node) =>
        (await lab.ExecAsync(node, ["docker", "-H", PrivateSocket(node), "version"], timeout: TimeSpan.FromSeconds(20))).Succeeded;

    // ---- the CLI, events and status ------------------------------------------------------------------------

    async Task<string> Must(params string[] args)
    {
        var r = await Cluster.CliAsync(args);
        output.WriteLine($"$ opensvc {string.Join(' ', args)}\n{r.StdOut}{r.StdErr}");
        r.Succeeded.Should().BeTrue($"opensvc {string.Join(' ', args)} should succeed: {r.StdOut}{r.StdErr}");
        return r.StdOut;
    }

    /// <summary>An action through the CLI, which follows the run to its end: the expected exit code, and the run id it printed.</summary>
    async Task<(Guid RunId, string Output)> RunAsync(int exitCode, params string[] args)
    {
        var sw = Stopwatch.StartNew();
        var r = await Cluster.CliAsync(args);
        output.WriteLine($"$ opensvc {string.Join(' ', args)}   # exit {r.ExitCode}, {sw.Elapsed.TotalSeconds:F1}s\n{r.StdOut}{r.StdErr}");
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(exitCode, $"opensvc {string.Join(' ', args)}: {r.StdOut}{r.StdErr}\nagents:\n{Tail(Cluster.AgentLogs)}");
        var id = RunLine().Match(r.StdOut);
        id.Success.Should().BeTrue(r.StdOut);
        return (Guid.Parse(id.Groups[1].Value), r.StdOut);
    }

    async Task<List<object>> EventsAsync(Guid runId)
    {
        using var store = DocumentStore.For(o => WorkflowStore.Configure(o, Cluster.Connection));
        await using var q = store.QuerySession();
        return (await q.Events.FetchStreamAsync(runId)).Select(e => e.Data).ToList();
    }

    /// <summary>
    /// Waits (bounded) until `svc status` shows the expected service avail/overall and per-node instance avail: agents
    /// refresh after each step of theirs and every OPENSVC_STATUS_MS.
    /// </summary>
    /// The seed's two syncs never run in this scenario, so every instance reports them "never synced" (warn): the
    /// overall stays warn throughout, as an operator should read a DR copy that was never made.
    async Task ExpectStatusAsync(string avail, string overall, params (string Node, string Avail)[] nodes)
    {
        var expected = $"{avail}/{overall} " + string.Join(' ', nodes.Select(n => $"{n.Node}={n.Avail}"));
        var deadline = DateTime.UtcNow + StatusWait;
        string seen;
        string text;
        while (true)
        {
            var r = await Cluster.CliAsync("svc", "status", "svc1");
            text = r.StdOut + r.StdErr;
            var head = ServiceLine().Match(text);
            seen = (head.Success ? $"{head.Groups[1].Value}/{head.Groups[2].Value}" : "?") + " " +
                string.Join(' ', nodes.Select(n => NodeLine(n.Node).Match(text) is { Success: true } m ? $"{n.Node}={m.Groups[1].Value}" : $"{n.Node}=?"));
            if (seen == expected || DateTime.UtcNow > deadline)
                break;
            await Task.Delay(500);
        }
        output.WriteLine($"$ opensvc svc status svc1\n{text}");
        seen.Should().Be(expected, $"svc status should match OpenSVC's aggregation:\n{text}");
    }

    static Regex NodeLine(string node) => new($@"^\s+{node}\s+(?:node|drp)\s+avail (\S+(?: \S+)?)\s+overall", RegexOptions.Multiline);

    [GeneratedRegex(@"^svc1  avail (.+?)  overall (.+?)  \(", RegexOptions.Multiline)]
    private static partial Regex ServiceLine();

    [GeneratedRegex(@"^run ([0-9a-f-]{36}):", RegexOptions.Multiline)]
    private static partial Regex RunLine();

    // ---- set-up helpers --------------------------------------------------------------------------------------

    /// <summary>
    /// The service's private dockerd keeps its images on the shared disk's docker subvolume, and no registry is
    /// reachable: load the lab images into it once, from n1's own dockerd, with the product's drivers mounting the fs
    /// and starting the private daemon (what the docker sync will do for the DR node).
    /// </summary>
    async Task SeedPrivateImagesAsync()
    {
        await MustDriver("n1", "fs#0", "start");
        var first = await DriverAsync("n1", "container#0", "start");
        first.StdErr.Should().Contain("image opensvc/busybox:lab is not present", "the disks were reset: the private store is empty");
        var load = await lab.ExecAsync("n1", ["sh", "-c", $"docker save opensvc/busybox:lab opensvc/httpd:lab | docker -H {PrivateSocket("n1")} load"]);
        load.Succeeded.Should().BeTrue(load.Tail());
        // Starting and stopping container#0 stops the private daemon the driver started.
        await MustDriver("n1", "container#0", "start");
        await MustDriver("n1", "container#0", "stop");
        await MustDriver("n1", "fs#0", "stop");
        (await PrivateDockerAnswersAsync("n1")).Should().BeFalse();
    }

    async Task MustDriver(string node, string rid, string action)
    {
        var r = await DriverAsync(node, rid, action);
        r.Succeeded.Should().BeTrue($"{rid} {action} on {node}: {r.StdOut}{r.StdErr}");
    }

    Task<ProcessResult> DriverAsync(string node, string rid, string action) =>
        lab.ExecAsync(node,
            ["dotnet", LabBinaries.OpensvcDll(lab.Dir), "driver", "exec", "--config", _config, "--service", "svc1", "--node", node, "--rid", rid, "--action", action],
            LabAgent.Environment(lab, node), TimeSpan.FromMinutes(3));

    void Log(string what) => output.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:F1}s] {what}");

    static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
