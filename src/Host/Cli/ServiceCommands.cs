using System.CommandLine;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;

namespace OpenSvc.Host.Cli;

/// <summary>`opensvc svc ...`: the cluster's service store, status, and actions run as workflows.</summary>
public static class ServiceCommands
{
    public static Command Create(ServerOptions server)
    {
        var svc = new Command("svc", "Services in the cluster: create/update/delete/list/print/history, status, and actions");
        svc.Subcommands.Add(Configure("create", "Store a new service from an OpenSVC config file", server, mustExist: false));
        svc.Subcommands.Add(Configure("update", "Store a new version of a service's config (diff recorded)", server, mustExist: true));
        svc.Subcommands.Add(Delete(server));
        svc.Subcommands.Add(List(server));
        svc.Subcommands.Add(Print(server));
        svc.Subcommands.Add(History(server));
        svc.Subcommands.Add(StatusCommand(server));
        svc.Subcommands.Add(ReadinessCommand(server));
        svc.Subcommands.Add(FreezeCommand(server, freeze: true));
        svc.Subcommands.Add(FreezeCommand(server, freeze: false));
        foreach (var action in ActionWords.ServiceActions)
            svc.Subcommands.Add(Action(action, server));
        return svc;
    }

    static Argument<string> NameArg() => new("name") { Description = "service name" };

    static Command Configure(string verb, string description, ServerOptions server, bool mustExist)
    {
        var name = NameArg();
        var config = new Option<string>("--config") { Description = "OpenSVC config file", Required = true };
        var cmd = new Command(verb, description) { name, config };
        cmd.SetAction(async (p, ct) =>
        {
            var service = ConfigFiles.ServiceName(p.GetValue(name)!, p.GetValue(name));
            var path = p.GetValue(config)!;
            var text = ConfigFiles.ReadText(path);
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var result = await cluster.Client.ConfigureAsync(new ConfigureService(service, text, RunCommands.Operator(), mustExist, !mustExist), ct).ConfigureAwait(false);
            foreach (var problem in result.Problems.Where(x => x.Severity != Severity.Info).OrderBy(x => x.Line))
                Console.Error.WriteLine(problem with { File = path });
            if (!result.Accepted)
                throw new UserError(result.Refusal!);
            Console.WriteLine(result.Diff.Length == 0
                ? $"service {service}: unchanged (v{result.Version})"
                : $"service {service}: stored as v{result.Version}");
            if (result.Diff.Length > 0 && mustExist)
                Console.Write(result.Diff);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static Command Delete(ServerOptions server)
    {
        var name = NameArg();
        var cmd = new Command("delete", "Delete a service's config (its history stays in the event store)") { name };
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var deleted = await cluster.Client.DeleteServiceAsync(new DeleteService(p.GetValue(name)!, RunCommands.Operator()), ct).ConfigureAwait(false);
            if (deleted.Outcome != DeleteOutcome.Deleted)
                throw new UserError(deleted.Message, ExitCodes.Refused);
            Console.WriteLine($"service {p.GetValue(name)} deleted");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static Command List(ServerOptions server)
    {
        var cmd = new Command("list", "List services with their config version and the run holding them");
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            Console.WriteLine($"{"SERVICE",-16} {"CONFIG",-20} {"CHANGED (UTC)",-19}  {"BY",-10} RUN IN FLIGHT");
            foreach (var s in await cluster.Client.ServicesAsync(ct).ConfigureAwait(false))
                Console.WriteLine($"{s.Service,-16} {s.VersionLabel,-20} {s.ConfiguredAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),-19}  {s.ConfiguredBy,-10} " +
                    (s.ActiveRun is { } r ? $"{RunTimeline.Short(r)} ({ActionWords.Of(s.ActiveAction!.Value)})" : "-"));
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static Command Print(ServerOptions server)
    {
        var name = NameArg();
        var node = new Option<string?>("--node") { Description = "print the service as this node resolves it (default: the stored config text)" };
        var json = new Option<bool>("--json") { Description = "with --node: stable JSON" };
        var cmd = new Command("print", "Print a stored service's config, or its resolved view for one node") { name, node, json };
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var s = await Load(cluster, p.GetValue(name)!, ct).ConfigureAwait(false);
            if (p.GetValue(node) is not { } n)
            {
                Console.WriteLine($"# {s.Service} {s.VersionLabel}, by {s.ConfiguredBy} at {s.ConfiguredAt:O}");
                Console.Write(s.ConfigText);
                return ExitCodes.Ok;
            }
            var doc = ConfigParser.Parse(s.ConfigText, s.Service + ".conf");
            var nodeName = ConfigFiles.Node(n);
            ConfigFiles.RequirePeer(doc, s.Service, nodeName);
            var resolved = ServiceResolver.Resolve(doc, s.Service, nodeName);
            Console.WriteLine(p.GetValue(json) ? ServicePrinter.Json(resolved) : ServicePrinter.Text(resolved));
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static Command History(ServerOptions server)
    {
        var name = NameArg();
        var cmd = new Command("history", "The service's config versions: who changed what, when") { name };
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var history = await cluster.Client.ConfigHistoryAsync(p.GetValue(name)!, ct).ConfigureAwait(false);
            if (history.Count == 0)
                throw new UserError($"service {p.GetValue(name)} has no config history");
            foreach (var v in history)
            {
                Console.WriteLine($"v{v.Version} ({v.ConfigHash}) by {v.By} at {v.At.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC");
                foreach (var line in v.Diff.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    Console.WriteLine("    " + line);
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static Command StatusCommand(ServerOptions server)
    {
        var name = NameArg();
        var cmd = new Command("status", "The service's status on every node, and its cluster-wide avail and overall") { name };
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var view = await cluster.Client.StatusAsync(p.GetValue(name)!, ct).ConfigureAwait(false)
                ?? throw new UserError($"service {p.GetValue(name)} does not exist (opensvc svc create {p.GetValue(name)} --config FILE)");
            Console.Write(StatusText(view, DateTimeOffset.UtcNow));
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static Command ReadinessCommand(ServerOptions server)
    {
        var name = NameArg();
        var node = new Option<string?>("--node") { Description = "the node to activate on (default: the service's first DR node)" };
        var cmd = new Command("readiness", "Can the service be activated on a DR node now, and what would it lose? (exit 0 ready, 1 not ready)") { name, node };
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            NodeName? at = p.GetValue(node) is { } n ? ConfigFiles.Node(n) : null;
            var readiness = await cluster.Client.ReadinessAsync(new GetReadiness(p.GetValue(name)!, at), ct).ConfigureAwait(false)
                ?? throw new UserError($"service {p.GetValue(name)} does not exist (opensvc svc create {p.GetValue(name)} --config FILE)");
            Console.Write(ReadinessText(readiness));
            return readiness.Ready ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return cmd;
    }

    static Command FreezeCommand(ServerOptions server, bool freeze)
    {
        var name = NameArg();
        var node = new Option<string?>("--node") { Description = freeze ? "freeze only the service's instance on this node (default: the whole service)" : "thaw only the service's instance on this node (default: the whole service)" };
        var reason = new Option<string?>("--reason") { Description = "why (recorded with who and when)" };
        var cmd = new Command(freeze ? "freeze" : "thaw", freeze
            ? "Freeze a service (or its instance on one node): the orchestrator no longer starts it by itself; manual actions still run"
            : "Thaw a frozen service (or its instance on one node): the orchestrator may start it again") { name, node, reason };
        cmd.SetAction(async (p, ct) =>
        {
            NodeName? at = p.GetValue(node) is { } n ? ConfigFiles.Node(n) : null;
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var result = await cluster.Client.FreezeAsync(new FreezeService(p.GetValue(name)!, at, freeze, RunCommands.Operator(), p.GetValue(reason)), ct).ConfigureAwait(false);
            if (!result.Accepted)
                throw new UserError(result.Message, result.Outcome == FreezeOutcome.NotAPeer ? ExitCodes.BadInput : ExitCodes.Refused);
            Console.WriteLine(result.Message);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    public static string ReadinessText(Readiness r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"{r.Service} on {r.Node}: {(r.Ready ? "READY" : "NOT READY")}");
        foreach (var c in r.Checks)
            sb.AppendLine($"  {c.Level.ToString().ToLowerInvariant(),-5} {c.Check,-14} {c.Sentence}");
        return sb.ToString();
    }

    public static string StatusText(ServiceStatusView view, DateTimeOffset now)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"{view.Service}  avail {view.Avail.ToDisplay()}  overall {view.Overall.ToDisplay()}  ({view.Topology}, config {view.ConfigVersion})");
        foreach (var i in view.Instances)
        {
            var r = i.Report;
            sb.AppendLine($"  {i.Node,-8} {(i.Role == "drpnode" ? "drp" : "node"),-5} " +
                (r is null ? "no status reported yet" : $"avail {r.Avail.ToDisplay(),-10} overall {r.Overall.ToDisplay(),-10} as of {RunTimeline.Duration(now - r.UpdatedAt)} ago") +
                (i.Reachable ? "" : "  (agent not answering: last known state)"));
            foreach (var line in r?.Resources ?? [])
                sb.AppendLine($"      {line.Rid,-12} {line.Driver,-17} {line.Status.ToDisplay(),-10}{(line.Message is { } m ? " " + m : "")}");
        }
        if (view.Frozen is { } frozen)
            sb.AppendLine($"  {frozen.Describe()}: the orchestrator starts it nowhere by itself ('svc thaw {view.Service}')");
        foreach (var i in view.Instances.Where(i => i.Frozen is not null))
            sb.AppendLine($"  {i.Node}: instance {i.Frozen!.Describe()} ('svc thaw {view.Service} --node {i.Node}')");
        foreach (var i in view.Instances.Where(i => i.NodeFrozen is not null))
            sb.AppendLine($"  {i.Node}: node {i.NodeFrozen!.Describe()} ('node thaw --node {i.Node}')");
        if (view.Reversal is { } reversed)
            sb.AppendLine($"  protection: {reversed.Direction}, reversed since {reversed.Since.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture)} " +
                $"by {reversed.By} (reprotect run {RunTimeline.Short(reversed.RunId)}; 'svc giveback' restores it)");
        if (view.Syncs.Count > 0)
            sb.AppendLine("  sync lag (last successful sync per resource and target):");
        foreach (var lag in view.Syncs)
            sb.AppendLine($"      {lag.Rid,-12} to {lag.Target,-8} {lag.Status.ToDisplay(),-10} {lag.Message}");
        return sb.ToString();
    }

    static Command Action(string verb, ServerOptions server)
    {
        var name = NameArg();
        var o = ActionOptions.Create();
        var noWait = new Option<bool>("--no-wait") { Description = "submit and return the run id without following it" };
        var dryRun = new Option<bool>("--dry-run") { Description = "print the plan against the cluster's current state, run nothing" };
        var cmd = new Command(verb, $"Run '{verb}' as a durable workflow and follow it (exit 0 done, 1 failed, 3 refused)") { name, noWait, dryRun };
        o.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var request = o.Request(p, p.GetValue(name)!, verb, RunCommands.Operator());
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            if (p.GetValue(dryRun))
            {
                var dry = await cluster.Client.PlanAsync(request, ct).ConfigureAwait(false);
                if (dry is ServiceNotFound missing)
                    throw new UserError(missing.Message);
                if (dry.Plan is { } planned)
                    Console.Write(PlanPrinter.ToText(new AcceptedPlan(planned, dry.Skipped)));
                if (dry is ActionRefused dryRefused)
                {
                    Console.Error.WriteLine($"opensvc: refused: {dryRefused.Refusal}");
                    return ExitCodes.Refused;
                }
                return ExitCodes.Ok;
            }
            switch (await cluster.Client.RequestActionAsync(request, ct).ConfigureAwait(false))
            {
                case ServiceNotFound missing:
                    throw new UserError(missing.Message);
                case ActionRefused refused:
                    Console.Error.WriteLine($"opensvc: refused: {refused.Refusal}");
                    if (refused.RunId is { } refusedId)
                        Console.Error.WriteLine($"recorded as run {RunTimeline.Short(refusedId)}: opensvc run show {refusedId}");
                    return ExitCodes.Refused;
                case ActionAccepted { RunId: { } runId } accepted:
                    Console.WriteLine($"run {runId}: {verb} {request.Service} on {accepted.Plan!.Node}{(request.To is { } to ? $" to {to}" : "")}, {accepted.Plan.Steps.Count} steps");
                    if (p.GetValue(noWait))
                    {
                        Console.WriteLine($"follow it with: opensvc run show {runId}");
                        return ExitCodes.Ok;
                    }
                    return await Follow(cluster.Client, runId, ct).ConfigureAwait(false);
                default:
                    throw new InvalidOperationException("unknown action result");
            }
        });
        return cmd;
    }

    /// <summary>Live progress: one line per step as it ends, then the outcome and how to see the timeline.</summary>
    public static async Task<int> Follow(IClusterClient client, Guid runId, CancellationToken ct)
    {
        var reported = new HashSet<(int, StepStatus, int)>();
        var started = DateTimeOffset.UtcNow;
        // Counted as lines are printed, in step order, so "[n/m]" never runs ahead of the lines above it.
        var done = 0;
        while (true)
        {
            var (run, _) = await client.FindRunAsync(runId.ToString(), ct).ConfigureAwait(false);
            if (run is null)
                throw new UserError($"run {runId} vanished");
            foreach (var s in run.Steps)
            {
                if (s.Status is StepStatus.Pending or StepStatus.Scheduled || !reported.Add((s.Step.Index, s.Status, s.Attempt)))
                    continue;
                var what = ActionWords.Step(s.Step);
                if (s.Status is StepStatus.Succeeded or StepStatus.Compensated)
                    done++;
                Console.WriteLine(s.Status switch
                {
                    StepStatus.Running => $"  [{done}/{run.Steps.Count}] {s.Step.Node,-6} {what} ... (attempt {s.Attempt}, {RunTimeline.Duration(DateTimeOffset.UtcNow - started)} elapsed)",
                    StepStatus.Succeeded => $"  [{done}/{run.Steps.Count}] {s.Step.Node,-6} {what}: ok in {RunTimeline.Duration(s.Duration)}{(s.Changed ? "" : " (no change)")}",
                    StepStatus.Failed => $"  [{done}/{run.Steps.Count}] {s.Step.Node,-6} {what}: FAILED: {s.Error}",
                    _ => $"  [{done}/{run.Steps.Count}] {s.Step.Node,-6} {what}: {RunTimeline.Status(s.Status)}",
                });
            }
            if (run.IsFinished)
            {
                Console.WriteLine($"run {RunTimeline.Short(run.Id)} {RunTimeline.Status(run.Status)}{(run.Status == RunStatus.Completed ? "" : $": {run.Outcome}")} in {RunTimeline.Duration(run.EndedAt - run.RequestedAt)}");
                Console.WriteLine($"timeline: opensvc run show {run.Id}");
                return run.Status == RunStatus.Completed ? ExitCodes.Ok : ExitCodes.Failed;
            }
            await Task.Delay(200, ct).ConfigureAwait(false);
        }
    }

    static async Task<ServiceActivity> Load(ClusterSession cluster, string name, CancellationToken ct) =>
        await cluster.Client.ServiceAsync(name, ct).ConfigureAwait(false) is { ConfigText: not null } s
            ? s
            : throw new UserError($"service {name} does not exist (opensvc svc create {name} --config FILE)");
}
