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
    public static Command Create(Option<string?> connection)
    {
        var svc = new Command("svc", "Services in the cluster: create/update/delete/list/print/history, status, and actions");
        svc.Subcommands.Add(Configure("create", "Store a new service from an OpenSVC config file", connection, mustExist: false));
        svc.Subcommands.Add(Configure("update", "Store a new version of a service's config (diff recorded)", connection, mustExist: true));
        svc.Subcommands.Add(Delete(connection));
        svc.Subcommands.Add(List(connection));
        svc.Subcommands.Add(Print(connection));
        svc.Subcommands.Add(History(connection));
        svc.Subcommands.Add(StatusCommand(connection));
        foreach (var action in new[] { "start", "stop", "startstandby", "switch", "takeover", "sync" })
            svc.Subcommands.Add(Action(action, connection));
        return svc;
    }

    static Argument<string> NameArg() => new("name") { Description = "service name" };

    static Command Configure(string verb, string description, Option<string?> connection, bool mustExist)
    {
        var name = NameArg();
        var config = new Option<string>("--config") { Description = "OpenSVC config file", Required = true };
        var cmd = new Command(verb, description) { name, config };
        cmd.SetAction(async (p, ct) =>
        {
            var service = ConfigFiles.ServiceName(p.GetValue(name)!, p.GetValue(name));
            var path = p.GetValue(config)!;
            var text = ConfigFiles.ReadText(path);
            await using var cluster = await ClusterSession.OpenAsync(p.GetValue(connection), ct).ConfigureAwait(false);
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

    static Command Delete(Option<string?> connection)
    {
        var name = NameArg();
        var cmd = new Command("delete", "Delete a service's config (its history stays in the event store)") { name };
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p.GetValue(connection), ct).ConfigureAwait(false);
            var problem = await cluster.Client.DeleteServiceAsync(new DeleteService(p.GetValue(name)!, RunCommands.Operator()), ct).ConfigureAwait(false);
            if (problem is not null)
                throw new UserError(problem, ExitCodes.Refused);
            Console.WriteLine($"service {p.GetValue(name)} deleted");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static Command List(Option<string?> connection)
    {
        var cmd = new Command("list", "List services with their config version and the run holding them");
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p.GetValue(connection), ct).ConfigureAwait(false);
            Console.WriteLine($"{"SERVICE",-16} {"CONFIG",-20} {"CHANGED (UTC)",-19}  {"BY",-10} RUN IN FLIGHT");
            foreach (var s in await cluster.Client.ServicesAsync(ct).ConfigureAwait(false))
                Console.WriteLine($"{s.Service,-16} {s.VersionLabel,-20} {s.ConfiguredAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture),-19}  {s.ConfiguredBy,-10} " +
                    (s.ActiveRun is { } r ? $"{RunTimeline.Short(r)} ({RunDecider.ActionName(s.ActiveAction!.Value)})" : "-"));
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static Command Print(Option<string?> connection)
    {
        var name = NameArg();
        var node = new Option<string?>("--node") { Description = "print the service as this node resolves it (default: the stored config text)" };
        var json = new Option<bool>("--json") { Description = "with --node: stable JSON" };
        var cmd = new Command("print", "Print a stored service's config, or its resolved view for one node") { name, node, json };
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p.GetValue(connection), ct).ConfigureAwait(false);
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

    static Command History(Option<string?> connection)
    {
        var name = NameArg();
        var cmd = new Command("history", "The service's config versions: who changed what, when") { name };
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p.GetValue(connection), ct).ConfigureAwait(false);
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

    static Command StatusCommand(Option<string?> connection)
    {
        var name = NameArg();
        var cmd = new Command("status", "The service's status on every node, and its cluster-wide avail and overall") { name };
        cmd.SetAction(async (p, ct) =>
        {
            await using var cluster = await ClusterSession.OpenAsync(p.GetValue(connection), ct).ConfigureAwait(false);
            var s = await Load(cluster, p.GetValue(name)!, ct).ConfigureAwait(false);
            var (view, problem) = ServiceViewBuilder.From(ConfigParser.Parse(s.ConfigText, s.Service + ".conf"), s.Service);
            if (view is null)
                throw new UserError(problem!);
            var reports = await cluster.Client.InstanceStatusAsync(s.Service, ct).ConfigureAwait(false);
            var agents = await cluster.Client.AgentsAsync(ct).ConfigureAwait(false);
            var now = DateTimeOffset.UtcNow;
            var instances = reports.Where(r => view.IsPeer(new NodeName(r.Node))).Select(r => new InstanceStatus(r.Avail, r.Overall)).ToList();
            var resolved = ServiceResolver.Resolve(ConfigParser.Parse(s.ConfigText, s.Service + ".conf"), s.Service, view.Nodes[0]);
            var service = ServiceStatus.Of(view.Topology, instances, resolved.FlexMin, resolved.FlexMax);
            Console.WriteLine($"{s.Service}  avail {service.Avail.ToDisplay()}  overall {service.Overall.ToDisplay()}  ({view.Topology.ToString().ToLowerInvariant()}, config {s.VersionLabel})");
            foreach (var node in view.Peers)
            {
                var agent = agents.FirstOrDefault(a => a.Id == node.Value);
                var reachable = agent is not null && agent.IsFresh(now, ClusterStates.DeadAfter);
                var r = reports.FirstOrDefault(x => x.Node == node.Value);
                Console.WriteLine($"  {node.Value,-8} {(view.IsDrpNode(node) ? "drp" : "node"),-5} " +
                    (r is null ? "no status reported yet" : $"avail {r.Avail.ToDisplay(),-10} overall {r.Overall.ToDisplay(),-10} as of {RunTimeline.Duration(now - r.UpdatedAt)} ago") +
                    (reachable ? "" : "  (agent not answering: last known state)"));
                foreach (var line in r?.Resources ?? [])
                    Console.WriteLine($"      {line.Rid,-12} {line.Driver,-17} {line.Status.ToDisplay(),-10}{(line.Message is { } m ? " " + m : "")}");
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    static Command Action(string verb, Option<string?> connection)
    {
        var name = NameArg();
        var o = ActionOptions.Create();
        var noWait = new Option<bool>("--no-wait") { Description = "submit and return the run id without following it" };
        var cmd = new Command(verb, $"Run '{verb}' as a durable workflow and follow it (exit 0 done, 1 failed, 3 refused)") { name, noWait };
        o.AddTo(cmd);
        cmd.SetAction(async (p, ct) =>
        {
            var request = o.Request(p, verb, RunCommands.Operator());
            await using var cluster = await ClusterSession.OpenAsync(p.GetValue(connection), ct).ConfigureAwait(false);
            var s = await Load(cluster, p.GetValue(name)!, ct).ConfigureAwait(false);
            var doc = ConfigParser.Parse(s.ConfigText, s.Service + ".conf");
            ConfigFiles.RequirePeer(doc, s.Service, request.Node);
            var (view, problem) = ServiceViewBuilder.From(doc, s.Service);
            if (view is null)
                throw new UserError(problem!);
            var state = ClusterStates.From(view, await cluster.Client.AgentsAsync(ct).ConfigureAwait(false),
                await cluster.Client.InstanceStatusAsync(s.Service, ct).ConfigureAwait(false), DateTimeOffset.UtcNow);

            string? refusal = null;
            Plan? plan = null;
            switch (Planner.Plan(view, request, state))
            {
                case Refusal r:
                    refusal = r.Reason;
                    break;
                case AcceptedPlan a:
                    var errors = ServiceViewBuilder.ErrorsFor(ConfigValidator.Validate(doc, s.Service), a.Plan.Steps.Select(x => x.Node).Append(request.Node));
                    if (errors.Count > 0)
                        refusal = $"the config ({s.VersionLabel}) has errors for the nodes this plan touches: " +
                            string.Join("; ", errors.Select(e => $"[{e.Section}] {e.Keyword}: {e.Reason}{(e.Fix is { } f ? $" (fix: {f})" : "")}"));
                    else
                        plan = a.Plan;
                    break;
            }
            if (plan is null)
            {
                var id = await cluster.Client.RecordRefusalAsync(new RecordRefusal(s.Service, request.Action, request.Node, request.RequestedBy, request.Reason, refusal!), ct).ConfigureAwait(false);
                Console.Error.WriteLine($"opensvc: refused: {refusal}");
                Console.Error.WriteLine($"recorded as run {RunTimeline.Short(id)}: opensvc run show {id}");
                return ExitCodes.Refused;
            }
            var submitted = await cluster.Client.SubmitAsync(new SubmitRun(plan, request.RequestedBy, request.Reason, request.Force, s.ConfigText!, s.VersionLabel), ct).ConfigureAwait(false);
            if (!submitted.Accepted)
            {
                Console.Error.WriteLine($"opensvc: refused: {submitted.Refusal}");
                return ExitCodes.Refused;
            }
            Console.WriteLine($"run {submitted.RunId}: {verb} {s.Service} on {request.Node}{(request.To is { } to ? $" to {to}" : "")}, {plan.Steps.Count} steps");
            if (p.GetValue(noWait))
            {
                Console.WriteLine($"follow it with: opensvc run show {submitted.RunId}");
                return ExitCodes.Ok;
            }
            return await Follow(cluster.Client, submitted.RunId, ct).ConfigureAwait(false);
        });
        return cmd;
    }

    /// <summary>Live progress: one line per step as it ends, then the outcome and how to see the timeline.</summary>
    public static async Task<int> Follow(IClusterClient client, Guid runId, CancellationToken ct)
    {
        var reported = new HashSet<(int, StepStatus, int)>();
        var started = DateTimeOffset.UtcNow;
        while (true)
        {
            var (run, _) = await client.FindRunAsync(runId.ToString(), ct).ConfigureAwait(false);
            if (run is null)
                throw new UserError($"run {runId} vanished");
            foreach (var s in run.Steps)
            {
                if (s.Status is StepStatus.Pending or StepStatus.Scheduled || !reported.Add((s.Step.Index, s.Status, s.Attempt)))
                    continue;
                var what = $"{RunDecider.ActionName(s.Step.Action)} {s.Step.Rid}{(s.Step.Target is { } t ? $" to {t}" : "")}";
                var done = run.Steps.Count(x => x.Status is StepStatus.Succeeded or StepStatus.Compensated);
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
