using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

public class ScheduleTests
{
    static Schedule Parse(string text)
    {
        Schedule.TryParse(text, out var schedule, out var error).Should().BeTrue(error);
        return schedule!;
    }

    [Fact]
    public void an_interval_alone_runs_all_day_every_day()
    {
        var s = Parse("@30");

        s.Windows.Should().Equal(new ScheduleWindow(TimeOnly.MinValue, new TimeOnly(23, 59, 59), 30, false));
        s.Days.Should().HaveCount(7);
    }

    [Fact]
    public void a_window_with_an_interval()
    {
        Parse("04:00-06:00@121").Windows.Should().Equal(new ScheduleWindow(new TimeOnly(4, 0), new TimeOnly(6, 0), 121, false));
    }

    [Fact]
    public void a_tilde_window_runs_once_at_a_random_time()
    {
        Parse("~04:00-06:00").Windows.Should().Equal(new ScheduleWindow(new TimeOnly(4, 0), new TimeOnly(6, 0), null, true));
    }

    [Theory]
    [InlineData("sat,sun", new[] { DayOfWeek.Saturday, DayOfWeek.Sunday })]
    [InlineData("mon-wed", new[] { DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday })]
    [InlineData("fri-sun", new[] { DayOfWeek.Friday, DayOfWeek.Saturday, DayOfWeek.Sunday })]
    public void day_filters(string days, DayOfWeek[] expected)
    {
        Parse($"00:00-01:00 {days}").Days.Should().BeEquivalentTo(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("25:00-26:00")]
    [InlineData("04:00-06:00@x")]
    [InlineData("@0")]
    [InlineData("04:00 funday")]
    public void invalid_schedules_are_refused_with_a_reason(string text)
    {
        Schedule.TryParse(text, out var schedule, out var error).Should().BeFalse();
        schedule.Should().BeNull();
        error.Should().NotBeNullOrEmpty();
    }
}
