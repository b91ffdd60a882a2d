namespace OpenSvc.Domain;

// The enum lives in OpenSvc.Domain (beside NodeName and ResourceId), not in OpenSvc.Domain.Status:
// a type named like its own namespace would force every consumer to write an alias.

/// <summary>
/// The state of a resource, an instance (one node) or a service (all nodes), as OpenSVC reports it.
/// A standby resource reports <c>up</c> as <see cref="StandbyUp"/> and <c>down</c> as <see cref="StandbyDown"/>.
/// </summary>
public enum Status { Up, Down, Warn, NotApplicable, Undef, StandbyUp, StandbyDown }

public static class StatusText
{
    /// <summary>OpenSVC's display string: "up", "down", "warn", "n/a", "undef", "stdby up", "stdby down".</summary>
    public static string ToDisplay(this Status status) => status switch
    {
        Status.Up => "up",
        Status.Down => "down",
        Status.Warn => "warn",
        Status.NotApplicable => "n/a",
        Status.Undef => "undef",
        Status.StandbyUp => "stdby up",
        Status.StandbyDown => "stdby down",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a status"),
    };

    public static bool TryParse(string? text, out Status status)
    {
        foreach (var candidate in Enum.GetValues<Status>())
        {
            if (string.Equals(candidate.ToDisplay(), text, StringComparison.Ordinal))
            {
                status = candidate;
                return true;
            }
        }
        status = Status.Undef;
        return false;
    }

    public static Status Parse(string text) =>
        TryParse(text, out var status) ? status : throw new FormatException($"'{text}' is not a status (up, down, warn, n/a, undef, stdby up, stdby down)");
}
