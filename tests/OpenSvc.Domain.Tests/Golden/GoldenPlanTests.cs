using System.Text;
using FluentAssertions;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using Xunit;

namespace OpenSvc.Domain.Tests.Golden;

/// <summary>
/// Every action on every peer of the three seed configurations, planned as a dry run and pinned in a
/// readable golden file. A change to ordering, guards or compensation shows up as a diff of these files.
/// Regenerate deliberately with OPENSVC_UPDATE_GOLDEN=1.
/// </summary>
public sealed class GoldenPlanTests
{
    public static TheoryData<string> Seeds => new() { "failover-docker-btrfs", "flex-docker", "flex-failover-rsync" };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void plans_of_every_action_match_the_golden_file(string seed)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "seed", seed + ".conf"));
        var actual = Render(ConfigParser.Parse(text, seed + ".conf"));

        var golden = Path.Combine(SourceDir(), "Fixtures", "golden", seed + ".plans.txt");
        if (Environment.GetEnvironmentVariable("OPENSVC_UPDATE_GOLDEN") == "1")
            File.WriteAllText(golden, actual);
        File.Exists(golden).Should().BeTrue($"the golden file {golden} must be checked in (OPENSVC_UPDATE_GOLDEN=1 writes it)");
        actual.Should().Be(File.ReadAllText(golden).ReplaceLineEndings("\n"));
    }

    static string Render(ConfigDocument doc)
    {
        var (built, problem) = ServiceViewBuilder.From(doc, "svc1");
        built.Should().NotBeNull(problem);
        // The plans' shapes, for every node: the seeds' own errors (the DR node has no dev) make the planner refuse
        // plans that touch it, which PlannerConfigErrorTests covers; here they are set aside.
        var view = built! with { ConfigErrors = [] };
        var sb = new StringBuilder();
        foreach (var node in view.Peers)
        {
            foreach (var action in new[] { ServiceAction.Start, ServiceAction.Stop, ServiceAction.StartStandby, ServiceAction.Takeover, ServiceAction.Sync })
                Case(sb, view, new ActionRequest(view.Name, action, node, "golden"));
            foreach (var to in view.Peers.Where(p => p != node))
                Case(sb, view, new ActionRequest(view.Name, ServiceAction.Switch, node, "golden") { To = to });
        }
        return sb.ToString().ReplaceLineEndings("\n");
    }

    static void Case(StringBuilder sb, ServiceView view, ActionRequest request)
    {
        var state = DryRunState.For(view, request);
        sb.Append("### ").Append(ActionWords.Of(request.Action)).Append(" --node ").Append(request.Node);
        if (request.To is { } to)
            sb.Append(" --to ").Append(to);
        sb.Append('\n');
        sb.Append(Planner.Plan(view, request, state) switch
        {
            AcceptedPlan a => PlanPrinter.ToText(a),
            Refusal r => PlanPrinter.ToText(r) + "\n",
            _ => "?\n",
        });
        sb.Append('\n');
    }

    static string SourceDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OpenSvc.Domain.Tests.csproj")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("tests/OpenSvc.Domain.Tests not found above " + AppContext.BaseDirectory);
    }
}
