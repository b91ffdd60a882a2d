using System.Text;
using FluentAssertions;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using Xunit;

namespace OpenSvc.Domain.Tests.Golden;

/// <summary>
/// The way back from a takeover, pinned like <see cref="GoldenPlanTests"/>: reprotect, giveback and a sync while the
/// protection is reversed, on every peer of the seed configurations, as dry runs (reprotect assumes the service up on
/// --node; giveback and the sync on a DR node assume the protection reversed from there to the first of nodes).
/// Regenerate deliberately with OPENSVC_UPDATE_GOLDEN=1.
/// </summary>
public sealed class GoldenReturnPlanTests
{
    public static TheoryData<string> Seeds => new() { "failover-docker-btrfs", "flex-failover-rsync" };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void reprotect_and_giveback_plans_match_the_golden_file(string seed)
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "seed", seed + ".conf"));
        var (built, problem) = ServiceViewBuilder.From(ConfigParser.Parse(text, seed + ".conf"), "svc1");
        built.Should().NotBeNull(problem);
        var view = built! with { ConfigErrors = [] };
        var sb = new StringBuilder();
        foreach (var node in view.Peers)
        {
            foreach (var action in new[] { ServiceAction.Reprotect, ServiceAction.Giveback })
                Case(sb, view, new ActionRequest(view.Name, action, node, "golden"), DryRunState.For(view, new ActionRequest(view.Name, action, node, "golden")), "");
            if (!view.IsDrpNode(node))
                continue;
            var sync = new ActionRequest(view.Name, ServiceAction.Sync, node, "golden");
            var reversed = DryRunState.For(view, sync) with
            {
                Reversal = new ProtectionReversal(node, [view.Nodes[0]], DateTimeOffset.UnixEpoch, Guid.Empty, "golden"),
            };
            Case(sb, view, sync, reversed, $" (protection reversed {node} → {view.Nodes[0]})");
        }
        var actual = sb.ToString().ReplaceLineEndings("\n");

        var golden = Path.Combine(SourceDir(), "Fixtures", "golden", seed + ".return.plans.txt");
        if (Environment.GetEnvironmentVariable("OPENSVC_UPDATE_GOLDEN") == "1")
            File.WriteAllText(golden, actual);
        File.Exists(golden).Should().BeTrue($"the golden file {golden} must be checked in (OPENSVC_UPDATE_GOLDEN=1 writes it)");
        actual.Should().Be(File.ReadAllText(golden).ReplaceLineEndings("\n"));
    }

    static void Case(StringBuilder sb, ServiceView view, ActionRequest request, ClusterState state, string note)
    {
        sb.Append("### ").Append(ActionWords.Of(request.Action)).Append(" --node ").Append(request.Node).Append(note).Append('\n');
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
