using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using Marten;
using Npgsql;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Engine;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Lab;

/// <summary>The site-loss scenario's own lab (prefix osr, subnet 10.219.0): it kills nodes, so it shares no lab with other tests.</summary>
public sealed class SiteLossLab() : LabInstance("OPENSVC_SITELOSS_LAB_", "osr", "10.219.0", "/var/lib/opensvc-lab-siteloss");

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SiteLossCollection : ICollectionFixture<SiteLossLab>
{
    public const string Name = "lab-siteloss";
}

/// <summary>
/// The control plane survives the loss of a site, on the lab: the agents' database is primary in n1 (site A) and a
/// synchronous hot standby in n3 (site B), every agent on the multi-host connection string. With the seed's failover
/// service up on n1 and synced to n3, site A dies at once (every process of n1 and n2 SIGKILLed, their links down, the
/// mounts a power loss forgets); `opensvc db promote` on n3, a forced takeover on n3, and the service runs there from
/// what was synced, with every event committed before the loss. Then site A returns: its database rejoins as a
/// standby (pg_rewind), its agents follow the new primary, see svc1 up on n3 and start nothing.
/// </summary>
[Collection(SiteLossCollection.Name)]
public sealed class SiteLossTests(SiteLossLab fixture, ITestOutputHelper output) : IAsyncLifetime
{
    static readonly string[] Nodes = ["n1", "n2", "n3"];
    readonly LabInstance _lab = fixture;
    readonly LabScenario _s = new(fixture, output);
    string _config = "";
    string _connection = "";

    string Addr(string node) => _lab.Nodes[$"LAB_{node.ToUpperInvariant()}_ADDR"];

    public async Task InitializeAsync()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        _config = await _s.WriteConfigAsync("failover.conf", "svc1-siteloss.conf");
        await _lab.ResetServiceDisksAsync();
        await _s.SeedPrivateImagesAsync(_config);
        _s.Log("disks reset, images seeded");
    }

    public async Task DisposeAsync()
    {
        await _s.DisposeAsync();
        if (!LabFactAttribute.IsRoot)
            return;
        foreach (var node in new[] { "n1", "n3" })
            await DbAsync(node, "stop");
        foreach (var node in Nodes)
            foreach (var rid in new[] { "container#1", "ip#0", "container#0", "fs#1", "fs#0" })
                await _s.DriverAsync(_config, node, rid, "stop");
        await _lab.ResetServiceDisksAsync();
        _s.Log("cleaned up");
    }

    [LabFact]
    public async Task the_dr_site_promotes_the_database_takes_over_with_no_event_lost_and_the_returning_site_rejoins_as_standby_and_starts_nothing()
    {
        // ---- the control plane across the sites: primary in n1, synchronous standby in n3 -----------------------
        var net = $"{_lab.Subnet}.0/24";
        (await MustDb("n1", "init", "--name", "n1", "--listen", Addr("n1"), "--allow", net, "--peer", $"n3={Addr("n3")}", "--mode", "sync"))
            .Should().Contain("database n1: primary");
        _connection = (await File.ReadAllTextAsync(Path.Combine(_lab.Dir, "n1", "var", "db", "agent-connection"))).Trim();
        (await MustDb("n3", "init", "--standby", "--name", "n3", "--listen", Addr("n3"), "--allow", net, "--peer", $"n1={Addr("n1")}", "--mode", "sync",
            "--connection", _connection)).Should().Contain("hot standby of n1").And.Contain("streaming");
        var status = await MustDb("n2", "status", "--connection", _connection);
        status.Should().Contain("replication synchronous").And.MatchRegex(@"standby n3 \(.*\): streaming, quorum, lag 0 bytes");
        _s.Log("database: primary n1, synchronous standby n3");

        await StartClusterAsync();
        (await _s.Must("agents")).Should().MatchRegex($@"n1\s+alive.*{Addr("n1")}:").And.MatchRegex($@"n3\s+alive.*{Addr("n1")}:");
        (await HealthAsync("n3")).Should().Contain($"\"databaseHost\":\"{Addr("n1")}:");
        _s.Log("3 agents on the multi-host connection string, all on n1's database");

        // ---- the service runs on n1, synced to n3 -----------------------------------------------------------------
        (await _s.Must("svc", "create", "svc1", "--config", _config)).Should().Contain("stored as v1");
        await _s.RunAsync(0, "svc", "start", "svc1", "--node", "n1");
        await _s.RunAsync(0, "svc", "startstandby", "svc1", "--node", "n3");
        var token = $"written on n1 before the loss {Guid.NewGuid():N}";
        (await _lab.ExecAsync("n1", ["sh", "-c", "echo \"$1\" > /srv/svc1/data/hello.txt && sync", "sh", token])).Succeeded.Should().BeTrue();
        await _s.RunAsync(0, "svc", "sync", "svc1", "--node", "n1");
        _s.Log("svc1 up on n1, synced to n3");

        // The standby answers, so a promotion is refused.
        (await Db("n3", "promote")).Should().Match<ProcessResult>(r => r.ExitCode == 3 && r.StdErr.Contains("still answers", StringComparison.Ordinal));

        var before = await EventIdsAsync();
        before.Should().NotBeEmpty();
        var runsBefore = await RunIdsAsync();
        _s.Log($"{before.Count} events committed before the loss, last #{before.Max(e => e.Seq)}");

        // ---- site A dies at once ------------------------------------------------------------------------------------
        await KillSiteAsync("n1", "n2");
        _s.Log("site A lost: every process of n1 and n2 SIGKILLed, links down");
        (await MustDbExit("n3", 1, "status", "--connection", _connection)).Should().Contain("down").And.Contain("no primary answers");

        // ---- promote on n3, take over on n3 ----------------------------------------------------------------------
        var clock = Stopwatch.StartNew();
        var promoted = await MustDb("n3", "promote");
        promoted.Should().Contain("database n3 promoted").And.Contain($"former primary {Addr("n1")}:");
        _s.Cluster.CliNode = "n3";
        await WaitAsync(async () => (await HealthAsync("n3")).Contains($"\"databaseHost\":\"{Addr("n3")}:", StringComparison.Ordinal), "n3's agent follows the promoted database");
        await WaitAsync(async () => (await _s.Cluster.CliAsync("agents")).StdOut.Split('\n')
            .Any(l => l.StartsWith("n3 ", StringComparison.Ordinal) && l.Contains("alive", StringComparison.Ordinal) && l.Contains($"{Addr("n3")}:", StringComparison.Ordinal)),
            "n3's heartbeat written to the promoted database");
        // The planner takes a failover service over from a node whose agent is silent (its last report said up).
        await WaitAsync(async () => (await _s.Cluster.CliAsync("agents")).StdOut.Split('\n').Any(l => l.StartsWith("n1 ", StringComparison.Ordinal) && l.Contains("silent", StringComparison.Ordinal)),
            "n1's agent seen silent");
        _s.Log($"n3's agent on the promoted database {clock.Elapsed.TotalSeconds:F1}s after the promote command");
        var takeover = await _s.RunAsync(0, "svc", "takeover", "svc1", "--node", "n3", "--force", "--reason", "site A lost: control plane promoted on n3");
        var ps = await _lab.ExecAsync("n3", ["docker", "-H", _s.PrivateSocket("n3"), "ps", "--format", "{{.Names}}"]);
        ps.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().BeEquivalentTo(["svc1.container.0", "svc1.container.1"]);
        var promoteToUp = clock.Elapsed;
        (await _lab.ExecAsync("n3", ["cat", "/srv/svc1/data/hello.txt"])).StdOut.Trim().Should().Be(token, "n3 runs from the synced data");
        // From the lab bridge (the host), not from n3: a node never reaches a macvlan child of its own interface, and
        // site A, the other side of the bridge, is down.
        var ping = await ProcessRunner.RunAsync("busybox", ["ping", "-c", "2", "-W", "2", $"{_lab.Subnet}.50"],
            new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(20) }, CancellationToken.None);
        ping.Succeeded.Should().BeTrue(ping.StdOut + ping.StdErr);
        output.WriteLine($"time from the promote command to svc1 up on n3: {promoteToUp.TotalSeconds:F1}s");
        _s.Log($"svc1 up on n3 {promoteToUp.TotalSeconds:F1}s after the promote command");

        // Every event committed before the loss is in the promoted database (synchronous: none lost).
        var after = await EventIdsAsync();
        before.Select(e => e.Id).Except(after.Select(e => e.Id)).Should().BeEmpty("synchronous replication loses no committed event");
        var promotion = (await ControlPlaneEventsAsync()).OfType<DatabasePromoted>().Should().ContainSingle().Subject;
        promotion.Node.Should().Be("n3");
        promotion.LastEventSequence.Should().Be(before.Max(e => e.Seq), "the control plane's RPO: the last event replicated before the loss");
        promotion.Forced.Should().BeFalse();
        (await EventsOfAsync(takeover.RunId)).OfType<RunRequested>().Single().Reason.Should().Contain("site A lost");

        // ---- site A comes back: its database as a standby, its agents start nothing ------------------------------
        await ReviveSiteAsync("n1", "n2");
        var start = await Db("n1", "start");
        start.ExitCode.Should().Be(3, "a former primary never starts as a second primary: " + start.StdErr);
        start.StdErr.Should().Contain("opensvc db rejoin");
        (await MustDb("n1", "rejoin")).Should().Contain("rejoined as a standby of n3");
        status = await MustDb("n2", "status", "--connection", _connection);
        status.Should().MatchRegex($@"{Addr("n3")}:\d+\s+primary").And.MatchRegex($@"{Addr("n1")}:\d+\s+standby.*streaming")
            .And.Contain("replication synchronous").And.MatchRegex(@"standby n1 \(.*\): streaming");
        _s.Log("n1's database rejoined as n3's standby");

        await _s.Cluster.StartAgentsAsync("n1", "n2");
        await WaitAsync(async () => (await _s.Cluster.CliAsync("agents")).StdOut.Split('\n').Count(l => l.Contains($"{Addr("n3")}:", StringComparison.Ordinal) && l.Contains("alive", StringComparison.Ordinal)) == 3,
            "every agent alive on n3's database");
        output.WriteLine(await _s.Must("agents"));
        (await HealthAsync("n1")).Should().Contain($"\"databaseHost\":\"{Addr("n3")}:");
        await Task.Delay(TimeSpan.FromSeconds(8)); // two status refreshes of the returned agents
        // overall up, as OpenSVC aggregates it: the DR node sends to no one (its syncs say "no target nodes"), and the
        // age of n3's copy stays in the lag table until a reprotect sends the other way.
        await _s.ExpectStatusAsync("svc1", "up", "up", ("n1", "down"), ("n2", "down"), ("n3", "up"));
        (await _s.MountsAsync("n1")).Should().BeEmpty("the returning site starts nothing");
        (await _s.PrivateDockerAnswersAsync("n1")).Should().BeFalse();
        var runsAfter = await RunIdsAsync();
        runsAfter.Except(runsBefore).Should().BeEquivalentTo([takeover.RunId], "the only run since the loss is the takeover: the returning agents ran nothing");
        _s.Log("site A back: agents see svc1 up on n3, nothing started");

        // ---- one continuous audit trail -----------------------------------------------------------------------------
        var runs = await _s.Must("runs", "--service", "svc1");
        runs.Should().Contain("takeover").And.Contain("sync").And.Contain("startstandby").And.Contain("start");
        var cp = await ControlPlaneEventsAsync();
        cp.Select(e => e.GetType().Name).Should().Equal("DatabasePromoted", "DatabaseRejoined");
        var rejoined = cp.OfType<DatabaseRejoined>().Single();
        rejoined.Node.Should().Be("n1");
        rejoined.Method.Should().Be("pg_rewind");
        var all = await EventIdsAsync();
        var promotedSeq = all.Single(e => e.Type == "database_promoted").Seq;
        promotedSeq.Should().BeGreaterThan(before.Max(e => e.Seq));
        all.Where(e => e.Stream == takeover.RunId).Min(e => e.Seq).Should().BeGreaterThan(promotedSeq, "the takeover follows the promotion in one history");
        _s.Log("done");
    }

    // ---- the database nodes ---------------------------------------------------------------------------------------

    Task<ProcessResult> Db(string node, params string[] args) =>
        _lab.ExecAsync(node, ["dotnet", LabBinaries.OpensvcDll(_lab.Dir), "db", .. args], null, TimeSpan.FromMinutes(5));

    async Task DbAsync(string node, params string[] args)
    {
        var r = await Db(node, args);
        output.WriteLine($"{node}$ opensvc db {string.Join(' ', args)}   # exit {r.ExitCode}\n{r.StdOut}{r.StdErr}");
    }

    async Task<string> MustDb(string node, params string[] args) => await MustDbExit(node, 0, args);

    async Task<string> MustDbExit(string node, int exit, params string[] args)
    {
        var sw = Stopwatch.StartNew();
        var r = await Db(node, args);
        var shown = string.Join(' ', args.Select(a => a == _connection ? "\"$CONNECTION\"" : a));
        output.WriteLine($"{node}$ opensvc db {shown}   # exit {r.ExitCode}, {sw.Elapsed.TotalSeconds:F1}s\n{r.StdOut}{r.StdErr}");
        r.ExitCode.Should().Be(exit, $"opensvc db {shown} on {node}: {r.StdOut}{r.StdErr}");
        return r.StdOut;
    }

    async Task StartClusterAsync()
    {
        await _s.DisposeAsync();
        try
        {
            _s.UseCluster(await LabCluster.StartOnAsync(_lab, _connection,
                // The product's liveness (15 s, lease 10 s), not the lab's shortened one: a heartbeat must be able to
                // give up on the lost site's host (3 s) and reach the other within the lease.
                new Dictionary<string, string> { ["OPENSVC_AGENT_DEAD_MS"] = "15000" }, Nodes));
        }
        catch (TimeoutException)
        {
            // What the database was doing while an agent did not get ready.
            await using var conn = new NpgsqlConnection(_connection);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT pid, application_name, client_addr::text, state, wait_event_type, wait_event, left(query, 160) FROM pg_stat_activity WHERE datname IS NOT NULL", conn);
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync())
                output.WriteLine(string.Join(" | ", Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? "-" : r.GetValue(i).ToString())));
            foreach (var node in new[] { "n1", "n3" })
                output.WriteLine($"{node} postgres.log:\n" + string.Join('\n', File.ReadLines(Path.Combine(_lab.Dir, node, "var", "db", "postgres.log")).TakeLast(30)));
            throw;
        }
    }

    async Task<string> HealthAsync(string node)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            return await http.GetStringAsync(new Uri($"http://{Addr(node)}:7480/health"));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return ex.Message;
        }
    }

    static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!await condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, $"waiting for: {what}");
            await Task.Delay(250);
        }
    }

    // ---- the event store, through the multi-host connection string (whichever node is primary) ---------------

    async Task<List<(Guid Id, long Seq, Guid Stream, string Type)>> EventIdsAsync()
    {
        await using var conn = new NpgsqlConnection(_connection);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"SELECT id, seq_id, stream_id, type FROM {WorkflowStore.DefaultSchema}.mt_events ORDER BY seq_id", conn);
        var list = new List<(Guid, long, Guid, string)>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
            list.Add((r.GetGuid(0), r.GetInt64(1), r.GetGuid(2), r.GetString(3)));
        return list;
    }

    async Task<List<Guid>> RunIdsAsync()
    {
        using var store = DocumentStore.For(o => WorkflowStore.Configure(o, _connection));
        await using var q = store.QuerySession();
        return [.. (await q.Query<WorkflowRun>().ToListAsync()).Select(r => r.Id)];
    }

    async Task<List<object>> ControlPlaneEventsAsync() => await EventsOfAsync(ControlPlaneHistory.Id);

    async Task<List<object>> EventsOfAsync(Guid stream)
    {
        using var store = DocumentStore.For(o => WorkflowStore.Configure(o, _connection));
        await using var q = store.QuerySession();
        return [.. (await q.Events.FetchStreamAsync(stream)).Select(e => e.Data)];
    }

    // ---- the site ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// A site lost at once: SIGKILL every process of its nodes (agents, PostgreSQL, dockerds, containers, sshd: all but
    /// the holder that keeps the node's namespaces), then its links down; the mounts a power loss forgets go too.
    /// </summary>
    async Task KillSiteAsync(params string[] nodes)
    {
        foreach (var node in nodes)
        {
            var holder = int.Parse((await File.ReadAllTextAsync(Path.Combine(_lab.Dir, node, "holder.pid"))).Trim(), CultureInfo.InvariantCulture);
            var mntns = new FileInfo($"/proc/{holder}/ns/mnt").LinkTarget;
            for (var round = 0; round < 5; round++)
            {
                var pids = PidsOf(mntns!, $"{_lab.Prefix}-{node}").Where(p => p != holder && p != Environment.ProcessId).ToList();
                if (pids.Count == 0)
                    break;
                await ProcessRunner.RunAsync("kill", ["-KILL", .. pids.Select(p => p.ToString(CultureInfo.InvariantCulture))]);
                await Task.Delay(300);
            }
            // Containers' own mount namespaces hold their mounts: with every process gone the node's are free to go.
            await _lab.ExecAsync(node, ["sh", "-c", "for m in /srv/svc1/docker /srv/svc1/data; do umount -R \"$m\" 2>/dev/null || umount -l \"$m\" 2>/dev/null; done; true"]);
        }
        foreach (var node in nodes)
            (await ProcessRunner.RunAsync("ip", ["link", "set", "dev", $"{_lab.Prefix}-{node}h", "down"])).Succeeded.Should().BeTrue();
        foreach (var a in _s.Cluster.Agents.Where(a => nodes.Contains(a.Node)))
            a.Dispose();
    }

    async Task ReviveSiteAsync(params string[] nodes)
    {
        foreach (var node in nodes)
            (await ProcessRunner.RunAsync("ip", ["link", "set", "dev", $"{_lab.Prefix}-{node}h", "up"])).Succeeded.Should().BeTrue();
        await WaitAsync(async () => (await _lab.ExecAsync("n1", ["busybox", "ping", "-c", "1", "-W", "1", Addr("n3")], timeout: TimeSpan.FromSeconds(5))).Succeeded,
            "n1 reaches n3 again");
    }

    static IEnumerable<int> PidsOf(string mntns, string cgroup)
    {
        var found = new HashSet<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            try
            {
                if (new FileInfo(Path.Combine(dir, "ns", "mnt")).LinkTarget == mntns)
                    found.Add(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
        foreach (var root in Directory.EnumerateDirectories("/sys/fs/cgroup").Append("/sys/fs/cgroup"))
        {
            var cg = Path.Combine(root, cgroup);
            if (!Directory.Exists(cg))
                continue;
            foreach (var procs in Directory.EnumerateFiles(cg, "cgroup.procs", SearchOption.AllDirectories))
            {
                try
                {
                    foreach (var line in File.ReadAllLines(procs))
                        if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                            found.Add(pid);
                }
                catch (IOException)
                {
                }
            }
        }
        return found;
    }
}
