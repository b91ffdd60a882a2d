using System.Globalization;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Domain;

/// <summary>How old a DR copy is against its resource's <c>sync_max_delay</c>, in the bands operators alert on.</summary>
public enum LagBand
{
    /// <summary>No successful sync to that node was ever recorded.</summary>
    Never,
    Within,
    UpTo2x,
    UpTo4x,
    Beyond4x,
}

/// <summary>
/// The age of the last successful sync of one resource to one target, judged against its maximum delay: the one
/// place where a copy's lag becomes a status and a sentence (the service status, the node's own last_sync view,
/// readiness and metrics all read it from here).
/// </summary>
public readonly record struct SyncLag(DateTimeOffset? LastAt, TimeSpan MaxDelay, DateTimeOffset Now)
{
    /// <summary>The copy's age (the RPO a takeover onto that node would have now), or null if never synced.</summary>
    public TimeSpan? Age => LastAt is { } at ? Now - at : null;

    public LagBand Band => Age switch
    {
        null => LagBand.Never,
        { } a when a <= MaxDelay => LagBand.Within,
        { } a when a <= MaxDelay * 2 => LagBand.UpTo2x,
        { } a when a <= MaxDelay * 4 => LagBand.UpTo4x,
        _ => LagBand.Beyond4x,
    };

    /// <summary>up within the maximum delay; warn beyond it or never synced.</summary>
    public Status Status => Band == LagBand.Within ? Status.Up : Status.Warn;

    /// <summary>"never synced", "last sync 4m05s ago", "last sync 3h10m ago, older than 1h00m".</summary>
    public string Describe() => Age switch
    {
        null => "never synced",
        { } a when Band == LagBand.Within => $"last sync {RunTimeline.Duration(a)} ago",
        { } a => $"last sync {RunTimeline.Duration(a)} ago, older than {RunTimeline.Duration(MaxDelay)}",
    };

    /// <summary>"2026-11-25 01:14:49Z": a sync time as status lines print it.</summary>
    public static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z";
}
