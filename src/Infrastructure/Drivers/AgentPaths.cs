namespace OpenSvc.Infrastructure.Drivers;

/// <summary>
/// Where the agent keeps per-service runtime files on its node, and where docker daemons listen: the one place these
/// paths are written. <see cref="VarDir"/> follows <see cref="Domain.Config.VarDir"/> (OpenSVC's <c>{var}</c>:
/// the same path on every node, so a sender names the target's files by its own paths); <see cref="RunDir"/> is
/// OPENSVC_RUN_DIR, else <c>/run/opensvc</c>. The lab sets OPENSVC_VAR_DIR per node, because its nodes share the host's /var/lib.
/// </summary>
public sealed record AgentPaths(string VarDir, string RunDir)
{
    public static AgentPaths FromEnvironment() => new(
        Domain.Config.VarDir.From(Environment.GetEnvironmentVariable(Domain.Config.VarDir.Variable)),
        Environment.GetEnvironmentVariable("OPENSVC_RUN_DIR") is { Length: > 0 } r ? r : "/run/opensvc");

    /// <summary><c>{var}/svc/&lt;name&gt;</c>: OpenSVC's private var dir of a service.</summary>
    public string ServiceVarDir(string service) => $"{VarDir}/svc/{service}";

    /// <summary><c>{var}/svc/&lt;name&gt;/&lt;rid&gt;</c>, where a resource's state files (last_sync) live.</summary>
    public string ResourceVarDir(string service, string rid) => $"{ServiceVarDir(service)}/{rid}";

    public string ServiceRunDir(string service) => Path.Combine(RunDir, service);

    /// <summary>The API socket of a service's private dockerd (services with <c>docker_data_dir</c>).</summary>
    public string ServiceDockerSocket(string service) => $"{ServiceVarDir(service)}/docker.sock";

    /// <summary>The node's own dockerd: DOCKER_HOST, else <c>unix:///var/run/docker.sock</c>.</summary>
    public static Uri NodeDockerEndpoint =>
        new(Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } h ? h : "unix:///var/run/docker.sock");
}
