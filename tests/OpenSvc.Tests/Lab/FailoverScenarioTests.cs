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
/// PostgreSQL, the seed's failover service (lab/services/failover.conf) driven through the CLI. Every step is checked
/// on the real state (mount table inside the node, `docker ps` on the service's private dockerd, ping across the
/// bridge), on the run's events, and on `svc status` against OpenSVC's aggregation rules.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class FailoverScenarioTests(LabFixture lab, ITestOutputHelper output) : IAsyncLifetime
{
    static readonly string[] Nodes = ["n1", "n2", "n3"];

    readonly LabScenario _s = new(lab, output);
    string _config = "";
    string _broken = "";

    string Ip => $"{lab.Subnet}.50";

    public async Task InitializeAsync()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        _config = await _s.WriteConfigAsync("failover.conf", "svc1-e2e.conf");
        // The failure case: container#1's image does not exist anywhere. With rm = true the container made by an
        // earlier start is removed first (OpenSVC brings an existing container back with `docker start` otherwise,
        // whatever the image now says), so the start needs the missing image.
        _broken = await _s.WriteConfigAsync("failover.conf", "svc1-e2e-broken.conf",
            text => text.Replace("run_image = opensvc/httpd:lab", "run_image = opensvc/absent:lab\nrm = true", StringComparison.Ordinal));

        await lab.ResetServiceDisksAsync();
        await _s.SeedPrivateImagesAsync(_config);
        Log("disks reset, images seeded");
        await _s.StartClusterAsync(Nodes);
        Log("PostgreSQL and 3 agents ready");
    }

    public async Task DisposeAsync()
    {
        await _s.DisposeAsync();
        if (!LabFactAttribute.IsRoot)
            return;
        // Whatever happened, leave nothing running and the disks as `lab up` made them, for the other lab tests.
        foreach (var node in Nodes)
            foreach (var rid in new[] { "container#1", "ip#0", "container#0", "fs#1", "fs#0" })
                await _s.DriverAsync(_config, node, rid, "stop");
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
        (await lab.PrivateDaemonPidsAsync(node, "svc1")).Should().BeEmpty($"no dockerd of svc1 on {node} is left");
        var ping = await lab.ExecAsync(node == "n2" ? "n1" : "n2", ["busybox", "ping", "-c", "1", "-W", "1", Ip], timeout: TimeSpan.FromSeconds(10));
        ping.Succeeded.Should().BeFalse($"{Ip} went with the stop on {node}");
    }

    Task<List<string>> MountsAsync(string node) => _s.MountsAsync(node);

    Task<bool> PrivateDockerAnswersAsync(string node) => _s.PrivateDockerAnswersAsync(node);

    string PrivateSocket(string node) => _s.PrivateSocket(node);

    Task<string> Must(params string[] args) => _s.Must(args);

    Task<(Guid RunId, string Output)> RunAsync(int exitCode, params string[] args) => _s.RunAsync(exitCode, args);

    Task<List<object>> EventsAsync(Guid runId) => _s.EventsAsync(runId);

    /// The seed's two syncs never run in this scenario, so every instance reports them "never synced" (warn): the
    /// overall stays warn throughout, as an operator should read a DR copy that was never made.
    Task ExpectStatusAsync(string avail, string overall, params (string Node, string Avail)[] nodes) =>
        _s.ExpectStatusAsync("svc1", avail, overall, nodes);

    void Log(string what) => _s.Log(what);
}
