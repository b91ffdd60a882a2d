using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace OpenSvc.Domain.Config;

/// <summary>
/// Turns an OpenSVC schedule into cron expressions (one per time window) for a recurring job.
/// <c>~A-B</c> becomes one run a day at a fixed pseudo-random minute of the window (stable per resource, so
/// every agent computes the same); <c>A-B@N</c> and <c>@N</c> become every N minutes inside the window. An
/// interval cron cannot express exactly (121 minutes) is rounded to the nearest it can, and said so.
/// </summary>
public static class ScheduleCron
{
    public sealed record CronWindow(string Cron, string Description, string? Approximation);

    public static IReadOnlyList<CronWindow> From(Schedule schedule, string stableKey)
    {
        var dow = schedule.Days.Count == 7 ? "*" : string.Join(',', schedule.Days.Order().Select(d => ((int)d).ToString(CultureInfo.InvariantCulture)));
        var result = new List<CronWindow>();
        foreach (var w in schedule.Windows)
        {
            // The window's end is exclusive: 04:00-06:00 covers hours 4 and 5.
            var lastHour = w.End.Minute == 0 && w.End.Hour > w.Start.Hour ? w.End.Hour - 1 : w.End.Hour;
            var hours = w.Start.Hour == lastHour ? $"{w.Start.Hour}" : $"{w.Start.Hour}-{lastHour}";
            if (w.Randomized || w.IntervalMinutes is null)
            {
                var span = Math.Max(1, (int)(w.End - w.Start).TotalMinutes);
                var at = w.Start.AddMinutes(Pick(stableKey + w, span));
                result.Add(new CronWindow($"{at.Minute} {at.Hour} * * {dow}", $"daily at {at:HH\\:mm}{(w.Randomized ? $" (random in {w.Start:HH\\:mm}-{w.End:HH\\:mm}, fixed per resource)" : "")}", null));
                continue;
            }
            var n = w.IntervalMinutes.Value;
            if (n < 60)
            {
                var step = Divisors(60).MinBy(d => Math.Abs(d - n));
                result.Add(new CronWindow($"*/{step} {hours} * * {dow}", $"every {step} min in {w.Start:HH\\:mm}-{w.End:HH\\:mm}",
                    step == n ? null : $"@{n} rounded to every {step} minutes"));
            }
            else
            {
                var h = Divisors(24).MinBy(d => Math.Abs(d * 60 - n));
                var range = w.Start.Hour == 0 && w.End.Hour == 23 ? "*" : hours;
                result.Add(new CronWindow($"{w.Start.Minute} {range}/{h} * * {dow}", $"every {h} h in {w.Start:HH\\:mm}-{w.End:HH\\:mm}",
                    h * 60 == n ? null : $"@{n} rounded to every {h} hours"));
            }
        }
        return result;
    }

    static int[] Divisors(int of) => Enumerable.Range(1, of).Where(d => of % d == 0).ToArray();

    static int Pick(string key, int span)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        return (int)(BitConverter.ToUInt32(hash, 0) % (uint)span);
    }
}
