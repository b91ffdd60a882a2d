using FluentAssertions;
using OpenSvc.Domain;
using OpenSvc.Domain.Runs;
using OpenSvc.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Lab;

/// <summary>A lab instance of its own for the way back from a takeover (prefix osg, subnet 10.221.0; OPENSVC_GIVEBACK_LAB_* override).</summary>
public sealed class GivebackLab() : LabInstance("OPENSVC_GIVEBACK_LAB_", "osg", "10.221.0", "/var/lib/opensvc-lab-giveback");

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GivebackLabCollection : ICollectionFixture<GivebackLab>
{
    public const string Name = "giveback-lab";
}

/// <summary>
/// The way back on the real lab, through the CLI: the seed's failover service started on n1 and synced to n3, taken over
/// on n3 (its RPO is the age of that sync), written to on n3, reprotected (n3 sends back to n1, incrementally from the
/// snapshot both hold), and given back: the file written on n3 is on n1, the service runs on n1, n3 is standby again, and
/// the giveback lost nothing (RPO 0).
/// </summary>
[Collection(GivebackLabCollection.Name)]
public sealed class GivebackScenarioTests(GivebackLab fixture, ITestOutputHelper output) : IAsyncLifetime
{
    static readonly string[] Nodes = ["n1", "n2", "n3"];

    readonly LabScenario _s = new(fixture, output);
    LabInstance Lab => fixture;
    string _config = "";

    public async Task InitializeAsync()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        _config = await _s.WriteConfigAsync("failover.conf", "svc1-giveback.conf");
        await Lab.ResetServiceDisksAsync();
        await _s.SeedPrivateImagesAsync(_config);
        await _s.StartClusterAsync(Nodes);
        _s.Log("PostgreSQL and 3 agents ready");
    }

    public async Task DisposeAsync()
    {
        await _s.DisposeAsync();
        if (!LabFactAttribute.IsRoot)
            return;
        foreach (var node in Nodes)
            foreach (var rid in new[] { "container#1", "ip#0", "container#0", "fs#1", "fs#0" })
                await _s.DriverAsync(_config, node, rid, "stop");
        await Lab.ResetServiceDisksAsync();
    }

    [LabFact]
    public async Task takeover_reprotect_and_giveback_bring_the_data_written_on_the_dr_node_home_with_rpo_zero()
    {
        (await _s.Must("svc", "create", "svc1", "--config", _config)).Should().Contain("stored as v1");
        await _s.RunAsync(0, "svc", "start", "svc1", "--node", "n1");
        await _s.RunAsync(0, "svc", "startstandby", "svc1", "--node", "n3");
        (await Lab.ExecAsync("n1", ["sh", "-c", "echo written-on-n1 > /srv/svc1/data/hello.txt && sync"])).Succeeded.Should().BeTrue();
        var sync = await _s.RunAsync(0, "svc", "sync", "svc1", "--node", "n1");
        var syncedAt = (await _s.EventsAsync(sync.RunId)).OfType<StepSucceeded>().Last().At;
        _s.Log("started on n1, synced to n3");

        // ---- takeover: the primary site goes away; the RPO reported is the age of that sync ----------------------
        await _s.RunAsync(0, "svc", "stop", "svc1", "--node", "n1");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var takeover = await _s.RunAsync(0, "svc", "takeover", "svc1", "--node", "n3", "--reason", "giveback scenario: site A lost");
        var takeoverEvents = await _s.EventsAsync(takeover.RunId);
        var requested = takeoverEvents.OfType<RunRequested>().Single();
        var recovery = takeoverEvents.OfType<RecoveryMeasured>().Should().ContainSingle().Subject;
        var btrfsAge = recovery.DataAges.Should().ContainSingle(d => d.Rid == "sync#1").Subject;
        btrfsAge.LastSyncRun.Should().Be(sync.RunId);
        btrfsAge.Age.Should().BeCloseTo(requested.At - syncedAt, TimeSpan.FromSeconds(1), "the RPO is the age of the last sync at the request");
        btrfsAge.Age.Should().BeGreaterThan(TimeSpan.FromSeconds(3));
        _s.Log($"taken over on n3, RPO {recovery.Rpo}");

        // ---- written on n3, then reprotect: n3 sends back to n1 --------------------------------------------------
        var token = Guid.NewGuid().ToString("N");
        (await Lab.ExecAsync("n3", ["sh", "-c", $"echo {token} > /srv/svc1/data/written-on-n3 && sync"])).Succeeded.Should().BeTrue();
        var reprotect = await _s.RunAsync(0, "svc", "reprotect", "svc1", "--node", "n3");
        var send = (await _s.EventsAsync(reprotect.RunId)).OfType<StepSucceeded>().Last();
        send.Output.Should().Contain("incremental reverse send of svc1:data from n3").And.Contain("common parent");
        (await Lab.ExecAsync("n1", ["cat", "/srv/svc1/data/written-on-n3"])).StdOut.Trim().Should().Be(token, "the reverse sync reached n1");
        // n1's receiving fs count as standby once its agent's next report knows of the reversal.
        await _s.ExpectStatusMatchingAsync("svc1", "protection: n3 → n1, reversed since", @"sync#1\s+to n1", @"n1\s+node\s+avail stdby up");
        _s.Log("reprotected: n3 → n1");

        // ---- giveback: stop on n3, final sync, start on n1 -------------------------------------------------------
        var token2 = Guid.NewGuid().ToString("N");
        (await Lab.ExecAsync("n3", ["sh", "-c", $"echo {token2} > /srv/svc1/data/written-on-n3 && sync"])).Succeeded.Should().BeTrue();
        var giveback = await _s.RunAsync(0, "svc", "giveback", "svc1", "--node", "n3");
        (await Lab.ExecAsync("n1", ["cat", "/srv/svc1/data/written-on-n3"])).StdOut.Trim().Should().Be(token2, "the final sync carried the last write");
        var ps = await Lab.ExecAsync("n1", ["docker", "-H", _s.PrivateSocket("n1"), "ps", "--format", "{{.Names}}"]);
        ps.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().BeEquivalentTo(["svc1.container.0", "svc1.container.1"]);
        (await _s.PrivateDockerAnswersAsync("n3")).Should().BeFalse("nothing runs on n3 any more");
        (await _s.MountsAsync("n3")).Should().Contain(["/srv/svc1/data", "/srv/svc1/docker"], "n3 stays standby");
        var givebackEvents = await _s.EventsAsync(giveback.RunId);
        var back = givebackEvents.OfType<RecoveryMeasured>().Should().ContainSingle().Subject;
        back.Node.Should().Be(new NodeName("n1"));
        back.Rpo.Should().Be(TimeSpan.Zero, "a planned giveback loses nothing");
        var after = await _s.ExpectStatusMatchingAsync("svc1", @"n1\s+node\s+avail up ", @"n3\s+drp\s+avail stdby up");
        after.Should().NotContain("protection:");
        output.WriteLine(await _s.Must("run", "show", giveback.RunId.ToString()));
        _s.Log($"given back to n1: RTO {back.Rto}, RPO {back.Rpo}");
    }
}
