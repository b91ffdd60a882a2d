using FluentAssertions;
using Xunit;

// Not "OpenSvc.Domain.Tests.Status": a namespace named Status would hide the Status enum in every test.
namespace OpenSvc.Domain.Tests.StatusRules;

public class StatusMergeTests
{
    static Status S(string display) => StatusText.Parse(display);

    [Theory]
    [InlineData(Status.Up, "up")]
    [InlineData(Status.Down, "down")]
    [InlineData(Status.Warn, "warn")]
    [InlineData(Status.NotApplicable, "n/a")]
    [InlineData(Status.Undef, "undef")]
    [InlineData(Status.StandbyUp, "stdby up")]
    [InlineData(Status.StandbyDown, "stdby down")]
    public void each_status_displays_and_parses_as_opensvc_writes_it(Status status, string display)
    {
        status.ToDisplay().Should().Be(display);
        StatusText.Parse(display).Should().Be(status);
    }

    [Fact]
    public void an_unknown_status_text_does_not_parse()
    {
        StatusText.TryParse("stdby-up", out _).Should().BeFalse();
        FluentActions.Invoking(() => StatusText.Parse("UP")).Should().Throw<FormatException>();
    }

    // OpenSVC MERGE_RULES over every unordered pair of the seven public states, plus undef as neutral.
    [Theory]
    [InlineData("up", "up", "up")]
    [InlineData("up", "down", "warn")]
    [InlineData("up", "warn", "warn")]
    [InlineData("up", "n/a", "up")]
    [InlineData("up", "undef", "up")]
    [InlineData("up", "stdby up", "stdby up with up")]
    [InlineData("up", "stdby down", "warn")]
    [InlineData("down", "down", "down")]
    [InlineData("down", "warn", "warn")]
    [InlineData("down", "n/a", "down")]
    [InlineData("down", "undef", "down")]
    [InlineData("down", "stdby up", "stdby up with down")]
    [InlineData("down", "stdby down", "stdby down")]
    [InlineData("warn", "warn", "warn")]
    [InlineData("warn", "n/a", "warn")]
    [InlineData("warn", "undef", "warn")]
    [InlineData("warn", "stdby up", "warn")]
    [InlineData("warn", "stdby down", "warn")]
    [InlineData("n/a", "n/a", "n/a")]
    [InlineData("n/a", "undef", "n/a")]
    [InlineData("n/a", "stdby up", "stdby up")]
    [InlineData("n/a", "stdby down", "stdby down")]
    [InlineData("undef", "undef", "undef")]
    [InlineData("undef", "stdby up", "stdby up")]
    [InlineData("undef", "stdby down", "stdby down")]
    [InlineData("stdby up", "stdby up", "stdby up")]
    [InlineData("stdby up", "stdby down", "warn")]
    [InlineData("stdby down", "stdby down", "stdby down")]
    public void a_pair_merges_by_opensvc_rules_in_either_order(string a, string b, string expected)
    {
        StatusMerge.Of(S(a)).Add(S(b)).ToString().Should().Be(expected);
        StatusMerge.Of(S(b)).Add(S(a)).ToString().Should().Be(expected);
    }

    // The internal states, reached by merging a standby-up resource with an up or a down one first.
    [Theory]
    [InlineData("up", "up", "stdby up with up")]
    [InlineData("up", "down", "warn")]
    [InlineData("up", "warn", "warn")]
    [InlineData("up", "n/a", "stdby up with up")]
    [InlineData("up", "undef", "stdby up with up")]
    [InlineData("up", "stdby up", "stdby up with up")]
    [InlineData("up", "stdby down", "warn")]
    [InlineData("down", "up", "warn")]
    [InlineData("down", "down", "stdby up with down")]
    [InlineData("down", "warn", "warn")]
    [InlineData("down", "n/a", "stdby up with down")]
    [InlineData("down", "undef", "stdby up with down")]
    [InlineData("down", "stdby up", "stdby up with down")]
    [InlineData("down", "stdby down", "warn")]
    public void an_internal_standby_state_merges_by_opensvc_rules(string withStandbyUp, string next, string expected)
    {
        var internalState = StatusMerge.Of(Status.StandbyUp).Add(S(withStandbyUp));

        internalState.Add(S(next)).ToString().Should().Be(expected);
        StatusMerge.Of(S(next)).Add(internalState).ToString().Should().Be(expected);
    }

    [Theory]
    [InlineData("up", "up", "stdby up with up")]
    [InlineData("up", "down", "warn")]
    [InlineData("down", "down", "stdby up with down")]
    public void two_internal_states_merge_by_opensvc_rules(string first, string second, string expected)
    {
        var a = StatusMerge.Of(Status.StandbyUp).Add(S(first));
        var b = StatusMerge.Of(Status.StandbyUp).Add(S(second));

        a.Add(b).ToString().Should().Be(expected);
        b.Add(a).ToString().Should().Be(expected);
    }

    [Fact]
    public void the_internal_states_end_as_up_and_stdby_up()
    {
        StatusMerge.Of(Status.StandbyUp).Add(Status.Up).Result.Should().Be(Status.Up);
        StatusMerge.Of(Status.StandbyUp).Add(Status.Down).Result.Should().Be(Status.StandbyUp);
    }

    // C18
    [Theory]
    [InlineData("stdby up,stdby up,down,down,down", "stdby up")]
    [InlineData("up,up,up", "up")]
    [InlineData("up,up,down,up", "warn")]
    [InlineData("stdby up,stdby down", "warn")]
    [InlineData("stdby up,up,up", "up")]
    [InlineData("", "n/a")]
    [InlineData("undef,undef", "n/a")]
    [InlineData("down,stdby down,down", "stdby down")]
    public void a_list_merges_starting_from_na(string statuses, string expected)
    {
        var list = statuses.Length == 0 ? [] : statuses.Split(',').Select(S).ToArray();

        StatusMerge.Merge(list).ToDisplay().Should().Be(expected);
    }
}
