using Npgsql;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Infrastructure.Postgres;

/// <summary>The database's clock (<c>clock_timestamp()</c>): what heartbeats are stamped with and liveness is judged by.</summary>
public sealed class DatabaseClock(NpgsqlDataSource dataSource) : IDatabaseClock, IAsyncDisposable
{
    public static DatabaseClock For(string connectionString) =>
        new(Workflows.Engine.PrimaryDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 4, Timeout = 5, CommandTimeout = 5 }.ConnectionString));

    /// <summary>The server (address:port, as it sees itself) that answered the last <see cref="NowAsync"/>: the primary, with several hosts.</summary>
    public string? LastServer { get; private set; }

    public async Task<DateTimeOffset> NowAsync(CancellationToken cancellationToken)
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

    public ValueTask DisposeAsync() => dataSource.DisposeAsync();
}
