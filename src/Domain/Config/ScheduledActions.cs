using System.Globalization;

namespace OpenSvc.Domain.Config;

/// <summary>
/// What a service runs on a schedule, as OpenSVC's <c>print schedule</c> lists it: here the sync resources (each
/// runs <c>sync all --rid</c> on its schedule), with their effective definition and next due times.
/// </summary>
public static class ScheduledActions
{
    public sealed record Entry(ResourceId Rid, string Action, string Definition, IReadOnlyList<DateTimeOffset> Due, string? Problem);

    /// <summary>The scheduled actions of <paramref name="service"/>, each with its next <paramref name="count"/> due times from <paramref name="from"/>.</summary>
    public static IReadOnlyList<Entry> Of(ResolvedService service, DateTimeOffset from, int count, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(service);
        var result = new List<Entry>();
        foreach (var sync in service.Resources.OfType<SyncResource>())
        {
            if (!Schedule.TryParse(sync.Schedule, out var schedule, out var error))
            {
                result.Add(new Entry(sync.Id, "sync all", sync.Schedule, [], error));
                continue;
            }
            var due = sync.Disabled ? [] : schedule!.DueTimes(from, null, count, zone, $"{service.Name}/{sync.Id}");
            result.Add(new Entry(sync.Id, "sync all", sync.Schedule, due, sync.Disabled ? "disabled" : null));
        }
        return result;
    }

    /// <summary>One block per action: rid, action and definition, then one due time per line (ISO 8601 UTC), or never.</summary>
    public static IReadOnlyList<string> Print(ResolvedService service, DateTimeOffset from, int count, TimeZoneInfo zone)
    {
        var entries = Of(service, from, count, zone);
        if (entries.Count == 0)
            return ["no scheduled action (no sync resource)"];
        var width = Math.Max(8, entries.Max(e => e.Rid.ToString().Length) + 2);
        var lines = new List<string>();
        foreach (var e in entries)
        {
            var definition = e.Definition.Length == 0 ? "(empty)" : e.Definition;
            lines.Add($"{e.Rid.ToString().PadRight(width)}{e.Action}  schedule = {definition}");
            if (e.Problem is { } problem && e.Due.Count == 0)
                lines.Add($"{"".PadRight(width)}never ({problem})");
            else if (e.Due.Count == 0)
                lines.Add($"{"".PadRight(width)}never");
            foreach (var at in e.Due)
                lines.Add($"{"".PadRight(width)}{at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}");
        }
        return lines;
    }
}
