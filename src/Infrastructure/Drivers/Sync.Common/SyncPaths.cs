namespace OpenSvc.Infrastructure.Drivers.Sync.Common;

/// <summary>The paths sync drivers name on both sides (the same on the sender and the target, as OpenSVC does): <see cref="AgentPaths"/>'s.</summary>
public static class SyncPaths
{
    static AgentPaths Paths => AgentPaths.FromEnvironment();

    public static string Var() => Paths.VarDir;

    /// <summary><c>&lt;var&gt;/svc/&lt;name&gt;</c></summary>
    public static string Service(string service) => Paths.ServiceVarDir(service);

    /// <summary><c>&lt;var&gt;/svc/&lt;name&gt;/&lt;rid&gt;</c>, where last_sync files live.</summary>
    public static string Resource(string service, string rid) => Paths.ResourceVarDir(service, rid);

    /// <summary>A service's private dockerd socket, on this node and on a target.</summary>
    public static string DockerSocket(string service) => Paths.ServiceDockerSocket(service);
}
