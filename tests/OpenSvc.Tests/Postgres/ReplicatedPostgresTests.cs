using FluentAssertions;
using Marten;
using Npgsql;
using OpenSvc.Host.Cli;
using OpenSvc.Infrastructure.Postgres;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Engine;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Postgres;

/// <summary>The replicated control plane's checked values, settings and status text (pure parts).</summary>
public sealed class ReplicatedPostgresConfigTests
{
    [Theory]
    [InlineData("n3=10.0.3.13", "n3", "10.0.3.13", 54329)]
    [InlineData("dr-1=db.dr.example:6432", "dr-1", "db.dr.example", 6432)]
    public void a_peer_is_name_equals_host_and_optional_port(string text, string name, string host, int port) =>
        ReplicatedPostgres.ParsePeer(text, 54329).Should().Be(new DbPeer(name, host, port));

    [Theory]
    [InlineData("10.0.3.13")]
    [InlineData("n3=10.0.3.13' user=x")]
    [InlineData("n3=host;drop")]
    [InlineData("n3=10.0.3.13:0")]
    [InlineData("3n=10.0.3.13")]
    public void a_peer_that_could_escape_its_setting_is_refused(string text)
    {
        var act = () => ReplicatedPostgres.ParsePeer(text, 54329);
        act.Should().Throw<ReplicationException>();
    }

    [Fact]
    public void sync_mode_names_every_standby_as_a_quorum_of_one_and_async_names_none()
    {
        DbPeer[] standbys = [new("n3", "10.0.3.13", 54329), new("dr-2", "10.0.3.14", 54329)];
        ReplicatedPostgres.SynchronousNames("sync", standbys).Should().Be("ANY 1 (n3, dr_2)");
        ReplicatedPostgres.SynchronousNames("async", standbys).Should().BeEmpty();
        ReplicatedPostgres.SynchronousNames("sync", []).Should().BeEmpty("a commit must never wait for a standby that does not exist");
    }

    [Fact]
    public void a_standby_streams_from_its_first_peer_through_its_own_slot_with_the_password_in_a_file()
    {
        var config = new DbNodeConfig("n3", DbNodeConfig.StandbyRole, "10.0.3.13", 54329, ["10.0.0.0/16"], [new DbPeer("n1", "10.0.1.11", 54329)], "sync");
        var settings = new ReplicatedPostgres("/var/lib/opensvc/db").Settings(config);
        settings.Should().Contain("wal_log_hints = on", "pg_rewind needs it").And.Contain("hot_standby = on");
        settings.Should().Contain("primary_conninfo = 'host=10.0.1.11 port=54329 user=opensvc application_name=n3 passfile=/var/lib/opensvc/db/pgpass connect_timeout=5'")
            .And.Contain("primary_slot_name = 'n3'");
        string.Join('\n', settings).Should().NotContain("password=");
        new ReplicatedPostgres("/x").Settings(config with { Role = DbNodeConfig.PrimaryRole }).Should().NotContain(l => l.StartsWith("primary_conninfo", StringComparison.Ordinal));
    }

    [Fact]
    public void agents_list_every_database_node_and_want_the_primary()
    {
        var config = new DbNodeConfig("n3", DbNodeConfig.StandbyRole, "10.0.3.13", 54329, [], [new DbPeer("n1", "10.0.1.11", 54329)], "sync");
        var b = new NpgsqlConnectionStringBuilder(ReplicatedPostgres.AgentConnectionString(config, "pw"));
        b.Host.Should().Be("10.0.1.11:54329,10.0.3.13:54329");
        b.TargetSessionAttributes.Should().Be("primary");
    }

    [Fact]
    public void a_multi_host_data_source_takes_the_target_session_out_of_the_string_npgsql_refuses()
    {
        using var ds = PrimaryDataSource.Create("Host=10.0.1.11,10.0.3.13;Username=u;Password=p;Database=d;Target Session Attributes=primary");
        ds.Should().NotBeNull();
        var act = () => new NpgsqlDataSourceBuilder("Host=10.0.1.11,10.0.3.13;Username=u;Password=p;Database=d;Target Session Attributes=primary").BuildMultiHost();
        act.Should().Throw<InvalidOperationException>("Npgsql's own rule, the reason PrimaryDataSource exists");
    }

    [Fact]
    public void status_says_when_no_primary_answers_and_when_two_do()
    {
        DbNodeState Node(string addr, bool reachable, bool recovery) =>
            new(addr, reachable, reachable ? null : "Connection refused", recovery, 2, "0/3000060", "0/3000060", null, 0, recovery ? "streaming" : null, "", [], []);
        DbCommands.Format([Node("10.0.1.11:54329", false, false), Node("10.0.3.13:54329", true, true)]).Should().Contain("no primary answers")
            .And.Contain("opensvc db promote");
        DbCommands.Format([Node("10.0.1.11:54329", true, false), Node("10.0.3.13:54329", true, false)]).Should().Contain("SPLIT BRAIN");
    }
}

/// <summary>Which events `opensvc db status` says a loss of the primary's site costs (pure parts).</summary>
public sealed class ReplicatedPostgresExposureTests
{
    static readonly DateTimeOffset At = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    static DbNodeState Node(bool recovery, string lsn, string replay, long lastEvent, double seconds) =>
        new(recovery ? "127.0.0.1:2" : "127.0.0.1:1", true, null, recovery, 1, lsn, replay, null, 0, recovery ? "streaming" : null, "", [], [], lastEvent, At.AddSeconds(seconds));

    [Fact]
    public void a_standby_with_every_event_costs_nothing()
    {
        var primary = Node(false, "0/3000100", "0/3000100", 12, 1.5);
        DbCommands.Exposure(primary, Node(true, "0/3000100", "0/3000100", 12, 1.5)).Should().Contain("holds every event (last #12): a loss of this site now loses none");
    }

    [Fact]
    public void a_lagging_standby_costs_the_events_after_its_last_one_and_the_seconds_they_span()
    {
        var primary = Node(false, "0/3000100", "0/3000100", 12, 1.5);
        DbCommands.Exposure(primary, Node(true, "0/3000000", "0/3000000", 5, 0)).Should()
            .Contain("holds events up to #5 at 2026-12-02 10:00:00.000 UTC: a loss of this site now loses the events #6-#12, committed over 1.500 s after it")
            .And.NotContain("replays");
    }

    [Fact]
    public void wal_received_but_not_replayed_is_said_to_be_replayed_by_a_promotion()
    {
        var primary = Node(false, "0/3000100", "0/3000100", 12, 1.5);
        DbCommands.Exposure(primary, Node(true, "0/3000100", "0/3000000", 5, 0)).Should()
            .Contain("it received 256 bytes of WAL it has not replayed yet, which a promotion replays first: a loss of this site now loses at most the events #6-#12");
    }

    [Theory]
    [InlineData("16/B374D848", 0x16B374D848L)]
    [InlineData("0/0", 0L)]
    [InlineData(null, 0L)]
    [InlineData("garbage", 0L)]
    public void a_wal_position_reads_as_bytes(string? lsn, long bytes) => ReplicatedPostgres.LsnBytes(lsn).Should().Be(bytes);
}

/// <summary>
/// The replication on real PostgreSQL servers of this machine (loopback, two data directories): a standby from a base
/// backup streams synchronously; promotion is refused while the primary answers and records the control plane's RPO
/// once it is gone; the former primary refuses to start as a second primary and rejoins with pg_rewind. In
/// asynchronous mode, what a loss costs is what `db status` showed the standby lacked, event for event.
/// </summary>
public sealed class ReplicatedPostgresTests(ITestOutputHelper output) : IAsyncLifetime
{
    readonly string _home = Path.Combine(Path.GetTempPath(), $"opensvc-tests-repl-{Environment.ProcessId}-{Guid.NewGuid():N}"[..44]);
    ReplicatedPostgres _a = null!;
    ReplicatedPostgres _b = null!;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_home);
        File.SetUnixFileMode(_home, (UnixFileMode)0b111_101_101);
        _a = new ReplicatedPostgres(Path.Combine(_home, "a"));
        _b = new ReplicatedPostgres(Path.Combine(_home, "b"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var db in new[] { _a, _b })
            if (db.IsConfigured)
                await db.StopAsync(CancellationToken.None);
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task a_standby_takes_over_with_every_committed_event_and_the_former_primary_rejoins_as_its_standby()
    {
        var ct = CancellationToken.None;
        var (pa, pb) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        var cs = await _a.InitPrimaryAsync(new DbNodeConfig("a", DbNodeConfig.PrimaryRole, "127.0.0.1", pa, ["127.0.0.0/8"], [new DbPeer("b", "127.0.0.1", pb)], "sync"), ct);
        var password = new NpgsqlConnectionStringBuilder(cs).Password!;
        await _b.InitStandbyAsync(new DbNodeConfig("b", DbNodeConfig.StandbyRole, "127.0.0.1", pb, ["127.0.0.0/8"], [new DbPeer("a", "127.0.0.1", pa)], "sync"), password, ct);
        var primary = await ReplicatedPostgres.ProbeAsync(new DbPeer("a", "127.0.0.1", pa), password, ct);
        primary.Standbys.Should().ContainSingle().Which.Should().Match<DbStandbyState>(s => s.Name == "b" && s.State == "streaming" && s.SyncState == "quorum");

        // Events through the multi-host string (the standby listed first: the primary is found all the same).
        var agents = new NpgsqlConnectionStringBuilder(cs) { Host = $"127.0.0.1:{pb},127.0.0.1:{pa}" }.ConnectionString;
        using (var store = DocumentStore.For(o => WorkflowStore.Configure(o, agents)))
        {
            await using var session = store.LightweightSession();
            for (var i = 0; i < 20; i++)
                session.Events.StartStream(Guid.NewGuid(), new DatabaseRejoined($"x{i}", "test", DateTimeOffset.UtcNow, "-", "-"));
            await session.SaveChangesAsync();
        }

        var refused = async () => await _b.PromoteAsync("test@local", force: false, reason: null, ct);
        (await refused.Should().ThrowAsync<ReplicationException>()).Which.Refused.Should().BeTrue();

        // The primary's postmaster killed outright: no shutdown checkpoint, WAL ahead of nothing the standby lacks (sync).
        var pid = int.Parse(File.ReadLines(Path.Combine(_a.Home, "pgdata", "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        System.Diagnostics.Process.GetProcessById(pid).Kill();
        await Task.Delay(500);
        var promotion = await _b.PromoteAsync("test@local", force: false, reason: null, ct);
        promotion.Event.LastEventSequence.Should().Be(20, "synchronous: every committed event was on the standby");
        promotion.Event.PreviousPrimary.Should().Be($"127.0.0.1:{pa}");
        promotion.Event.Timeline.Should().Be(2);

        var start = async () => await _a.StartAsync(ct);
        (await start.Should().ThrowAsync<ReplicationException>()).Which.Message.Should().Contain("opensvc db rejoin");
        var (method, now) = await _a.RejoinAsync("test@local", _ => { }, ct);
        method.Should().Be("pg_rewind");
        now.Name.Should().Be("b");
        var a = await ReplicatedPostgres.ProbeAsync(new DbPeer("a", "127.0.0.1", pa), password, ct);
        a.InRecovery.Should().BeTrue();
        a.Timeline.Should().Be(2);
        a.ReceiverStatus.Should().Be("streaming");

        using var after = DocumentStore.For(o => WorkflowStore.Configure(o, agents));
        await using var q = after.QuerySession();
        var history = (await q.Events.FetchStreamAsync(ControlPlaneHistory.Id)).Select(e => e.Data).ToList();
        history.Select(e => e.GetType()).Should().Equal(typeof(DatabasePromoted), typeof(DatabaseRejoined));
    }

    [Fact]
    public async Task in_asynchronous_mode_a_site_loss_loses_exactly_the_events_status_showed_the_standby_lacked()
    {
        var ct = CancellationToken.None;
        var (pa, pb) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        var cs = await _a.InitPrimaryAsync(new DbNodeConfig("a", DbNodeConfig.PrimaryRole, "127.0.0.1", pa, ["127.0.0.0/8"], [new DbPeer("b", "127.0.0.1", pb)], "async"), ct);
        var password = new NpgsqlConnectionStringBuilder(cs).Password!;
        await _b.InitStandbyAsync(new DbNodeConfig("b", DbNodeConfig.StandbyRole, "127.0.0.1", pb, ["127.0.0.0/8"], [new DbPeer("a", "127.0.0.1", pa)], "async"), password, ct);
        var (nodeA, nodeB) = (new DbPeer("a", "127.0.0.1", pa), new DbPeer("b", "127.0.0.1", pb));
        var database = new NpgsqlConnectionStringBuilder(cs).Database!;
        (await ReplicatedPostgres.ProbeAsync(nodeA, password, ct, database)).Standbys.Should().ContainSingle()
            .Which.SyncState.Should().Be("async");

        var agents = new NpgsqlConnectionStringBuilder(cs) { Host = $"127.0.0.1:{pb},127.0.0.1:{pa}" }.ConnectionString;
        List<Guid> replicated = [], cut = [];
        using (var store = DocumentStore.For(o => WorkflowStore.Configure(o, agents)))
        {
            for (var i = 0; i < 5; i++)
                replicated.Add(await AppendOneAsync(store, $"r{i}"));
            var caughtUp = await WaitForAsync(async () => (await ReplicatedPostgres.ProbeAsync(nodeB, password, ct, database)).LastEventSequence
                == (await ReplicatedPostgres.ProbeAsync(nodeA, password, ct, database)).LastEventSequence);
            caughtUp.Should().BeTrue("an idle asynchronous standby catches up");

            // The standby stops receiving the primary's WAL (an empty primary_conninfo, reloaded: PostgreSQL stops its
            // walreceiver); the primary goes on committing, asynchronously, what only it has.
            await using (var b = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Host = "127.0.0.1", Port = pb, Database = "postgres", Pooling = false, TargetSessionAttributes = "any" }.ConnectionString))
            {
                await b.OpenAsync(ct);
                await using var cmd = b.CreateCommand();
                cmd.CommandText = "ALTER SYSTEM SET primary_conninfo = ''";
                await cmd.ExecuteNonQueryAsync(ct);
                cmd.CommandText = "SELECT pg_reload_conf()";
                await cmd.ExecuteNonQueryAsync(ct);
            }
            (await WaitForAsync(async () => (await ReplicatedPostgres.ProbeAsync(nodeB, password, ct, database)).ReceiverStatus is null))
                .Should().BeTrue("the walreceiver stops once primary_conninfo is empty");
            for (var i = 0; i < 7; i++)
                cut.Add(await AppendOneAsync(store, $"c{i}"));
        }

        // What `opensvc db status` shows just before the loss.
        var primary = await ReplicatedPostgres.ProbeAsync(nodeA, password, ct, database);
        var standby = await ReplicatedPostgres.ProbeAsync(nodeB, password, ct, database);
        var status = DbCommands.Format([primary, standby]);
        status.Should().Contain("receives nothing", "a standby cut off cannot tell its own lag");
        output.WriteLine(status);
        var held = standby.LastEventSequence!.Value;
        var last = primary.LastEventSequence!.Value;
        primary.Slots.Should().ContainSingle().Which.Should().Match<DbSlotState>(s => s.Name == "b" && !s.Active && s.RetainedBytes > 0,
            "the bytes of WAL the standby has not received");
        status.Should().Contain($"retains {primary.Slots[0].RetainedBytes} bytes of WAL (WAL its standby has not received)")
            .And.Contain($"holds events up to #{held} at {standby.LastEventAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff} UTC")
            .And.Contain($"loses the events #{held + 1}-#{last}, committed over {(primary.LastEventAt!.Value - standby.LastEventAt.Value).TotalSeconds.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)} s");
        List<(long Seq, Guid Stream)> committed;
        using (var store = DocumentStore.For(o => WorkflowStore.Configure(o, agents)))
        {
            await using var q = store.QuerySession();
            committed = [.. (await q.Events.QueryAllRawEvents().ToListAsync()).Select(e => (e.Sequence, e.StreamId))];
        }
        committed.Where(e => e.Seq > held).Select(e => e.Stream).Should().BeEquivalentTo(cut, "the events status said a loss costs are the ones committed after the cut");

        var pid = int.Parse(File.ReadLines(Path.Combine(_a.Home, "pgdata", "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        System.Diagnostics.Process.GetProcessById(pid).Kill();
        await Task.Delay(500);
        var promotion = await _b.PromoteAsync("test@local", force: false, reason: null, ct);
        output.WriteLine($"promoted: last replayed position {promotion.Event.ReplayedLsn}, last event replicated before the loss #{promotion.Event.LastEventSequence} at {promotion.Event.LastEventBefore:O}");
        promotion.Event.Mode.Should().Be("async");
        promotion.Event.LastEventSequence.Should().Be(held, "the control plane's RPO is the last event status showed on the standby");
        promotion.Event.LastEventBefore.Should().Be(standby.LastEventAt);
        promotion.Event.ReplayedLsn.Should().Be(standby.ReplayLsn, "nothing more to replay: the standby received nothing after status");

        using var after = DocumentStore.For(o => WorkflowStore.Configure(o, agents));
        await using var promoted = after.QuerySession();
        var kept = (await promoted.Events.QueryAllRawEvents().ToListAsync()).Select(e => e.StreamId).ToHashSet();
        kept.Should().Contain(replicated);
        committed.Select(e => e.Stream).Where(id => !kept.Contains(id)).Should().BeEquivalentTo(cut, "exactly the events committed after the standby's position are lost");
    }

    [Fact]
    public async Task a_standby_whose_replay_was_paused_loses_nothing_it_received_and_the_promotion_records_it_all()
    {
        var ct = CancellationToken.None;
        var (pa, pb) = (PostgresServer.FreePort(), PostgresServer.FreePort());
        var cs = await _a.InitPrimaryAsync(new DbNodeConfig("a", DbNodeConfig.PrimaryRole, "127.0.0.1", pa, ["127.0.0.0/8"], [new DbPeer("b", "127.0.0.1", pb)], "async"), ct);
        var password = new NpgsqlConnectionStringBuilder(cs).Password!;
        await _b.InitStandbyAsync(new DbNodeConfig("b", DbNodeConfig.StandbyRole, "127.0.0.1", pb, ["127.0.0.0/8"], [new DbPeer("a", "127.0.0.1", pa)], "async"), password, ct);
        var (nodeA, nodeB) = (new DbPeer("a", "127.0.0.1", pa), new DbPeer("b", "127.0.0.1", pb));
        var database = new NpgsqlConnectionStringBuilder(cs).Database!;
        var agents = new NpgsqlConnectionStringBuilder(cs) { Host = $"127.0.0.1:{pb},127.0.0.1:{pa}" }.ConnectionString;
        using (var store = DocumentStore.For(o => WorkflowStore.Configure(o, agents)))
        {
            await AppendOneAsync(store, "r0");
            (await WaitForAsync(async () => (await ReplicatedPostgres.ProbeAsync(nodeB, password, ct, database)).LastEventSequence
                == (await ReplicatedPostgres.ProbeAsync(nodeA, password, ct, database)).LastEventSequence)).Should().BeTrue();
            await using (var b = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Host = "127.0.0.1", Port = pb, Database = "postgres", Pooling = false, TargetSessionAttributes = "any" }.ConnectionString))
            {
                await b.OpenAsync(ct);
                await using var cmd = b.CreateCommand();
                cmd.CommandText = "SELECT pg_wal_replay_pause()";
                await cmd.ExecuteNonQueryAsync(ct);
            }
            for (var i = 0; i < 4; i++)
                await AppendOneAsync(store, $"p{i}");
        }
        var primary = await ReplicatedPostgres.ProbeAsync(nodeA, password, ct, database);
        (await WaitForAsync(async () => ReplicatedPostgres.LsnBytes((await ReplicatedPostgres.ProbeAsync(nodeB, password, ct, database)).Lsn) >= ReplicatedPostgres.LsnBytes(primary.Lsn)))
            .Should().BeTrue("the standby still receives the WAL it does not replay");
        var standby = await ReplicatedPostgres.ProbeAsync(nodeB, password, ct, database);
        var status = DbCommands.Format([primary, standby]);
        output.WriteLine(status);
        standby.LastEventSequence.Should().BeLessThan(primary.LastEventSequence!.Value, "a hot standby shows only the events it replayed");
        status.Should().Contain("of WAL it has not replayed yet, which a promotion replays first");

        var pid = int.Parse(File.ReadLines(Path.Combine(_a.Home, "pgdata", "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        System.Diagnostics.Process.GetProcessById(pid).Kill();
        await Task.Delay(500);
        var promotion = await _b.PromoteAsync("test@local", force: false, reason: null, ct);
        promotion.Event.LastEventSequence.Should().Be(primary.LastEventSequence!.Value, "what was received is replayed before the RPO is read: nothing lost");
        promotion.Event.LastEventBefore.Should().Be(primary.LastEventAt);
    }

    static async Task<Guid> AppendOneAsync(IDocumentStore store, string node)
    {
        await using var session = store.LightweightSession();
        var id = Guid.NewGuid();
        session.Events.StartStream(id, new DatabaseRejoined(node, "test", DateTimeOffset.UtcNow, "-", "-"));
        await session.SaveChangesAsync();
        return id;
    }

    /// <summary>Polls <paramref name="condition"/> for up to 30 s (replication is asynchronous: no fixed wait).</summary>
    static async Task<bool> WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
                return true;
            await Task.Delay(200);
        }
        return false;
    }
}
