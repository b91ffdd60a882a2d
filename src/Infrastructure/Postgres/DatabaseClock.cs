using Npgsql;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Infrastructure.Postgres;

/// <summary>The database's clock (<c>clock_timestamp()</c>): what heartbeats are stamped with and liveness is judged by.</summary>
public sealed class DatabaseClock(NpgsqlDataSource dataSource) : IDatabaseClock, IAsyncDisposable
{
    public static DatabaseClock For(string connectionString) =>
        new(NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 4, Timeout = 5, CommandTimeout = 5 }.ConnectionString));

    public async Task<DateTimeOffset> NowAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT clock_timestamp()");
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value switch
        {
            DateTime utc => new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)),
            DateTimeOffset at => at,
            _ => throw new InvalidOperationException($"clock_timestamp() returned {value}"),
        };
    }

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
