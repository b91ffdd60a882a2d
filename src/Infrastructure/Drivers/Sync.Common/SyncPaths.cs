
namespace OpenSvc.Infrastructure.Drivers.Sync.Common;

/// <summary>
/// The agent's variable data directory (OpenSVC's <c>&lt;var&gt;</c>), the one every driver uses
/// (<see cref="AgentPaths"/>: OPENSVC_VAR_DIR, else /var/lib/opensvc). The same path is used on the sender and
/// the target, as OpenSVC does.
/// </summary>
public static class SyncPaths
{
    public const string VarVariable = "OPENSVC_VAR_DIR";

    public static string Var() => AgentPaths.FromEnvironment().VarDir;

    /// <summary><c>&lt;var&gt;/svc/&lt;name&gt;</c></summary>
    public static string Service(string service) => $"{Var().TrimEnd('/')}/svc/{service}";

    /// <summary><c>&lt;var&gt;/svc/&lt;name&gt;/&lt;rid&gt;</c>, where last_sync files live.</summary>
    public static string Resource(string service, string rid) => $"{Service(service)}/{rid}";
}
