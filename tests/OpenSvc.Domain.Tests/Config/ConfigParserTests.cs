using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

public class ConfigParserTests
{
    [Fact]
    public void sections_keys_and_line_numbers_are_kept()
    {
        var doc = ConfigParser.Parse("[DEFAULT]\nnodes = n1 n2\n\n[fs#0]\ndev@nodes: /dev/sda\n", "a.conf");

        doc.Problems.Should().BeEmpty();
        doc.Default.Get("nodes")!.Value.Should().Be("n1 n2");
        doc.Default.Get("nodes")!.Line.Should().Be(2);
        var entry = doc.Section("fs#0")!.Get("dev@nodes")!;
        entry.Should().Be(new ConfigEntry("dev@nodes", "dev", "nodes", "/dev/sda", 5));
        doc.Section("fs#0")!.Group.Should().Be("fs");
        doc.Section("fs#0")!.Index.Should().Be("0");
    }

    [Fact]
    public void indented_lines_continue_the_value_joined_with_newlines()
    {
        var doc = ConfigParser.Parse("[container#0]\nrun_args = --net=none\n   -v /a:/a:ro\n\n   -v /b:/b\nimage = x\n");

        doc.Section("container#0")!.Get("run_args")!.Value.Should().Be("--net=none\n-v /a:/a:ro\n\n-v /b:/b");
        doc.Section("container#0")!.Get("image")!.Value.Should().Be("x");
    }

    [Fact]
    public void a_file_indented_as_a_whole_reads_like_an_unindented_one()
    {
        var indented = ConfigParser.Parse("  [fs#0]\n  dev = /dev/a\n  mnt = /m\n");

        indented.Section("fs#0")!.Get("dev")!.Value.Should().Be("/dev/a");
        indented.Section("fs#0")!.Get("mnt")!.Value.Should().Be("/m");
    }

    [Fact]
    public void full_line_comments_are_skipped_and_inline_ones_are_kept_in_the_value()
    {
        var doc = ConfigParser.Parse("# top\n[fs#0]\n; note\ndev = /dev/a # not a comment\n  # inside\n");

        doc.Section("fs#0")!.Get("dev")!.Value.Should().Be("/dev/a # not a comment");
        doc.Section("fs#0")!.Entries.Should().ContainSingle();
    }

    [Fact]
    public void the_last_duplicate_key_wins_and_repeated_sections_merge()
    {
        var doc = ConfigParser.Parse("[fs#0]\ndev = /a\nmnt = /m\n[fs#1]\ndev = /x\n[fs#0]\ndev = /b\n");

        var fs0 = doc.Section("fs#0")!;
        fs0.Get("dev")!.Value.Should().Be("/b");
        fs0.Get("dev")!.Line.Should().Be(7);
        fs0.Get("mnt")!.Value.Should().Be("/m");
        doc.Sections.Select(s => s.Name).Should().Equal("DEFAULT", "fs#0", "fs#1");
        doc.Problems.Should().ContainSingle(p => p.Severity == Severity.Info && p.Reason.Contains("last value wins"));
    }

    [Fact]
    public void keys_are_case_sensitive()
    {
        var doc = ConfigParser.Parse("[DEFAULT]\nNodes = a\nnodes = b\n");

        doc.Default.Get("Nodes")!.Value.Should().Be("a");
        doc.Default.Get("nodes")!.Value.Should().Be("b");
    }

    [Fact]
    public void keys_before_any_section_go_to_default_with_an_info()
    {
        var doc = ConfigParser.Parse("nodes = n1\n[fs#0]\ndev = /a\n");

        doc.Default.Get("nodes")!.Value.Should().Be("n1");
        doc.Problems.Should().ContainSingle(p => p.Severity == Severity.Info && p.Line == 1);
    }

    [Fact]
    public void an_unbalanced_header_is_an_error_and_its_keys_are_not_given_to_another_section()
    {
        var doc = ConfigParser.Parse("[fs#0]\ndev = /a\n[fs#1\ndev = /b\n[fs#2]\ndev = /c\n", "x.conf");

        doc.Section("fs#0")!.Get("dev")!.Value.Should().Be("/a");
        doc.Section("fs#2")!.Get("dev")!.Value.Should().Be("/c");
        doc.Problems.Should().ContainSingle(p => p.Severity == Severity.Error && p.Line == 3)
            .Which.ToString().Should().StartWith("x.conf:3: error: [fs#0] malformed section header '[fs#1'");
    }

    [Fact]
    public void a_line_without_separator_is_a_located_warning()
    {
        var doc = ConfigParser.Parse("[fs#0]\njust words\n");

        doc.Problems.Should().ContainSingle(p => p.Severity == Severity.Warning && p.Line == 2 && p.Section == "fs#0");
    }

    [Fact]
    public void crlf_line_ends_are_read()
    {
        var doc = ConfigParser.Parse("[fs#0]\r\ndev = /a\r\n");

        doc.Section("fs#0")!.Get("dev")!.Value.Should().Be("/a");
    }

    [Theory]
    [InlineData(Seed.FailoverDockerBtrfs, new[] { "DEFAULT", "ip#0", "container#0", "container#1", "fs#0", "fs#1", "sync#0", "sync#1" })]
    [InlineData(Seed.FlexDocker, new[] { "DEFAULT", "ip#0", "container#0", "container#1", "fs#0", "fs#1", "sync#0" })]
    [InlineData(Seed.FlexFailoverRsync, new[] { "DEFAULT", "ip#0", "container#0", "container#1", "fs#0", "fs#1", "sync#0", "sync#1" })]
    public void the_seed_configs_parse_without_problems(string file, string[] sections)
    {
        var doc = Seed.Parse(file);

        doc.Problems.Should().BeEmpty();
        doc.Sections.Select(s => s.Name).Should().Equal(sections);
        doc.Section("container#0")!.Get("run_args")!.Value.Should().Be("--net=none\n-v /etc/localtime:/etc/localtime:ro");
    }
}
