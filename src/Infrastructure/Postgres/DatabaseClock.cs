using System.Diagnostics;
using Npgsql;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Infrastructure.Postgres;

/// <summary>
/// The database's clock (<c>clock_timestamp()</c>): what heartbeats are stamped with and liveness is judged by. One
/// reading serves for <see cref="Reuse"/>, extended by this process's monotonic clock (its drift over a second is
/// microseconds), and concurrent callers share the reading in flight: a burst of requests (a whole site taken over at
/// once) costs one query, not one connection each from the clock's small pool.
/// </summary>
public sealed class DatabaseClock(NpgsqlDataSource dataSource) : IDatabaseClock, IAsyncDisposable
{
    /// <summary>How long a reading is extended before the database is asked again (a promotion moves the clock to another host).</summary>
    public static readonly TimeSpan Reuse = TimeSpan.FromSeconds(1);

    readonly SemaphoreSlim _reading = new(1, 1);
    sealed record Reading(DateTimeOffset At, long Ticks);

    volatile Reading? _last; // replaced whole, so a reader never sees half of one

    public static DatabaseClock For(string connectionString) =>
        new(Workflows.Engine.PrimaryDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 4, Timeout = 5, CommandTimeout = 5 }.ConnectionString));

    /// <summary>The server (address:port, as it sees itself) that answered the last reading: the primary, with several hosts.</summary>
    public string? LastServer { get; private set; }

    public async Task<DateTimeOffset> NowAsync(CancellationToken cancellationToken)
    {
        if (Extended() is { } now)
            return now;
        await _reading.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Extended() is { } meanwhile)
                return meanwhile; // another caller read it while this one waited
            var at = await ReadAsync(cancellationToken).ConfigureAwait(false);
            _last = new Reading(at, Stopwatch.GetTimestamp());
            return at;
        }
        finally
        {
            _reading.Release();
        }
    }

    DateTimeOffset? Extended()
    {
        if (_last is not { } last)
            return null;
        var elapsed = Stopwatch.GetElapsedTime(last.Ticks);
        return elapsed < Reuse ? last.At + elapsed : null;
    }

    async Task<DateTimeOffset> ReadAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT clock_timestamp(), host(inet_server_addr()) || ':' || inet_server_port()");
        object? value;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            value = reader.GetValue(0);
            LastServer = reader.IsDBNull(1) ? "local socket" : reader.GetString(1);
        }
        return value switch
        {
            DateTime utc => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)),
            DateTimeOffset at => at,
            _ => throw new InvalidOperationException($"clock_timestamp() returned {value}"),
        };
    }

    public async ValueTask DisposeAsync()
    {
        _reading.Dispose();
        await dataSource.DisposeAsync().ConfigureAwait(false);
    }
}
