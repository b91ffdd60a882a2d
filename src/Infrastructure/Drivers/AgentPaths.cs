namespace OpenSvc.Infrastructure.Drivers;

/// <summary>
/// Where the agent keeps per-service runtime files on its node. <see cref="VarDir"/> is OPENSVC_VAR_DIR, else
/// <c>/var/lib/opensvc</c> (OpenSVC's <c>{var}</c>); <see cref="RunDir"/> is OPENSVC_RUN_DIR, else <c>/run/opensvc</c>.
/// The lab sets OPENSVC_VAR_DIR per node, because its nodes share the host's /var/lib.
/// </summary>
public sealed record AgentPaths(string VarDir, string RunDir)
{
    public static AgentPaths FromEnvironment() => new(
        Environment.GetEnvironmentVariable("OPENSVC_VAR_DIR") is { Length: > 0 } v ? v : "/var/lib/opensvc",
        Environment.GetEnvironmentVariable("OPENSVC_RUN_DIR") is { Length: > 0 } r ? r : "/run/opensvc");

    /// <summary><c>{var}/svc/&lt;name&gt;</c>: OpenSVC's private var dir of a service.</summary>
    public string ServiceVarDir(string service) => Path.Combine(VarDir, "svc", service);

    public string ServiceRunDir(string service) => Path.Combine(RunDir, service);
}
