using System.Text.RegularExpressions;
using FluentAssertions;
using OpenSvc.Domain.Runs;
using OpenSvc.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Lab;

/// <summary>
/// Disaster recovery end to end on the 3-node lab, through the agents in the nodes and the CLI: the seed's failover
/// service gets its images and data to the DR node n3 by sync runs (a full then a delta send, a refusal recorded when
/// n3 cannot receive), then a takeover on n3 starts it from what was synced; the flex + failover-site service sends
/// its rsync only from the flex primary, with its exclude honoured.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class SyncScenarioTests(LabFixture lab, ITestOutputHelper output) : IAsyncLifetime
{
    static readonly string[] Nodes = ["n1", "n2", "n3"];
    static readonly string[] Images = ["opensvc/busybox:lab", "opensvc/httpd:lab"];

    readonly LabScenario _s = new(lab, output);
    readonly List<(string Config, string Service, string[] Rids)> _created = [];

    public async Task InitializeAsync()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        await lab.ResetServiceDisksAsync();
    }

    public async Task DisposeAsync()
    {
        await _s.DisposeAsync();
        if (!LabFactAttribute.IsRoot)
            return;
        // Whatever happened, nothing of the services stays up, and the disks are as `lab up` made them.
        foreach (var (config, service, rids) in _created)
            foreach (var node in Nodes)
                foreach (var rid in rids)
                    await _s.DriverAsync(config, node, rid, "stop", service);
        await lab.ResetServiceDisksAsync();
        _s.Log("cleaned up");
    }

    [LabFact]
    public async Task failover_images_and_data_reach_the_dr_node_by_sync_runs_and_a_takeover_starts_from_them()
    {
        var config = await _s.WriteConfigAsync("failover.conf", "svc1-sync.conf");
        _created.Add((config, "svc1", ["container#1", "ip#0", "container#0", "fs#1", "fs#0"]));
        await _s.SeedPrivateImagesAsync(config);
        await _s.StartClusterAsync(Nodes);
        _s.Log("images seeded on n1, PostgreSQL and 3 agents ready");

        // ---- never synced: the lag says so, and nothing is sent from where the service is not up ----------------
        (await _s.Must("svc", "create", "svc1", "--config", config)).Should().Contain("stored as v1");
        var lag = await _s.ExpectStatusContainsAsync("svc1", "sync lag");
        LagLines(lag).Should().BeEquivalentTo(["sync#0 n3 warn never synced", "sync#1 n3 warn never synced"]);
        await _s.RefusedAsync("svc1 is down on n1: data is sent only from the node where the service is up", "svc", "sync", "svc1", "--node", "n1");

        await _s.RunAsync(0, "svc", "start", "svc1", "--node", "n1");
        var token = Guid.NewGuid().ToString("N");
        (await lab.ExecAsync("n1", ["sh", "-c",
            "dd if=/dev/urandom of=/srv/svc1/data/payload bs=1M count=8 2>/dev/null && echo \"$1\" > /srv/svc1/data/token && mkdir -p /srv/svc1/data/conf && echo v1 > /srv/svc1/data/conf/app.conf && sync",
            "sh", token])).Succeeded.Should().BeTrue();
        _s.Log("started on n1 with 8 MiB of data");

        // ---- n3's standby fs are not mounted: n3 refuses to receive, and the run records it --------------------
        var refused = await _s.RunAsync(1, "svc", "sync", "svc1", "--node", "n1");
        var refusedEvents = await _s.EventsAsync(refused.RunId);
        refusedEvents.OfType<StepRetried>().Should().BeEmpty("an unmounted destination does not fix itself: refused at once");
        refusedEvents.OfType<StepSucceeded>().Should().BeEmpty();
        var failures = refusedEvents.OfType<StepFailed>().Select(f => f.Error).ToList();
        failures.Should().Contain(e => e.Contains("refusing to receive images on n3") && e.Contains("fs#0 (/srv/svc1/docker), which is not mounted on n3"));
        failures.Should().Contain(e => e.Contains("no btrfs labelled svc1 is mounted on n3") && e.Contains("refusing to sync"));
        refusedEvents.OfType<RunFailed>().Should().ContainSingle().Which.Reason.Should().Contain("prepare-receive sync#0 on n3");
        (await _s.PrivateDockerAnswersAsync("n3")).Should().BeFalse("n3 started no daemon on its root disk");
        _s.Log("refused while n3 could not receive");

        // ---- standby on n3, then a full sync: images into n3's private dockerd, data onto n3's disk -------------
        await _s.RunAsync(0, "svc", "startstandby", "svc1", "--node", "n3");
        var full = await _s.RunAsync(0, "svc", "sync", "svc1", "--node", "n1");
        full.Output.Should().Contain("prepare-receive").And.Contain("sync#1");
        var fullSends = await SendsAsync(full.RunId);
        fullSends["sync#0"].GetValueOrDefault("images_sent").Should().Be(2);
        fullSends["sync#0"].GetValueOrDefault("bytes_sent").Should().BeGreaterThan(1_000_000, "two busybox images, about 2 MB each as a tar");
        fullSends["sync#1"].GetValueOrDefault("full").Should().Be(1, "the first btrfs send is a full one");
        var fullBytes = fullSends["sync#1"].GetValueOrDefault("bytes_sent");
        fullBytes.Should().BeGreaterThan(8L << 20, "the 8 MiB payload and the rest of the subvolume");
        var images = await lab.ExecAsync("n3", ["docker", "-H", _s.PrivateSocket("n3"), "image", "inspect", "--format", "{{index .RepoTags 0}}", .. Images]);
        images.Succeeded.Should().BeTrue($"both images are in n3's private dockerd: {images.StdErr}");
        (await lab.ExecAsync("n3", ["cat", "/srv/svc1/data/token"])).StdOut.Trim().Should().Be(token, "n3's standby fs shows the received copy");
        lag = await _s.ExpectStatusContainsAsync("svc1", "last sync");
        LagLines(lag).Should().OnlyContain(l => l.Contains(" n3 up last sync", StringComparison.Ordinal)).And.HaveCount(2);
        _s.Log($"full sync: {fullSends["sync#0"]["bytes_sent"]} image bytes, {fullBytes} btrfs bytes");

        // ---- a few files change: the next sync sends about the delta, and no image --------------------------------
        var token2 = Guid.NewGuid().ToString("N");
        (await lab.ExecAsync("n1", ["sh", "-c", "echo \"$1\" > /srv/svc1/data/token && echo v2 > /srv/svc1/data/conf/app.conf && sync", "sh", token2])).Succeeded.Should().BeTrue();
        var delta = await _s.RunAsync(0, "svc", "sync", "svc1", "--node", "n1");
        var deltaSends = await SendsAsync(delta.RunId);
        deltaSends["sync#0"].GetValueOrDefault("bytes_sent").Should().Be(0, "n3 already has both images");
        deltaSends["sync#1"].GetValueOrDefault("full").Should().Be(0);
        var deltaBytes = deltaSends["sync#1"].GetValueOrDefault("bytes_sent");
        deltaBytes.Should().BeGreaterThan(0).And.BeLessThan(fullBytes / 50, "an incremental send carries the changed files, not the 8 MiB payload");
        (await lab.ExecAsync("n3", ["cat", "/srv/svc1/data/token"])).StdOut.Trim().Should().Be(token2);
        _s.Log($"delta sync: {deltaBytes} btrfs bytes against {fullBytes} for the full send");

        // ---- the primary site goes down; a takeover on n3 starts the service from the synced images and data ----
        await _s.RunAsync(0, "svc", "stop", "svc1", "--node", "n1");
        var takeover = await _s.RunAsync(0, "svc", "takeover", "svc1", "--node", "n3", "--reason", "DR drill: primary site down");
        var requested = (await _s.EventsAsync(takeover.RunId)).OfType<RunRequested>().Single();
        requested.Reason.Should().Be("DR drill: primary site down");
        var ps = await lab.ExecAsync("n3", ["docker", "-H", _s.PrivateSocket("n3"), "ps", "--format", "{{.Names}}"]);
        ps.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().BeEquivalentTo(["svc1.container.0", "svc1.container.1"],
            "both containers run on n3 from the images the sync shipped (no registry, and n3's own dockerd has none)");
        (await lab.ExecAsync("n3", ["cat", "/srv/svc1/data/token"])).StdOut.Trim().Should().Be(token2, "the service runs on the synced data");
        var ping = await lab.ExecAsync("n1", ["busybox", "ping", "-c", "3", "-W", "2", $"{lab.Subnet}.50"], timeout: TimeSpan.FromSeconds(20));
        ping.Succeeded.Should().BeTrue($"the service address answers from n3: {ping.StdOut}{ping.StdErr}");
        // OpenSVC's sync status rules: n1 and n2 are passive and not destinations (n/a), and n3, where the service now
        // runs, has no other node to send to (n/a): nothing turns the service warn. The lag table keeps the copies' ages.
        await _s.ExpectStatusAsync("svc1", "up", "up", ("n1", "down"), ("n2", "down"), ("n3", "up"));
        var show = await _s.Must("run", "show", takeover.RunId.ToString());
        show.Should().Contain("DR drill: primary site down");
        _s.Log("taken over on n3");

        await _s.RunAsync(0, "svc", "stop", "svc1", "--node", "n3", "--force", "--reason", "end of the sync scenario");
        (await _s.Must("runs", "--service", "svc1", "--action", "sync")).Should().Contain("failed").And.Contain("completed");
    }

    [LabFact]
    public async Task flex_primary_alone_sends_its_data_to_the_dr_site_and_the_exclude_is_honoured()
    {
        var config = await _s.WriteConfigAsync("flex-rsync.conf", "svc2-flex.conf");
        _created.Add((config, "svc2", ["fs#1"]));
        await _s.StartClusterAsync(Nodes);
        _s.Log("PostgreSQL and 3 agents ready");

        (await _s.Must("svc", "create", "svc2", "--config", config)).Should().Contain("stored as v1");
        await _s.RunAsync(0, "svc", "start", "svc2", "--node", "n2");
        await _s.RunAsync(0, "svc", "start", "svc2", "--node", "n1");
        await _s.RunAsync(0, "svc", "startstandby", "svc2", "--node", "n3");
        var token = Guid.NewGuid().ToString("N");
        (await lab.ExecAsync("n2", ["sh", "-c",
            "mkdir -p /srv/svc2/data/logs /srv/svc2/data/conf && echo \"$1\" > /srv/svc2/data/conf/app.conf && echo noisy > /srv/svc2/data/logs/app.log && sync",
            "sh", token])).Succeeded.Should().BeTrue();

        // n1 runs the service too, but only the flex primary sends.
        await _s.RefusedAsync("only its flex primary n2 sends data, and n1 is not it", "svc", "sync", "svc2", "--node", "n1");
        var sync = await _s.RunAsync(0, "svc", "sync", "svc2", "--node", "n2");
        var sends = await SendsAsync(sync.RunId);
        sends["sync#1"].GetValueOrDefault("bytes_sent").Should().BeGreaterThan(0);

        (await lab.ExecAsync("n3", ["cat", "/srv/svc2/data/conf/app.conf"])).StdOut.Trim().Should().Be(token);
        (await lab.ExecAsync("n3", ["test", "-e", "/srv/svc2/data/logs/app.log"])).ExitCode.Should().NotBe(0, "--exclude=/logs/* keeps the logs on the primary site");
        (await lab.ExecAsync("n2", ["test", "-e", "/srv/svc2/data/logs/app.log"])).ExitCode.Should().Be(0);
        await _s.RunAsync(0, "svc", "stop", "svc2", "--node", "n3", "--force", "--reason", "end of the flex scenario");
    }

    /// <summary>The metrics of each successful sync step of a run, by resource id.</summary>
    async Task<Dictionary<string, IReadOnlyDictionary<string, long>>> SendsAsync(Guid runId)
    {
        var events = await _s.EventsAsync(runId);
        var plan = events.OfType<RunRequested>().Single().Plan;
        return events.OfType<StepSucceeded>()
            .Where(e => plan.Steps[e.Step].Action == Domain.Planning.ResourceAction.Sync)
            .ToDictionary(e => plan.Steps[e.Step].Rid.ToString(), e => e.Metrics ?? new Dictionary<string, long>());
    }

    /// <summary>The status's sync lag lines as "RID TARGET STATUS MESSAGE".</summary>
    static List<string> LagLines(string status) =>
        Regex.Matches(status, @"^\s+(sync#\d+)\s+to (\S+)\s+(\S+)\s+(.+)$", RegexOptions.Multiline)
            .Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value} {m.Groups[3].Value} {Regex.Replace(m.Groups[4].Value.Trim(), @"\d.*$", "").Trim()}")
            .ToList();
}
