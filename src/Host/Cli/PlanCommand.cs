using System.CommandLine;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Host.Cli;

/// <summary>`opensvc plan FILE ACTION --node N [--to N] [--json]`: the dry run, free, no database.</summary>
public static class PlanCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "service configuration file" };
        var action = new Argument<string>("action") { Description = "start, stop, startstandby, switch, takeover, sync, reprotect or giveback" };
        var o = ActionOptions.Create();
        var json = new Option<bool>("--json") { Description = "the plan as stable JSON" };
        var svc = new Option<string?>("--service") { Description = "service name (default: the file's name without extension)" };
        var upOn = new Option<string[]>("--up-on") { Description = "assume the service is up on these nodes (default: implied by the action)", AllowMultipleArgumentsPerToken = true };
        var unreachable = new Option<string[]>("--unreachable") { Description = "assume these nodes' agents do not answer", AllowMultipleArgumentsPerToken = true };
        var cmd = new Command("plan", "Print the plan of an action without running it (dry run; needs no database)") { file, action, json, svc, upOn, unreachable };
        o.AddTo(cmd);
        cmd.SetAction(p =>
        {
            var path = p.GetValue(file)!;
            var doc = ConfigFiles.Load(path);
            var service = ConfigFiles.ServiceName(path, p.GetValue(svc));
            var request = o.Request(p, service, p.GetValue(action), RunCommands.Operator());
            ConfigFiles.RequirePeer(doc, service, request.Node);
            var (view, problem) = ServiceViewBuilder.From(doc, service);
            if (view is null)
                throw new UserError(problem!);
            var state = DryRunState.For(view, request,
                p.GetValue(upOn) is { Length: > 0 } u ? u.Select(x => ConfigFiles.Node(x, "--up-on")).ToList() : null,
                p.GetValue(unreachable) is { Length: > 0 } d ? d.Select(x => ConfigFiles.Node(x, "--unreachable")).ToList() : null);
            switch (Planner.Plan(view, request, state))
            {
                case AcceptedPlan accepted:
                    Console.WriteLine(p.GetValue(json) ? PlanPrinter.ToJson(accepted.Plan) : PlanPrinter.ToText(accepted));
                    return ExitCodes.Ok;
                case Refusal { Guard: PlanGuard.ConfigErrors, Plan: { } refusedPlan } refusal:
                    Console.WriteLine(p.GetValue(json) ? PlanPrinter.ToJson(refusedPlan) : PlanPrinter.ToText(refusedPlan));
                    foreach (var e in refusal.Problems)
                        Console.Error.WriteLine(e.ToString());
                    Console.Error.WriteLine($"opensvc: this plan would be refused: the config has {refusal.Problems.Count} error(s) for the nodes it touches");
                    return ExitCodes.Refused;
                case Refusal refusal:
                    Console.Error.WriteLine($"opensvc: refused: {refusal.Reason}");
                    return ExitCodes.Refused;
                default:
                    throw new InvalidOperationException("unknown plan result");
            }
        });
        return cmd;
    }
}

/// <summary>The options every action shares, for `plan` (dry run) and `svc ACTION` (real run).</summary>
public sealed class ActionOptions
{
    public required Option<string?> Node { get; init; }
    public required Option<string?> To { get; init; }
    public required Option<string?> Rid { get; init; }
    public required Option<string?> Target { get; init; }
    public required Option<bool> Force { get; init; }
    public required Option<string?> Reason { get; init; }

    public static ActionOptions Create() => new()
    {
        Node = new Option<string?>("--node") { Description = "where the action happens (switch: ignored, the service's current node is used)", Required = true },
        To = new Option<string?>("--to") { Description = "switch: the destination node" },
        Rid = new Option<string?>("--rid") { Description = "sync: one sync resource (default: all, in rid order)" },
        Target = new Option<string?>("--target") { Description = "sync: nodes, drpnodes or all (default)" },
        Force = new Option<bool>("--force") { Description = "override a safety guard (needs --reason): takeover from an unreachable primary, stop standby resources" },
        Reason = new Option<string?>("--reason") { Description = "why, recorded in the run's first event" },
    };

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { Node, To, Rid, Target, Force, Reason })
            cmd.Options.Add(o);
    }

    /// <summary>The request these options describe, parsed and checked by the domain's one parser; a bad word is exit code 2.</summary>
    public ActionRequest Request(ParseResult p, string service, string? actionText, string requestedBy)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (actionText is null)
            throw new UserError($"an action is required: {string.Join(", ", ActionWords.ServiceActions)}");
        var (request, problem) = ActionRequest.Parse(service, actionText, p.GetValue(Node), requestedBy,
            p.GetValue(To), p.GetValue(Rid), p.GetValue(Target), p.GetValue(Force), p.GetValue(Reason));
        return request ?? throw new UserError(problem!);
    }
}
