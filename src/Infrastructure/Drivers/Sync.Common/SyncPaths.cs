using OpenSvc.Infrastructure.Postgres;

namespace OpenSvc.Infrastructure.Drivers.Sync.Common;

/// <summary>
/// The agent's variable data directory (OpenSVC's <c>&lt;var&gt;</c>): OPENSVC_VAR, else the product home
/// (<c>/var/lib/opensvc</c> for root). The same path is used on the sender and the target, as OpenSVC does.
/// </summary>
public static class SyncPaths
{
    public const string VarVariable = "OPENSVC_VAR";

    public static string Var() =>
        Environment.GetEnvironmentVariable(VarVariable) is { Length: > 0 } v ? v : EmbeddedPostgres.DefaultHome();

    /// <summary><c>&lt;var&gt;/svc/&lt;name&gt;</c></summary>
    public static string Service(string service) => $"{Var().TrimEnd('/')}/svc/{service}";

    /// <summary><c>&lt;var&gt;/svc/&lt;name&gt;/&lt;rid&gt;</c>, where last_sync files live.</summary>
    public static string Resource(string service, string rid) => $"{Service(service)}/{rid}";
}
