using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Config;

/// <summary>What every sync driver carries.</summary>
public abstract record SyncResource : ServiceResource
{
    static readonly string[] TargetCandidates = ["nodes", "drpnodes"];

    /// <summary>The keywords of every sync driver, ahead of each one's own.</summary>
    internal static IReadOnlyList<Keyword> GroupKeywords { get; } =
    [
        new("target", "sync", null, ValueKind.List, Inheritance: Inheritance.Leaf, Required: true, Candidates: TargetCandidates),
        new("schedule", "sync", null, ValueKind.String, Scopable: true, Default: "~04:00-06:00", DefaultKeyword: "sync_schedule"),
        new("sync_max_delay", "sync", null, ValueKind.DurationMinutes, Scopable: true, Default: "1d3h"),
    ];

    /// <summary>A sync moves data and may take hours.</summary>
    internal static StepPolicy Policy => new(TimeSpan.FromHours(4), 2, TimeSpan.FromMinutes(1));

    /// <summary>The target tokens as written (valid or not).</summary>
    public required IReadOnlyList<string> TargetTokens { get; init; }

    /// <summary><c>nodes</c>/<c>drpnodes</c> expanded to node names. The sending node is not removed here.</summary>
    public required IReadOnlyList<NodeName> Targets { get; init; }

    /// <summary>The effective schedule: <c>schedule</c>, else an explicit DEFAULT.sync_schedule, else <c>~04:00-06:00</c>.</summary>
    public required string Schedule { get; init; }

    public required long SyncMaxDelaySeconds { get; init; }

    /// <summary>Reads what every sync has (targets, schedule, max delay), then lets <paramref name="create"/> make the typed record.</summary>
    internal static T Build<T>(ResourceContext context, ConfigSection section, ResourceCommon c, Func<SyncCommon, T> create) where T : SyncResource
    {
        var tokens = context.Values.List(section, "target");
        var targets = new List<NodeName>();
        var seen = new HashSet<NodeName>();
        foreach (var token in tokens)
        {
            var expanded = token switch
            {
                "nodes" => context.NodeNames,
                "drpnodes" => context.DrpNodeNames,
                _ => [],
            };
            foreach (var n in expanded)
                if (seen.Add(n))
                    targets.Add(n);
        }
        if (tokens.Count > 0 && tokens.All(t => t is "nodes" or "drpnodes") && targets.Count == 0)
        {
            var declare = tokens.Contains("drpnodes") ? "declare drpnodes in DEFAULT" : "declare nodes in DEFAULT";
            context.Add(section, context.Values.Get(section, "target")?.Entry, "target", Severity.Warning,
                $"target '{string.Join(' ', tokens)}' resolves to no node: this sync never sends anything and reports n/a",
                $"{declare}, or set target to a populated node list");
        }
        // An explicit empty value (here or in DEFAULT.sync_schedule) or @0 means never, as in OpenSVC; only an absent one defaults.
        var schedule = context.Values.Get(section, "schedule") is { } set ? set.Value.Trim() : "~04:00-06:00";
        var scheduleRead = context.Values.Get(section, "schedule");
        if (!Config.Schedule.TryParse(schedule, out var parsedSchedule, out var scheduleError))
            context.Add(scheduleRead?.From ?? section, scheduleRead?.Entry, "schedule", Severity.Error,
                $"'{ValueReader.Shorten(schedule)}' is not a schedule: {scheduleError}",
                "write e.g. ~04:00-06:00, 04:00-06:00@2h, @30 sat,sun, [\"00:00-01:00@61 mon\", \"! 00:00-23:59 * * dec\"]; empty or @0: never");
        else if (SchedulePitfall(parsedSchedule!) is { } pitfall)
            context.Add(scheduleRead?.From ?? section, scheduleRead?.Entry, "schedule", Severity.Warning, pitfall.Reason, pitfall.Fix);
        var delay = context.Values.Duration(section, "sync_max_delay") ?? 97200;
        return create(new SyncCommon(c.Id, c.Driver, c.Line, c.Standby, c.Disabled, c.Optional, c.Tags, c.Keywords,
            tokens, targets, schedule, delay));
    }

    /// <summary>
    /// A day of the month on chosen weekdays (<c>sun:last</c>, <c>mon:1</c>): OpenSVC's agents require both to hold
    /// (a sunday that is the last day), while its doc reads it as the nth weekday. We run what the agents run, and say so.
    /// </summary>
    static (string Reason, string Fix)? SchedulePitfall(Config.Schedule schedule)
    {
        foreach (var x in schedule.Expressions)
        {
            var picked = x.Days.Where(d => d.MonthDay != 0).GroupBy(d => d.MonthDay).FirstOrDefault(g => g.Count() < 7);
            if (picked is null)
                continue;
            string[] names = ["", "mon", "tue", "wed", "thu", "fri", "sat", "sun"];
            var day = names[picked.First().IsoWeekday];
            var n = picked.Key;
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            var monthDay = n == -1 ? "last day" : n > 0 ? $"day {n.ToString(inv)}" : $"day {n.ToString(inv)} (from the end)";
            var nth = n == -1 ? $"the last {day}" : n > 0 ? $"{day} number {n.ToString(inv)}" : $"{day} number {n.ToString(inv)} (from the end)";
            var week = n > 0 ? Enumerable.Range((n - 1) * 7 + 1, 7) : Enumerable.Range(7 * (-n - 1) + 1, 7).Select(i => -i).Reverse();
            return ($"'{day}:{(n == -1 ? "last" : n.ToString(inv))}' runs on a {day} that is also the month's {monthDay}, as OpenSVC's agents evaluate it (its doc reads it as {nth} of the month)",
                $"for {nth} of the month write {string.Join(',', week.Select(i => $"{day}:{i.ToString(inv)}"))}");
        }
        return null;
    }
}

/// <summary>What <see cref="SyncResource.Build"/> read, for a sync driver's builder to make its record from.</summary>
internal sealed record SyncCommon(ResourceId Id, string Driver, int Line, bool Standby, bool Disabled, bool Optional,
    IReadOnlyList<string> Tags, IReadOnlyDictionary<string, string> Keywords,
    IReadOnlyList<string> TargetTokens, IReadOnlyList<NodeName> Targets, string Schedule, long SyncMaxDelaySeconds);
