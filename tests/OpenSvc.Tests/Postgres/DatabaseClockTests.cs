using FluentAssertions;
using Npgsql;
using OpenSvc.Infrastructure.Postgres;
using OpenSvc.Tests.Support;
using Xunit;

namespace OpenSvc.Tests.Postgres;

public sealed class DatabaseClockTests
{
    [Fact]
    public async Task a_burst_of_callers_far_beyond_the_clocks_pool_all_read_the_database_time()
    {
        var cs = await PostgresServer.NewDatabaseAsync("clock_burst");
        await using var clock = DatabaseClock.For(cs);
        await using var db = NpgsqlDataSource.Create(cs);
        await using var ask = db.CreateCommand("SELECT clock_timestamp()");
        var before = new DateTimeOffset(DateTime.SpecifyKind((DateTime)(await ask.ExecuteScalarAsync())!, DateTimeKind.Utc));

        // 200 at once against a pool of 4 connections with a 5 s connection timeout: none may fail or wait for a connection.
        var readings = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => clock.NowAsync(CancellationToken.None))));

        var after = new DateTimeOffset(DateTime.SpecifyKind((DateTime)(await ask.ExecuteScalarAsync())!, DateTimeKind.Utc));
        readings.Should().OnlyContain(r => r >= before && r <= after, "every reading is the database's time, taken between the two direct reads");
        clock.LastServer.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task consecutive_readings_never_go_back_and_follow_the_database_past_the_reuse_period()
    {
        var cs = await PostgresServer.NewDatabaseAsync("clock_steps");
        await using var clock = DatabaseClock.For(cs);
        var first = await clock.NowAsync(CancellationToken.None);
        var second = await clock.NowAsync(CancellationToken.None);
        second.Should().BeOnOrAfter(first);
        await Task.Delay(DatabaseClock.Reuse + TimeSpan.FromMilliseconds(200));
        var third = await clock.NowAsync(CancellationToken.None);
        third.Should().BeOnOrAfter(first + DatabaseClock.Reuse, "a fresh reading once the last one is older than the reuse period");
    }
}
