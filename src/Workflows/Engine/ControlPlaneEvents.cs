namespace OpenSvc.Workflows.Engine;

/// <summary>
/// The control plane's own history: the database's promotions and rejoins, in one stream of the event store, so the
/// audit trail says when the agents' shared state changed site and how much of it crossed over.
/// </summary>
public static class ControlPlaneHistory
{
    /// <summary>The stream every promotion and rejoin is appended to.</summary>
    public static readonly Guid Id = new("0c0a7301-5e7c-4d6b-9a1e-000000000db1");

    public static readonly IReadOnlyDictionary<Type, string> EventNames = new Dictionary<Type, string>
    {
        [typeof(DatabasePromoted)] = "database_promoted",
        [typeof(DatabaseRejoined)] = "database_rejoined",
    };
}

/// <param name="Node">The node whose standby became the primary.</param>
/// <param name="By">Who decided it (the operator running `opensvc db promote`).</param>
/// <param name="At">When the promoted database accepted this write (its clock).</param>
/// <param name="Forced">True when the former primary still answered and the operator forced it.</param>
/// <param name="Reason">The operator's reason (required when forced).</param>
/// <param name="PreviousPrimary">The primary the standby followed (host:port).</param>
/// <param name="ReplayedLsn">The last WAL position the standby had replayed before promotion.</param>
/// <param name="LastReplayedCommitAt">The commit time of the last transaction replayed before promotion (PostgreSQL's own).</param>
/// <param name="LastEventBefore">The time of the last event of the event store replicated before the loss.</param>
/// <param name="LastEventSequence">Its sequence number.</param>
/// <param name="Timeline">The promoted database's new timeline.</param>
/// <param name="Mode">The replication mode at the time of the loss (sync or async).</param>
public sealed record DatabasePromoted(string Node, string By, DateTimeOffset At, bool Forced, string? Reason, string? PreviousPrimary, string ReplayedLsn,
    DateTimeOffset? LastReplayedCommitAt, DateTimeOffset? LastEventBefore, long LastEventSequence, int Timeline, string Mode);

/// <param name="Node">The node whose database came back as a standby.</param>
/// <param name="By">Who ran `opensvc db rejoin`.</param>
/// <param name="At">When (the primary's clock).</param>
/// <param name="Primary">The primary it follows now (host:port).</param>
/// <param name="Method">pg_rewind, or base backup.</param>
public sealed record DatabaseRejoined(string Node, string By, DateTimeOffset At, string Primary, string Method);
