using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

public class ConvertersTests
{
    [Theory]
    [InlineData("1h 1s", 3601)]
    [InlineData("-1m", -60)]
    [InlineData("1d3h", 97200)]
    [InlineData("2m", 120)]
    [InlineData("1w", 604800)]
    [InlineData("30", 30)]
    [InlineData("1H", 3600)]
    public void durations_in_seconds(string text, long seconds)
    {
        Converters.TryDuration(text, out var value).Should().BeTrue();
        value.Should().Be(seconds);
    }

    [Theory]
    [InlineData("90", 5400)]
    [InlineData("1d3h", 97200)]
    [InlineData("0", 0)]
    public void durations_declared_in_minutes_count_bare_numbers_as_minutes(string text, long seconds)
    {
        Converters.TryDuration(text, out var value, 60).Should().BeTrue();
        value.Should().Be(seconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("1x")]
    [InlineData("h")]
    [InlineData("99999999999999999999d")]
    public void durations_that_cannot_be_read(string text)
    {
        Converters.TryDuration(text, out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("3 mb/s", 3072)]
    [InlineData("3mb/s", 3072)]
    [InlineData("512", 512)]
    [InlineData("512k", 512)]
    [InlineData("1 MiB/s", 1024)]
    [InlineData("1g", 1048576)]
    [InlineData("2048b/s", 2)]
    public void speeds_in_kilobytes_per_second(string text, long kbps)
    {
        Converters.TrySpeedKbps(text, out var value).Should().BeTrue();
        value.Should().Be(kbps);
    }

    [Theory]
    [InlineData("fast")]
    [InlineData("3 qb/s")]
    [InlineData("")]
    public void speeds_that_cannot_be_read(string text)
    {
        Converters.TrySpeedKbps(text, out _).Should().BeFalse();
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("Yes", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("no", false)]
    public void booleans(string text, bool expected)
    {
        Converters.TryBool(text, out var value).Should().BeTrue();
        value.Should().Be(expected);
    }

    [Fact]
    public void a_non_boolean_is_refused()
    {
        Converters.TryBool("maybe", out _).Should().BeFalse();
    }

    [Fact]
    public void lists_split_on_any_whitespace_including_newlines()
    {
        Converters.List("n1  n2\nn3\t n4").Should().Equal("n1", "n2", "n3", "n4");
    }

    [Theory]
    [InlineData("--net=none\n-v /a:/a:ro", new[] { "--net=none", "-v", "/a:/a:ro" })]
    [InlineData("-e 'A B' \"C \\\"D\\\"\" E\\ F", new[] { "-e", "A B", "C \"D\"", "E F" })]
    [InlineData("a''b \"\"", new[] { "ab", "" })]
    public void shlex_splits_like_a_posix_shell(string text, string[] words)
    {
        Shlex.TrySplit(text, out var result, out var error).Should().BeTrue();
        error.Should().BeNull();
        result.Should().Equal(words);
    }

    [Fact]
    public void shlex_reports_an_unclosed_quote()
    {
        Shlex.TrySplit("a 'b c", out var words, out var error).Should().BeFalse();
        error.Should().Be("no closing quotation");
        words.Should().Equal("a", "b c");
    }
}
