using System.Globalization;

namespace OpenSvc.Domain.Config;

/// <summary>A time window of a schedule: from Start to End, every Interval, or once at a random time (<c>~</c>).</summary>
public sealed record ScheduleWindow(TimeOnly Start, TimeOnly End, int? IntervalMinutes, bool Randomized);

/// <summary>
/// OpenSVC's schedule syntax, first two fields: <c>&lt;times&gt; [&lt;days&gt;]</c>. Times are comma-separated
/// <c>HH:MM-HH:MM</c> windows with optional <c>@minutes</c> interval and optional <c>~</c> (run once at a
/// random time in the window); <c>@30</c> alone is every 30 minutes all day; <c>*</c> is all day.
/// Days are comma-separated names or ranges (<c>sat,sun</c>, <c>mon-fri</c>, <c>*</c>). Week and month
/// filters are kept as text, not interpreted.
/// </summary>
public sealed record Schedule(IReadOnlyList<ScheduleWindow> Windows, IReadOnlySet<DayOfWeek> Days, string? Weeks, string? Months)
{
    static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    /// <summary>An empty definition or <c>@0</c>: OpenSVC never runs the task.</summary>
    public static bool IsNever(string? text) => string.IsNullOrWhiteSpace(text) || text.Trim() == "@0";

    public static bool TryParse(string? text, out Schedule? schedule, out string? error)
    {
        schedule = null;
        error = null;
        var fields = Converters.List(text);
        if (fields.Count == 0 || fields.Count > 4)
        {
            error = "expected '<times> [<days> [<weeks> [<months>]]]'";
            return false;
        }
        var windows = new List<ScheduleWindow>();
        foreach (var part in fields[0].Split(','))
        {
            if (!TryWindow(part, out var window))
            {
                error = $"'{part}' is not a time window (HH:MM-HH:MM[@minutes], ~HH:MM-HH:MM, @minutes or *)";
                return false;
            }
            windows.Add(window!);
        }
        var days = new HashSet<DayOfWeek>();
        if (fields.Count < 2 || fields[1] == "*")
            days.UnionWith(Enum.GetValues<DayOfWeek>());
        else
        {
            foreach (var part in fields[1].Split(','))
            {
                var range = part.Split('-');
                var from = Array.IndexOf(DayNames, range[0].ToLowerInvariant());
                var to = range.Length == 2 ? Array.IndexOf(DayNames, range[1].ToLowerInvariant()) : from;
                if (range.Length > 2 || from < 0 || to < 0)
                {
                    error = $"'{part}' is not a day or day range (mon, sat,sun, mon-fri)";
                    return false;
                }
                for (var d = from; ; d = (d + 1) % 7)
                {
                    days.Add((DayOfWeek)d);
                    if (d == to)
                        break;
                }
            }
        }
        schedule = new Schedule(windows, days, fields.Count > 2 ? fields[2] : null, fields.Count > 3 ? fields[3] : null);
        return true;
    }

    static bool TryWindow(string text, out ScheduleWindow? window)
    {
        window = null;
        var randomized = text.StartsWith('~');
        if (randomized)
            text = text[1..];
        int? interval = null;
        var at = text.IndexOf('@');
        if (at >= 0)
        {
            if (!int.TryParse(text[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) || minutes <= 0)
                return false;
            interval = minutes;
            text = text[..at];
        }
        TimeOnly start = TimeOnly.MinValue, end = new(23, 59, 59);
        if (text.Length > 0 && text != "*")
        {
            var dash = text.IndexOf('-');
            var startText = dash < 0 ? text : text[..dash];
            var endText = dash < 0 ? text : text[(dash + 1)..];
            if (!TryTime(startText, out start) || !TryTime(endText, out end))
                return false;
        }
        window = new ScheduleWindow(start, end, interval, randomized);
        return true;
    }

    static bool TryTime(string text, out TimeOnly time) =>
        TimeOnly.TryParseExact(text, ["H:mm", "HH:mm"], CultureInfo.InvariantCulture, DateTimeStyles.None, out time);
}
