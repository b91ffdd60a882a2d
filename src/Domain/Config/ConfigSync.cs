namespace OpenSvc.Domain.Config;

/// <summary>
/// OpenSVC's <c>[sync#i0]</c>: the implicit rsync of the service's config file to its peers, whose section only tunes
/// it (<c>schedule</c>, <c>sync_max_delay</c>, ...). Here the config store distributes every stored config to all
/// agents at once (a new version is read by every node from the shared database), so there is nothing to rsync: the
/// section is accepted, is not a resource, and each of its keywords is reported as ignored, with why.
/// </summary>
public static class ConfigSync
{
    public const string Section = "sync#i0";

    public const string Why = "OpenSVC's config sync (sync#i0) has no counterpart here: the config store distributes each stored config to every agent at once";

    /// <summary>What is said of one keyword of the section.</summary>
    public static string Ignored(string keyword) => keyword switch
    {
        "schedule" => "ignored: configs are not rsynced on a schedule here; a stored config reaches every agent at once (opensvc svc update)",
        "sync_max_delay" => "ignored: no config copy can lag here; every agent reads the stored version (opensvc svc config-history shows them)",
        "disable" => "ignored: the config sync cannot be disabled here, every agent always reads the stored config",
        _ => $"ignored: {keyword} tunes OpenSVC's config rsync, which the config store replaces",
    };
}
