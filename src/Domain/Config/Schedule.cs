using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace OpenSvc.Domain.Config;

/// <summary>
/// One time range of a schedule expression, in seconds since local midnight, from <see cref="Begin"/> up to (not
/// including) <see cref="End"/>; a range whose begin is after its end wraps midnight (23:00-01:00). So
/// <c>04:00-06:00@1h</c> runs at 04:00 and 05:00, and <c>06:00-07:00@1h</c> once, as OpenSVC's doc reads them (its
/// agents test the end second inclusively, which matters only to a run landing on that very second).
/// <see cref="Interval"/> is the least time between two runs (explicit <c>@</c>, else the range's length: once per
/// range; <c>*</c>: one day). A
/// randomized range (<c>~</c>, only when the interval covers the whole range, as OpenSVC applies it) runs once at one
/// point of the range, the same on every agent (see <see cref="Schedule.RandomPoint"/>).
/// </summary>
public sealed record ScheduleRange(int Begin, int End, long Interval, bool Randomized)
{
    public const int Day = 86400;

    public bool Wraps => Begin > End;

    /// <summary>Seconds covered by the range.</summary>
    public int Length => Wraps ? Day - Begin + End : End - Begin;

    public bool Contains(int secondOfDay) => Wraps ? secondOfDay >= Begin || secondOfDay < End : secondOfDay >= Begin && secondOfDay < End;
}

/// <summary>A day filter: an ISO weekday (1 monday … 7 sunday) and, optionally, a day of the month (negative: from its end).</summary>
public sealed record ScheduleDay(int IsoWeekday, int MonthDay)
{
    public bool Matches(DateOnly date)
    {
        if (IsoWeekday != Schedule.IsoWeekday(date))
            return false;
        if (MonthDay == 0)
            return true;
        var days = DateTime.DaysInMonth(date.Year, date.Month);
        var day = MonthDay > 0 ? MonthDay : days + MonthDay + 1;
        return day == date.Day;
    }
}

/// <summary>One expression of a schedule: <c>[!] &lt;timeranges&gt; [&lt;days&gt; [&lt;weeks&gt; [&lt;months&gt;]]]</c>.</summary>
public sealed record ScheduleExpression(string Text, bool Exclude, IReadOnlyList<ScheduleRange> Ranges, IReadOnlyList<ScheduleDay> Days,
    IReadOnlySet<int> Weeks, IReadOnlySet<int> Months)
{
    public bool MatchesDate(DateOnly date) =>
        Months.Contains(date.Month) && Weeks.Contains(ISOWeek.GetWeekOfYear(date.ToDateTime(TimeOnly.MinValue))) && Days.Any(d => d.Matches(date));
}

/// <summary>
/// OpenSVC's schedule (its <c>usr/share/doc/schedule</c> grammar), evaluated here rather than approximated with cron:
/// <list type="bullet">
/// <item>a definition is one expression or a JSON list of them (<c>["00:00-01:00@61 mon", "02:00-03:00@61 tue-sun"]</c>);
/// empty or <c>@0</c>: never;</item>
/// <item>an expression is <c>[!] &lt;timeranges&gt; [&lt;days&gt; [&lt;weeks&gt; [&lt;months&gt;]]]</c>; <c>!</c> excludes;</item>
/// <item>timeranges: <c>[~]HH:MM[:SS][-HH:MM[:SS]][@interval]</c>, comma-separated, or <c>*</c>; the interval is a
/// duration, bare numbers in minutes (<c>@121</c>, <c>@1h</c>, <c>@10s</c>); <c>@0</c> drops the range;</item>
/// <item>days: <c>dow[:monthday]</c>, comma-separated, dow a name, 1-7 or a wrapping range (<c>sun-tue</c>), monthday
/// <c>first</c>…<c>fifth</c>, <c>last</c>, <c>N</c> or <c>-N</c>. As OpenSVC's agents evaluate it (both v2 and om3),
/// <c>sun:last</c> is a sunday that is the month's last day, not the month's last sunday (<c>sun:-1,...,sun:-7</c>);</item>
/// <item>weeks: ISO week numbers and wrapping ranges; months: names or numbers, wrapping ranges, <c>%modulo[+shift]</c>.</item>
/// </list>
/// The meaning, in one rule (<see cref="IsDue"/>): an instant is due after the previous run <c>last</c> when an including
/// expression matches its date, one of that expression's ranges contains its time of day with at least the range's
/// interval since <c>last</c>, and no excluding expression matches it. <see cref="NextDue"/> is the earliest such instant.
/// </summary>
public sealed record Schedule(string Definition, IReadOnlyList<ScheduleExpression> Expressions)
{
    static readonly Dictionary<string, int> MonthNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["jan"] = 1, ["feb"] = 2, ["mar"] = 3, ["apr"] = 4, ["may"] = 5, ["jun"] = 6, ["jul"] = 7, ["aug"] = 8, ["sep"] = 9, ["oct"] = 10,
        ["nov"] = 11, ["dec"] = 12, ["january"] = 1, ["february"] = 2, ["march"] = 3, ["april"] = 4, ["june"] = 6, ["july"] = 7,
        ["august"] = 8, ["september"] = 9, ["october"] = 10, ["november"] = 11, ["december"] = 12,
    };

    static readonly Dictionary<string, int> DayNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mon"] = 1, ["tue"] = 2, ["wed"] = 3, ["thu"] = 4, ["fri"] = 5, ["sat"] = 6, ["sun"] = 7, ["monday"] = 1, ["tuesday"] = 2,
        ["wednesday"] = 3, ["thursday"] = 4, ["friday"] = 5, ["saturday"] = 6, ["sunday"] = 7,
    };

    static readonly string[] Nth = ["first", "second", "third", "fourth", "fifth"];
    static readonly string[] NthShort = ["1st", "2nd", "3rd", "4th", "5th"];

    /// <summary>How far <see cref="NextDue"/> looks: eight years covers every ISO week 53 and month modulo.</summary>
    const int HorizonDays = 8 * 366;

    /// <summary>An empty definition or <c>@0</c>: OpenSVC never runs the task.</summary>
    public static bool IsNever(string? text) => string.IsNullOrWhiteSpace(text) || text.Trim() == "@0";

    /// <summary>True when nothing can ever be due (never, only exclusions, or only dropped ranges).</summary>
    public bool Never => !Expressions.Any(e => !e.Exclude && e.Ranges.Count > 0);

    public static int IsoWeekday(DateOnly date) => date.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)date.DayOfWeek;

    public static bool TryParse(string? text, out Schedule? schedule, out string? error)
    {
        schedule = null;
        error = null;
        var definition = text?.Trim() ?? "";
        if (IsNever(definition))
        {
            schedule = new Schedule(definition, []);
            return true;
        }
        IReadOnlyList<string> members = [definition];
        if (definition.StartsWith('['))
        {
            try
            {
                members = JsonSerializer.Deserialize<List<string>>(definition) ?? [];
            }
            catch (JsonException)
            {
                error = "a list of schedules is a JSON list of strings: [\"00:00-01:00@61 mon\", \"02:00-03:00@61 tue-sun\"]";
                return false;
            }
        }
        var expressions = new List<ScheduleExpression>();
        foreach (var member in members)
        {
            if (IsNever(member))
                continue;
            if (!TryExpression(member.Trim(), out var expression, out var why))
            {
                error = members.Count > 1 ? $"'{member}': {why}" : why;
                return false;
            }
            expressions.Add(expression!);
        }
        schedule = new Schedule(definition, expressions);
        return true;
    }

    static bool TryExpression(string text, out ScheduleExpression? expression, out string? error)
    {
        expression = null;
        var exclude = text.StartsWith('!');
        var body = exclude ? text[1..].Trim() : text;
        var fields = body.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is 0 or > 4)
        {
            error = $"expected '[!] <timeranges> [<days> [<weeks> [<months>]]]', got {fields.Length} field(s)";
            return false;
        }
        var ranges = new List<ScheduleRange>();
        foreach (var part in fields[0].Split(','))
        {
            if (!TryRange(part, out var range, out error))
                return false;
            if (range is not null)
                ranges.Add(range);
        }
        IReadOnlyList<ScheduleDay> days = [.. Enumerable.Range(1, 7).Select(d => new ScheduleDay(d, 0))];
        if (fields.Length > 1 && !TryDays(fields[1], out days, out error))
            return false;
        IReadOnlySet<int> weeks = Enumerable.Range(1, 53).ToHashSet();
        if (fields.Length > 2 && !TryCalendar(fields[2], 53, "week", out weeks, out error))
            return false;
        IReadOnlySet<int> months = Enumerable.Range(1, 12).ToHashSet();
        if (fields.Length > 3 && !TryMonths(fields[3], out months, out error))
            return false;
        expression = new ScheduleExpression(text, exclude, ranges, days, weeks, months);
        error = null;
        return true;
    }

    /// <summary>A range, or null for a dropped one (<c>@0</c>).</summary>
    static bool TryRange(string text, out ScheduleRange? range, out string? error)
    {
        range = null;
        error = null;
        var tilde = text.StartsWith('~');
        var spec = tilde ? text[1..] : text;
        long? interval = null;
        var at = spec.IndexOf('@');
        if (at >= 0)
        {
            var intervalText = spec[(at + 1)..];
            if (intervalText.Contains('@'))
            {
                error = $"'{text}': only one @<interval> is allowed";
                return false;
            }
            if (!Converters.TryDuration(intervalText, out var seconds, 60) || seconds < 0)
            {
                error = $"'{text}': interval '{intervalText}' is not a duration (minutes, or e.g. 90s, 2h, 1d)";
                return false;
            }
            if (seconds == 0)
                return true;
            interval = seconds;
            spec = spec[..at];
        }
        int begin, end;
        if (spec is "" or "*")
        {
            (begin, end) = (0, ScheduleRange.Day);
            interval ??= spec == "*" ? ScheduleRange.Day : null;
        }
        else
        {
            var bounds = spec.Split('-');
            if (bounds.Length > 2 || !TryTime(bounds[0], out begin) || !TryTime(bounds[^1], out end))
            {
                error = $"'{text}' is not a time range ([~]HH:MM[-HH:MM][@interval], @interval or *)";
                return false;
            }
            if (begin == end)
                end++; // a single time: a one-second range
        }
        var r = new ScheduleRange(begin, end, 0, false);
        // OpenSVC randomizes only when the range runs once (its interval covers the whole range).
        range = r with { Interval = interval ?? r.Length, Randomized = tilde && r.Length > 1 && (interval is null || interval > r.Length) };
        return true;
    }

    static bool TryTime(string text, out int seconds)
    {
        seconds = 0;
        var parts = text.Split(':');
        if (parts.Length is < 2 or > 3)
            return false;
        var values = new int[3];
        int[] max = [23, 59, 59];
        for (var i = 0; i < parts.Length; i++)
            if (parts[i].Length is 0 or > 2 || !int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) || values[i] > max[i])
                return false;
        seconds = values[0] * 3600 + values[1] * 60 + values[2];
        return true;
    }

    static bool TryDays(string text, out IReadOnlyList<ScheduleDay> days, out string? error)
    {
        var result = new List<ScheduleDay>();
        days = result;
        error = null;
        foreach (var part in text.Split(','))
        {
            var colon = part.Split(':');
            if (colon.Length > 2)
            {
                error = $"'{part}': only one ':' is allowed in a day (dow[:monthday])";
                return false;
            }
            var monthDay = 0;
            if (colon.Length == 2 && !TryMonthDay(colon[1], out monthDay))
            {
                error = $"'{part}': '{colon[1]}' is not a day of the month (first..fifth, 1st..5th, last, N or -N, not 0)";
                return false;
            }
            if (colon.Length == 1 && TryMonthDay(part, out _) && !TryName(part, 7, out _))
            {
                // OpenSVC drops such a member silently: its own doc example '*:1,-1' runs on the 1st only.
                error = $"'{part}' is a day of the month without a day of week (OpenSVC drops it silently); write *:{part}";
                return false;
            }
            if (!TryCalendar(colon[0], 7, "day of week", out var weekdays, out error))
                return false;
            result.AddRange(weekdays.Order().Select(d => new ScheduleDay(d, monthDay)));
        }
        return true;
    }

    static bool TryMonthDay(string text, out int day)
    {
        day = 0;
        var i = Array.IndexOf(Nth, text.ToLowerInvariant());
        if (i < 0)
            i = Array.IndexOf(NthShort, text.ToLowerInvariant());
        if (i >= 0)
            day = i + 1;
        else if (text.Equals("last", StringComparison.OrdinalIgnoreCase))
            day = -1;
        else if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out day))
            return false;
        return day is not 0 and >= -31 and <= 31;
    }

    static bool TryMonths(string text, out IReadOnlySet<int> months, out string? error)
    {
        var result = new HashSet<int>();
        months = result;
        error = null;
        foreach (var part in text.Split(','))
        {
            var modulo = part.Split('%');
            if (modulo.Length > 2)
            {
                error = $"'{part}': only one '%' is allowed in a month filter";
                return false;
            }
            if (!TryCalendar(modulo[0], 12, "month", out var set, out error))
                return false;
            if (modulo.Length == 2)
            {
                var plus = modulo[1].Split('+');
                var shift = 0;
                if (plus.Length > 2 || !int.TryParse(plus[0], NumberStyles.None, CultureInfo.InvariantCulture, out var m) || m == 0
                    || (plus.Length == 2 && !int.TryParse(plus[1], NumberStyles.None, CultureInfo.InvariantCulture, out shift)))
                {
                    error = $"'{part}': '%{modulo[1]}' is not %modulo[+shift] (e.g. %2, %2+1)";
                    return false;
                }
                set = set.Where(x => (x + shift) % m == 0).ToHashSet();
            }
            result.UnionWith(set);
        }
        return true;
    }

    /// <summary>A comma-separated list of names or numbers and ranges that wrap (<c>nov-feb</c>), or <c>*</c>.</summary>
    static bool TryCalendar(string text, int max, string what, out IReadOnlySet<int> values, out string? error)
    {
        var result = new HashSet<int>();
        values = result;
        error = null;
        if (text is "*" or "")
        {
            result.UnionWith(Enumerable.Range(1, max));
            return true;
        }
        foreach (var part in text.Split(','))
        {
            var dash = part.Length > 1 ? part.IndexOf('-', 1) : -1;
            var from = dash < 0 ? part : part[..dash];
            var to = dash < 0 ? part : part[(dash + 1)..];
            if (!TryName(from, max, out var a) || !TryName(to, max, out var b))
            {
                error = $"'{part}' is not a {what} or {what} range (names or 1-{max}, e.g. {(max == 7 ? "mon-fri, sat,sun" : max == 12 ? "jan, nov-feb" : "1-26")})";
                return false;
            }
            for (var v = a; ; v = v % max + 1)
            {
                result.Add(v);
                if (v == b)
                    break;
            }
        }
        return true;
    }

    static bool TryName(string text, int max, out int value)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value))
            return value >= 1 && value <= max;
        var names = max switch { 7 => DayNames, 12 => MonthNames, _ => null };
        return names is not null && names.TryGetValue(text, out value);
    }

    /// <summary>
    /// The one point of a randomized range on a date: a whole minute in the range chosen from a hash of
    /// <paramref name="key"/> (service and resource), the expression, the range and the date. Every agent computes the
    /// same point, so a randomized schedule still fires once, at one known time.
    /// </summary>
    public static int RandomPoint(ScheduleRange range, string key, int expression, int rangeIndex, DateOnly date)
    {
        ArgumentNullException.ThrowIfNull(range);
        var minutes = (range.Length - 1) / 60 + 1;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{key}|{expression}|{rangeIndex}|{date:yyyy-MM-dd}"));
        var offset = (int)(BitConverter.ToUInt32(hash, 0) % (uint)minutes) * 60;
        return (range.Begin + offset) % ScheduleRange.Day;
    }

    /// <summary>
    /// The rule itself, at one local wall-clock instant (whole seconds): due when an including expression matches the
    /// date, one of its ranges holds the time with its interval elapsed since <paramref name="last"/>, and no excluding
    /// expression holds it. The reference the fast <see cref="NextDue"/> is tested against.
    /// </summary>
    public bool IsDue(DateTime local, DateTime? last, string key)
    {
        var date = DateOnly.FromDateTime(local);
        var second = (int)local.TimeOfDay.TotalSeconds;
        if (Excluded(date, second) is not null)
            return false;
        for (var e = 0; e < Expressions.Count; e++)
        {
            var x = Expressions[e];
            if (x.Exclude || !x.MatchesDate(date))
                continue;
            for (var r = 0; r < x.Ranges.Count; r++)
            {
                var range = x.Ranges[r];
                var holds = range.Randomized ? RandomPoint(range, key, e, r, date) == second : range.Contains(second);
                if (holds && (last is null || (local - last.Value).TotalSeconds >= range.Interval))
                    return true;
            }
        }
        return false;
    }

    /// <summary>The last second of the exclusion holding this instant, or null when none does.</summary>
    int? Excluded(DateOnly date, int second)
    {
        int? until = null;
        foreach (var x in Expressions)
        {
            if (!x.Exclude || !x.MatchesDate(date))
                continue;
            foreach (var range in x.Ranges)
                if (range.Contains(second))
                {
                    var end = range.Wraps && second >= range.Begin ? ScheduleRange.Day - 1 : range.End - 1;
                    until = Math.Max(until ?? end, end);
                }
        }
        return until;
    }

    /// <summary>
    /// The earliest instant at or after <paramref name="after"/> (rounded up to a whole second) that is due, given the
    /// previous run <paramref name="last"/> (null: never ran), evaluated in <paramref name="zone"/>'s wall clock as OpenSVC
    /// evaluates schedules in the node's local time. Null: never (within eight years).
    /// </summary>
    public DateTimeOffset? NextDue(DateTimeOffset after, DateTimeOffset? last, TimeZoneInfo zone, string key)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if (Never)
            return null;
        var ticks = after.UtcTicks % TimeSpan.TicksPerSecond;
        var start = ticks == 0 ? after.ToUniversalTime() : after.ToUniversalTime().AddTicks(TimeSpan.TicksPerSecond - ticks);
        var startLocal = TimeZoneInfo.ConvertTimeFromUtc(start.UtcDateTime, zone);
        DateTime? lastLocal = last is { } l ? TimeZoneInfo.ConvertTimeFromUtc(l.UtcDateTime, zone) : null;
        var firstDate = DateOnly.FromDateTime(startLocal);
        for (var day = 0; day < HorizonDays; day++)
        {
            var date = firstDate.AddDays(day);
            var floor = day == 0 ? (int)startLocal.TimeOfDay.TotalSeconds : 0;
            while (Earliest(date, floor, lastLocal, key) is { } second)
            {
                var local = date.ToDateTime(TimeOnly.MinValue).AddSeconds(second);
                if (!zone.IsInvalidTime(local))
                {
                    var utc = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero);
                    if (utc >= start)
                        return utc;
                }
                floor = second + 1; // a wall-clock time the zone skips (or one already past): look further that day
                if (floor >= ScheduleRange.Day)
                    break;
            }
        }
        return null;
    }

    /// <summary>The next <paramref name="count"/> due times from <paramref name="after"/>, each run counted as the last of the next.</summary>
    public IReadOnlyList<DateTimeOffset> DueTimes(DateTimeOffset after, DateTimeOffset? last, int count, TimeZoneInfo zone, string key)
    {
        var result = new List<DateTimeOffset>();
        var from = after;
        while (result.Count < count && NextDue(from, last, zone, key) is { } due)
        {
            result.Add(due);
            last = due;
            from = due.AddSeconds(1);
        }
        return result;
    }

    /// <summary>The earliest due second of one date at or after <paramref name="floor"/>, or null.</summary>
    int? Earliest(DateOnly date, int floor, DateTime? last, string key)
    {
        int? best = null;
        var midnight = date.ToDateTime(TimeOnly.MinValue);
        for (var e = 0; e < Expressions.Count; e++)
        {
            var x = Expressions[e];
            if (x.Exclude || !x.MatchesDate(date))
                continue;
            for (var r = 0; r < x.Ranges.Count; r++)
            {
                var range = x.Ranges[r];
                var low = floor;
                if (last is { } l)
                {
                    var ready = (l - midnight).TotalSeconds + range.Interval;
                    if (ready >= ScheduleRange.Day)
                        continue;
                    low = Math.Max(low, (int)Math.Ceiling(ready));
                }
                IEnumerable<(int From, int To)> segments = range.Randomized
                    ? [(RandomPoint(range, key, e, r, date), RandomPoint(range, key, e, r, date))]
                    : range.Wraps ? [(0, range.End - 1), (range.Begin, ScheduleRange.Day - 1)] : [(range.Begin, range.End - 1)];
                foreach (var (from, to) in segments)
                {
                    var s = Math.Max(from, low);
                    while (s <= to && Excluded(date, s) is { } until)
                        s = until + 1;
                    if (s <= to && (best is null || s < best))
                        best = s;
                }
            }
        }
        return best;
    }
}
