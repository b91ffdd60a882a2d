using System.Globalization;
using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

public class ScheduleTests
{
    const string Key = "svc1/sync#0";

    static Schedule Parse(string text)
    {
        Schedule.TryParse(text, out var schedule, out var error).Should().BeTrue(error);
        return schedule!;
    }

    static DateTimeOffset At(string text) =>
        DateTimeOffset.ParseExact(text, ["yyyy-MM-dd HH:mm", "yyyy-MM-dd HH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    static string[] Due(string schedule, string from, int count, string? last = null) =>
        Parse(schedule).DueTimes(At(from), last is null ? null : At(last), count, TimeZoneInfo.Utc, Key)
            .Select(d => d.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).ToArray();

    static bool Allowed(string schedule, string at, string? last = null) =>
        Parse(schedule).IsDue(At(at).UtcDateTime, last is null ? null : At(last).UtcDateTime, Key);

    // OpenSVC's own table of instants a schedule allows (opensvc/tests/corelib/test_scheduler.py SCHEDULES_ALLOWED), with
    // no previous run and with one long ago.
    [Theory]
    [InlineData("*", "2015-02-27 10:00")]
    [InlineData("*@61", "2015-02-27 10:00")]
    [InlineData("09:20-09:00", "2015-02-27 10:00")]
    [InlineData("09:00-09:20", "2015-02-27 09:09")]
    [InlineData("09:00-09:20@31", "2015-02-27 09:09")]
    [InlineData("* fri", "2015-10-09 10:00")]
    [InlineData("* *:fifth", "2015-01-05 10:00")]
    [InlineData("* *:first", "2015-01-01 10:00")]
    [InlineData("* *:1st", "2015-01-01 10:00")]
    [InlineData("* *:last", "2015-01-31 10:00")]
    [InlineData("* :last", "2015-01-31 10:00")]
    [InlineData("* :5", "2015-01-05 10:00")]
    [InlineData("* :+5", "2015-01-05 10:00")]
    [InlineData("* :-1", "2015-01-31 10:00")]
    [InlineData("* :-4", "2015-01-28 10:00")]
    [InlineData("* *:-2", "2015-01-30 10:00")]
    [InlineData("* * * jan", "2015-01-06 10:00")]
    [InlineData("* * * jan-feb", "2015-01-06 10:00")]
    [InlineData("* * * %2+1", "2015-01-06 10:00")]
    [InlineData("* * * jan-feb%2+1", "2015-01-06 10:00")]
    [InlineData("18:00-18:59@60 wed", "2016-08-31 18:00")]
    [InlineData("23:00-23:59@61 *:first", "2016-09-01 23:00")]
    [InlineData("23:00-00:59", "2016-09-01 23:00")]
    [InlineData("@10", "2015-02-27 10:00")]
    public void instants_opensvc_allows_are_due(string schedule, string at)
    {
        Allowed(schedule, at).Should().BeTrue();
        Allowed(schedule, at, "1902-04-01 23:10").Should().BeTrue();
    }

    // SCHEDULES_NOT_ALLOWED of the same file: each evaluated with the instant itself as the previous run, as there.
    [Theory]
    [InlineData("", "2015-02-27 10:00")]
    [InlineData("@0", "2015-02-27 10:00")]
    [InlineData("*@0", "2015-02-27 10:00")]
    [InlineData("09:00-09:20", "2015-02-27 10:00")]
    [InlineData("09:00-09:20@31", "2015-02-27 10:00")]
    [InlineData("09:00", "2015-02-27 10:00")]
    [InlineData("09:00", "2015-02-27 09:09")]
    [InlineData("09:20-09:00", "2015-02-27 09:09")]
    [InlineData("* fri", "2015-10-08 10:00")]
    [InlineData("* *:-2", "2015-01-24 10:00")]
    [InlineData("* *:-2", "2015-01-31 10:00")]
    [InlineData("* :last", "2015-01-30 10:00")]
    [InlineData("* :5", "2015-01-06 10:00")]
    [InlineData("* :fifth", "2015-01-06 10:00")]
    [InlineData("* * * %2", "2015-01-06 10:00")]
    [InlineData("* * * jan-feb%2", "2015-01-06 10:00")]
    public void instants_opensvc_refuses_are_not_due(string schedule, string at)
    {
        Allowed(schedule, at, at).Should().BeFalse();
        Allowed(schedule, at).Should().BeFalse("each is outside its days or times, whatever the last run");
    }

    [Theory]
    [InlineData("@10", "2015-02-27 10:00", "2015-02-27 09:52")]
    [InlineData("@10s", "2015-02-27 10:00:15", "2015-02-27 10:00:08")]
    public void a_run_too_soon_after_the_last_is_not_due(string schedule, string at, string last) =>
        Allowed(schedule, at, last).Should().BeFalse();

    [Theory]
    [InlineData("@3s", 3)]
    [InlineData("*@6s", 6)]
    [InlineData("*@06s", 6)]
    [InlineData("10:00-18:00@10s", 10)]
    [InlineData("@121", 121 * 60)]
    [InlineData("04:00-06:00@2h", 7200)]
    [InlineData("@1h30m", 5400)]
    [InlineData("04:00-06:00", 7200)]
    [InlineData("*", 86400)]
    public void intervals_are_durations_with_minutes_by_default(string schedule, long seconds) =>
        Parse(schedule).Expressions.Single().Ranges.Single().Interval.Should().Be(seconds);

    // The documented examples (usr/share/doc/schedule, the sync schedule keyword's example) and the issue's cases.
    [Theory]
    [InlineData("04:00 * * jan", "2026-12-02 00:00", new[] { "2027-01-01 04:00:00", "2027-01-02 04:00:00" })]
    [InlineData("@45", "2026-12-02 10:00", new[] { "2026-12-02 10:00:00", "2026-12-02 10:45:00", "2026-12-02 11:30:00", "2026-12-02 12:15:00" })]
    [InlineData("@90", "2026-12-02 23:00", new[] { "2026-12-02 23:00:00", "2026-12-03 00:30:00", "2026-12-03 02:00:00" })]
    [InlineData("@121", "2026-12-02 10:00", new[] { "2026-12-02 10:00:00", "2026-12-02 12:01:00", "2026-12-02 14:02:00" })]
    [InlineData("@1h", "2026-12-02 10:20", new[] { "2026-12-02 10:20:00", "2026-12-02 11:20:00" })]
    [InlineData("04:00-06:00@2h", "2026-12-02 00:00", new[] { "2026-12-02 04:00:00", "2026-12-03 04:00:00" })]
    [InlineData("04:00-06:00@1h", "2026-12-02 00:00", new[] { "2026-12-02 04:00:00", "2026-12-02 05:00:00", "2026-12-03 04:00:00" })]
    [InlineData("04:00-06:00", "2026-12-02 00:00", new[] { "2026-12-02 04:00:00", "2026-12-03 04:00:00" })]
    [InlineData("04:00-06:00@121", "2026-12-02 00:00", new[] { "2026-12-02 04:00:00", "2026-12-03 04:00:00" })]
    [InlineData("04:00-06:00@60", "2026-12-02 05:30", new[] { "2026-12-02 05:30:00", "2026-12-03 04:00:00", "2026-12-03 05:00:00" })]
    [InlineData("[\"00:00-01:00@61 mon\", \"02:00-03:00@61 tue-sun\"]", "2026-11-29 12:00", new[] { "2026-11-30 00:00:00", "2026-12-01 02:00:00", "2026-12-02 02:00:00" })]
    [InlineData("[\"@60\", \"!04:00-06:00\"]", "2026-12-02 03:00", new[] { "2026-12-02 03:00:00", "2026-12-02 06:00:00", "2026-12-02 07:00:00" })]
    [InlineData("[\"06:00-07:00@1h *:1,*:-1\", \"! * * * feb\"]", "2027-01-15 00:00", new[] { "2027-01-31 06:00:00", "2027-03-01 06:00:00", "2027-03-31 06:00:00" })]
    [InlineData("16:00-17:00@1m sat:last,tue-mon:last * %2+1,feb-apr", "2026-01-01 00:00", new[] { "2026-01-31 16:00:00", "2026-01-31 16:01:00" })]
    [InlineData("09:00 sat,sun", "2026-12-02 00:00", new[] { "2026-12-05 09:00:00", "2026-12-06 09:00:00", "2026-12-12 09:00:00" })]
    [InlineData("23:00-01:00@1h", "2026-12-02 22:00", new[] { "2026-12-02 23:00:00", "2026-12-03 00:00:00", "2026-12-03 23:00:00", "2026-12-04 00:00:00" })]
    [InlineData("12:00 * 53", "2026-01-01 00:00", new[] { "2026-12-28 12:00:00", "2026-12-29 12:00:00" })]
    public void documented_and_reported_schedules_fire_when_opensvc_fires_them(string schedule, string from, string[] expected) =>
        Due(schedule, from, expected.Length).Should().Equal(expected);

    [Theory]
    [InlineData("")]
    [InlineData("@0")]
    [InlineData("*@0")]
    [InlineData("[]")]
    [InlineData("!04:00-06:00")]
    [InlineData("* sun:31 * feb")]
    public void never_schedules_have_no_due_time(string schedule)
    {
        Parse(schedule).NextDue(At("2026-12-02 00:00"), null, TimeZoneInfo.Utc, Key).Should().BeNull();
        Due(schedule, "2026-12-02 00:00", 1).Should().BeEmpty();
    }

    [Fact]
    public void a_randomized_window_fires_once_a_day_at_one_point_every_agent_computes_alike()
    {
        var due = Due("~04:00-06:00", "2026-12-02 00:00", 20);
        due.Should().HaveCount(20);
        due.Select(d => d[..10]).Should().OnlyHaveUniqueItems("once a day");
        due.Select(d => TimeSpan.Parse(d[11..], CultureInfo.InvariantCulture)).Should()
            .OnlyContain(t => t >= TimeSpan.FromHours(4) && t < TimeSpan.FromHours(6));
        due.Select(d => d[11..]).Distinct().Should().HaveCountGreaterThan(5, "the point moves from day to day");
        Due("~04:00-06:00", "2026-12-02 00:00", 20).Should().Equal(due, "the same key gives the same points");
        Parse("~04:00-06:00").DueTimes(At("2026-12-02 00:00"), null, 20, TimeZoneInfo.Utc, "svc2/sync#0")
            .Select(d => d.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Should().NotEqual(due, "another resource spreads elsewhere");
    }

    [Fact]
    public void a_tilde_with_a_shorter_interval_is_not_randomized_as_in_opensvc()
    {
        Parse("~04:00-06:00@30").Expressions.Single().Ranges.Single().Randomized.Should().BeFalse();
        Due("~04:00-06:00@30", "2026-12-02 00:00", 2).Should().Equal("2026-12-02 04:00:00", "2026-12-02 04:30:00");
    }

    [Fact]
    public void schedules_are_read_in_the_zone_given()
    {
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        Parse("04:00").NextDue(At("2026-12-02 00:00"), null, paris, Key).Should().Be(At("2026-12-02 03:00"), "04:00 in Paris in winter is 03:00 UTC");
        Parse("04:00").NextDue(At("2026-07-02 00:00"), null, paris, Key).Should().Be(At("2026-07-02 02:00"), "and 02:00 UTC in summer");
        Parse("02:30").NextDue(At("2026-03-29 00:00"), null, paris, Key).Should().Be(At("2026-03-30 00:30"), "02:30 does not exist the day clocks go forward");
    }

    [Theory]
    [InlineData("23:00-23:59@61 *:first:*")]
    [InlineData("23:00-23:59@61 *:")]
    [InlineData("23:00-23:59@61 *:*")]
    [InlineData("23:00-23:59@61 * * %2%3")]
    [InlineData("23:00-23:59@61 * * %2+1+2")]
    [InlineData("23:00-23:59@61 * * %foo")]
    [InlineData("23:00-23:59@61 * * %2+foo")]
    [InlineData("23:00-23:59@61 freday")]
    [InlineData("23:00-23:59@61 * * junuary")]
    [InlineData("23:00-23:59-01:00@61")]
    [InlineData("23:00-23:59@61@10")]
    [InlineData("23:00-23:02 mon 1 12 4")]
    [InlineData("21-22 mon 1 12")]
    [InlineData("14-15")]
    [InlineData("25:00-26:00")]
    [InlineData("04:00-06:00@x")]
    [InlineData("04:00 funday")]
    [InlineData("* :0")]
    [InlineData("* 8")]
    [InlineData("* * 54")]
    [InlineData("* * * 13")]
    [InlineData("* * * mon")]
    [InlineData("[\"@30\", 5]")]
    [InlineData("[\"06:00-07:00@1h *:1,-1\", \"! * * * feb\"]")]
    [InlineData("[\"@30\"")]
    public void invalid_schedules_are_refused_with_a_reason(string text)
    {
        Schedule.TryParse(text, out var schedule, out var error).Should().BeFalse();
        schedule.Should().BeNull();
        error.Should().NotBeNullOrEmpty();
    }

    /// <summary>
    /// The fast search against the rule itself, applied minute by minute (every generated boundary, interval, random
    /// point and previous run is a whole minute, so the first due minute is the first due instant).
    /// </summary>
    [Fact]
    public void next_due_is_the_first_minute_the_rule_allows_for_random_schedules()
    {
        var random = new Random(20261202);
        string Time() => $"{random.Next(24):00}:{random.Next(4) * 15 + random.Next(2) * 7:00}";
        string Range() => random.Next(7) switch
        {
            0 => "*",
            1 => $"@{random.Next(1, 200)}",
            2 => $"{(random.Next(3) == 0 ? "~" : "")}{Time()}-{Time()}",
            3 => $"{Time()}-{Time()}@{random.Next(1, 150)}",
            4 => $"{Time()}-{Time()}@{random.Next(1, 4)}h",
            5 => Time(),
            _ => $"~{Time()}-{Time()}@{random.Next(1, 30)}h",
        };
        string[] days = ["*", "mon-fri", "sat,sun", "*:1", "*:-1", "fri:last", "wed:2,thu:-3", "sun-tue", "*:5,*:20"];
        string[] weeks = ["*", "1-26", "50-2", "*", "10-40"];
        string[] months = ["*", "%2", "jan-mar", "nov-feb", "%3+1,jun"];
        string Expression()
        {
            var text = string.Join(',', Enumerable.Range(0, random.Next(1, 3)).Select(_ => Range()));
            var fields = random.Next(4);
            if (fields >= 1) text += " " + days[random.Next(days.Length)];
            if (fields >= 2) text += " " + weeks[random.Next(weeks.Length)];
            if (fields >= 3) text += " " + months[random.Next(months.Length)];
            return text;
        }
        var checkedCases = 0;
        for (var i = 0; i < 150; i++)
        {
            var members = new List<string> { Expression() };
            if (random.Next(3) == 0)
                members.Add(Expression());
            if (random.Next(2) == 0)
                members.Add($"!{Time()}-{Time()}" + (random.Next(2) == 0 ? " " + days[random.Next(days.Length)] : ""));
            var text = members.Count == 1 ? members[0] : "[" + string.Join(", ", members.Select(m => $"\"{m}\"")) + "]";
            var schedule = Parse(text);
            var after = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(random.Next(0, 2 * 365 * 1440));
            DateTime? last = random.Next(3) == 0 ? null : after.AddMinutes(-random.Next(0, 3000));
            var fast = schedule.NextDue(new DateTimeOffset(after), last is null ? null : new DateTimeOffset(last.Value), TimeZoneInfo.Utc, Key);
            var horizon = after.AddDays(120);
            DateTime? reference = null;
            for (var t = after; t < horizon; t = t.AddMinutes(1))
                if (schedule.IsDue(t, last, Key))
                {
                    reference = t;
                    break;
                }
            if (reference is null)
                (fast is null || fast.Value.UtcDateTime >= horizon).Should().BeTrue($"'{text}' from {after:O} (last {last:O}): nothing due in 120 days, got {fast:O}");
            else
            {
                fast.Should().Be(new DateTimeOffset(reference.Value), $"'{text}' from {after:O} (last {last:O})");
                checkedCases++;
            }
        }
        checkedCases.Should().BeGreaterThan(100, "most generated schedules fire within 120 days");
    }

    [Theory]
    [InlineData("mon", new[] { 1 })]
    [InlineData("sun-tue", new[] { 1, 2, 7 })]
    [InlineData("sun-fri", new[] { 1, 2, 3, 4, 5, 7 })]
    [InlineData("mon-monday", new[] { 1 })]
    [InlineData("5-2", new[] { 1, 2, 5, 6, 7 })]
    public void day_ranges_wrap_as_in_opensvc(string days, int[] expected) =>
        Parse($"* {days}").Expressions.Single().Days.Select(d => d.IsoWeekday).Should().BeEquivalentTo(expected);

    [Theory]
    [InlineData("nov-feb", new[] { 1, 2, 11, 12 })]
    [InlineData("%2", new[] { 2, 4, 6, 8, 10, 12 })]
    [InlineData("%2+1,feb-apr", new[] { 1, 2, 3, 4, 5, 7, 9, 11 })]
    public void month_ranges_wrap_and_filter_by_modulo(string months, int[] expected) =>
        Parse($"* * * {months}").Expressions.Single().Months.Should().BeEquivalentTo(expected);

    [Theory]
    [InlineData("50-2", new[] { 1, 2, 50, 51, 52, 53 })]
    [InlineData("8-10", new[] { 8, 9, 10 })]
    public void week_ranges_wrap(string weeks, int[] expected) =>
        Parse($"* * {weeks}").Expressions.Single().Weeks.Should().BeEquivalentTo(expected);
}
