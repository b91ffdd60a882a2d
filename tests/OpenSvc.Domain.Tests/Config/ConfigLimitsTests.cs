using System.Text;
using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

/// <summary>
/// The caps of docs/config-limits.md, one test per error: what a config may expand to is bounded, and reaching a cap is
/// a located error (file, line, keyword, fix), never minutes of CPU.
/// </summary>
public class ConfigLimitsTests
{
    const string BudgetSpent = "expanding references stopped here: the document's budget of 20,000 reference substitutions and 2 Mi expanded characters is spent (over every node); the values past this point stay unexpanded";
    const string BudgetFix = "reference fewer values, or values that do not reference each other repeatedly";

    /// <summary>An fs whose comment (line 7) is <paramref name="comment"/>, DEFAULT's <c>a</c> being <paramref name="a"/>.</summary>
    static string WithComment(string comment, string a = "x", string nodes = "n1") =>
        $"[DEFAULT]\nnodes = {nodes}\na = {a}\n[fs#0]\ntype = ext4\ndev = /dev/x\ncomment = {comment}\nmnt = /srv/x\n";

    static string Repeat(string text, int times) => new StringBuilder(text.Length * times).Insert(0, text, times).ToString();

    static string Nodes(string prefix, int count) => string.Join(' ', Enumerable.Range(1, count).Select(i => prefix + i));

    [Fact]
    public void the_reference_substitution_after_the_budget_is_a_located_error_naming_the_line_the_keyword_and_the_fix()
    {
        var problems = Seed.Validate(WithComment(Repeat("{a}", ConfigBudget.DefaultReferences + 1)));

        var spent = problems.Should().ContainSingle(p => p.Reason.StartsWith("expanding references stopped here", StringComparison.Ordinal)).Which;
        (spent.Section, spent.Keyword, spent.Line, spent.Node, spent.Severity).Should().Be(("fs#0", "comment", 7, (NodeName?)null, Severity.Error));
        spent.ToString().Should().Be($"svc1.conf:7: error: [fs#0] comment: {BudgetSpent} (fix: {BudgetFix})");
        problems.Should().Contain(p => p.Keyword == "comment" && p.Reason.StartsWith("unresolved reference {a}: the document's budget", StringComparison.Ordinal),
            "the reference left unexpanded is reported too");
    }

    [Fact]
    public void the_last_substitution_the_budget_allows_is_no_error()
    {
        Seed.Validate(WithComment(Repeat("{a}", ConfigBudget.DefaultReferences)))
            .Should().NotContain(p => p.Severity == Severity.Error);
    }

    [Fact]
    public void the_budget_is_one_for_the_document_over_every_node_it_is_checked_for()
    {
        // 6,000 substitutions on each node (the value names the node, so each node is resolved on its own).
        var comment = "{nodename}" + Repeat("{a}", 5_999);

        Seed.Validate(WithComment(comment, nodes: "n1 n2 n3")).Should().NotContain(p => p.Reason.StartsWith("expanding references stopped here", StringComparison.Ordinal));
        Seed.Validate(WithComment(comment, nodes: "n1 n2 n3 n4")).Should().ContainSingle(p => p.Reason == BudgetSpent)
            .Which.Should().Match<ConfigProblem>(p => p.Line == 7 && p.Keyword == "comment" && p.Node == null && p.Fix == BudgetFix);
    }

    [Fact]
    public void a_budget_of_expanded_characters_is_spent_too()
    {
        // 40 × 60,000 characters (each value under the 65,536 cap) is over the 2 Mi characters of the document.
        var text = new StringBuilder($"[DEFAULT]\nnodes = n1\na = {new string('x', 60_000)}\n");
        for (var i = 0; i < 40; i++)
            text.Append($"[fs#{i}]\ntype = ext4\ndev = /dev/x{i}\nmnt = /srv/x{i}\ncomment = {{a}}\n");

        Seed.Validate(text.ToString()).Should().ContainSingle(p => p.Reason == BudgetSpent)
            .Which.Should().Match<ConfigProblem>(p => p.Keyword == "comment" && p.Section.StartsWith("fs#", StringComparison.Ordinal) && p.Fix == BudgetFix);
    }

    [Fact]
    public void a_value_may_expand_to_65536_characters()
    {
        Seed.Validate(WithComment("{a}{a}", new string('x', ConfigBudget.MaxValueLength / 2)))
            .Should().NotContain(p => p.Severity == Severity.Error);
    }

    [Fact]
    public void a_value_that_expands_past_65536_characters_is_an_error_at_its_line()
    {
        var problem = Seed.Validate(WithComment("{a}{a}y", new string('x', ConfigBudget.MaxValueLength / 2)))
            .Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Section, problem.Keyword, problem.Line).Should().Be(("fs#0", "comment", 7));
        problem.Reason.Should().Be("value too long {a}{a}y: the value expands to 65537 characters, more than the 65536 a value may have");
        problem.Fix.Should().Be("reference shorter values, or fewer of them");
    }

    [Fact]
    public void a_reference_past_65536_expanded_characters_is_not_expanded()
    {
        var problems = Seed.Validate(WithComment("{a}{a}{a}", new string('x', 40_000))).Where(p => p.Severity == Severity.Error).ToList();

        problems.Should().Contain(p => p.Line == 7 && p.Reason == "unresolved reference {a}: the value would expand to more than 65536 characters");
        problems.Should().Contain(p => p.Line == 7 && p.Reason == "value too long {a}{a}{a}: the value expands to 80003 characters, more than the 65536 a value may have");
    }

    [Fact]
    public void a_service_may_declare_4096_nodes()
    {
        Seed.Validate($"[DEFAULT]\nnodes = {Nodes("n", 4000)}\ndrpnodes = {Nodes("d", 96)}\n")
            .Should().NotContain(p => p.Severity == Severity.Error);
    }

    [Theory]
    [InlineData(4097, 0)]
    [InlineData(4000, 97)]
    public void more_than_4096_nodes_is_an_error_at_the_nodes_line(int nodes, int drpnodes)
    {
        var text = $"[DEFAULT]\nnodes = {Nodes("n", nodes)}\n" + (drpnodes > 0 ? $"drpnodes = {Nodes("d", drpnodes)}\n" : "");

        var problem = Seed.Validate(text).Should().ContainSingle(p => p.Severity == Severity.Error).Which;

        (problem.Section, problem.Keyword, problem.Line, problem.Node).Should().Be(("DEFAULT", "nodes", 2, (NodeName?)null));
        problem.Reason.Should().Be("4097 nodes declared: more than the 4096 a service may have (the nodes past it are not checked)");
        problem.Fix.Should().Be("list the nodes the service runs on, not every host");
    }

    /// <summary>The 39-byte file that ran for minutes: it ends, with the budget and the nesting errors at its node list's line.</summary>
    [Fact]
    public async Task the_39_byte_node_list_that_references_itself_ends_with_errors()
    {
        const string text = "[DEFAULT]\nnodes = {nodes[9]}{nodes[9]}\n";
        Encoding.UTF8.GetByteCount(text).Should().Be(39);

        // A hang guard, not a timing assertion: the budget bounds the work, this only keeps a regression from hanging the suite.
        var problems = await Task.Run(() => ConfigValidator.Validate(ConfigParser.Parse(text, "svc1.conf"), "svc1", new Dictionary<string, string>()))
            .WaitAsync(TimeSpan.FromMinutes(2));

        var errors = problems.Where(p => p.Severity == Severity.Error).ToList();
        errors.Should().OnlyContain(p => p.Line == 2 && p.Section == "DEFAULT" && p.Keyword == "nodes");
        errors.Should().Contain(p => p.Reason == BudgetSpent && p.Fix == BudgetFix);
        errors.Should().Contain(p => p.Reason == "unresolved reference {nodes[9]}: references nest deeper than 20: a reference loop");
        errors.Should().Contain(p => p.Reason.StartsWith("no node declared", StringComparison.Ordinal));
    }

    [Fact]
    public void a_cancelled_budget_stops_validation()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        var validate = () => ConfigValidator.Validate(ConfigParser.Parse(WithComment("{a}"), "svc1.conf"), "svc1", new Dictionary<string, string>(), new ConfigBudget(cancelled.Token));

        validate.Should().Throw<OperationCanceledException>();
    }
}
