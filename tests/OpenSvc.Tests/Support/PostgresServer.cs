using System.Net;
using System.Net.Sockets;
using OpenSvc.Infrastructure.Postgres;

namespace OpenSvc.Tests.Support;

/// <summary>
/// One real PostgreSQL server per test process, started with the product's own embedded-PostgreSQL code in a
/// temporary directory on a free loopback port. Each test class takes its own database from it, so classes
/// run in parallel without truncating each other's data.
/// </summary>
public static class PostgresServer
{
    static readonly Lazy<Task<EmbeddedPostgres>> Server = new(StartAsync);

    static async Task<EmbeddedPostgres> StartAsync()
    {
        var home = Path.Combine(Path.GetTempPath(), $"opensvc-tests-pg-{Environment.ProcessId}");
        Directory.CreateDirectory(home);
        if (Environment.UserName == "root")
        {
            // The postgres system user must be able to reach the data directory.
            File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101);
        }
        var pg = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(home, FreePort()));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            pg.StopAsync().GetAwaiter().GetResult();
            try { Directory.Delete(home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return pg;
    }

    /// <summary>A fresh database for one test class.</summary>
    public static async Task<string> NewDatabaseAsync(string name)
    {
        var pg = await Server.Value;
        var db = $"t_{name}_{Guid.NewGuid():N}";
        return await pg.CreateDatabaseAsync(db[..Math.Min(db.Length, 60)]);
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
