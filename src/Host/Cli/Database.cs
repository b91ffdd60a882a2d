using Npgsql;

namespace OpenSvc.Host.Cli;

/// <summary>Where the product's PostgreSQL is: configured, or the embedded default.</summary>
public static class Database
{
    public static string? Configured(string? option) =>
        !string.IsNullOrWhiteSpace(option) ? option
        : Environment.GetEnvironmentVariable("OPENSVC_CONNECTION") is { Length: > 0 } env ? env
        : null;

    /// <summary>Fails with one clear line when the database cannot be reached.</summary>
    public static async Task CheckReachableAsync(string connectionString, CancellationToken ct)
    {
        NpgsqlConnectionStringBuilder b;
        try
        {
            b = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new UserError($"the connection string is not valid: {ex.Message}");
        }
        var where = $"{b.Host}:{b.Port}/{b.Database}";
        try
        {
            var probe = new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5, Pooling = false }.ConnectionString;
            await using var conn = new NpgsqlConnection(probe);
            await conn.OpenAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
        {
            var reason = ex.InnerException?.Message ?? ex.Message;
            throw new UserError($"cannot reach PostgreSQL at {where}: {reason}. Check OPENSVC_CONNECTION (or --connection) and that the server is up.", ExitCodes.Failed);
        }
    }
}
