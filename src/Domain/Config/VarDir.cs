namespace OpenSvc.Domain.Config;

/// <summary>
/// The agent's state directory, OpenSVC's <c>{var}</c>: OPENSVC_VAR_DIR, else <c>/var/lib/opensvc</c>. The one rule the
/// config's <c>{var}</c> references and the agent's own paths (<c>AgentPaths</c>) both follow.
/// </summary>
public static class VarDir
{
    public const string Variable = "OPENSVC_VAR_DIR";
    public const string Default = "/var/lib/opensvc";

    /// <summary>The directory for the variable's value (null, blank: the default), without a trailing slash.</summary>
    public static string From(string? value) =>
        value?.Trim().TrimEnd('/') is { Length: > 0 } dir ? dir : Default;
}
