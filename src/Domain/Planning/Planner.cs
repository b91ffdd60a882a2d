using OpenSvc.Domain.Config;

namespace OpenSvc.Domain.Planning;

/// <summary>
/// Turns a request into an ordered plan, or refuses it with the guard and a reason. Pure: the service
/// view and the cluster state are inputs.
/// <list type="bullet">
/// <item>Step indexes are positions in the plan, from 0; they are printed from 1.</item>
/// <item>Steps form a sequential chain: each step waits for the one before it (OpenSVC runs an action's
/// resources one by one; a switch's start phase therefore waits for its whole stop phase).</item>
/// <item>Order: <see cref="DriverCatalog.StartOrder"/>, each container followed by its netns ips; rids compare as
/// ordinal strings, fs by (dirname(mnt), rid). Stop is the exact reverse. Sync resources play no part in start and stop.</item>
/// <item>A start step of a non-standby resource is compensated by a stop when the service rolls back.</item>
/// </list>
/// </summary>
public static partial class Planner
{
    public static PlanResult Plan(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        ArgumentNullException.ThrowIfNull(svc);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(cluster);
        if (request.Problem() is { } problem)
            return new Refusal(PlanGuard.InvalidRequest, problem + ".");
        request = Complete(svc, request, cluster);
        if (request.Action != ServiceAction.Switch && !svc.IsPeer(request.Node))
            return new Refusal(PlanGuard.InvalidRequest,
                $"{request.Node} is not a node of {svc.Name} (nodes: {List(svc.Nodes)}; drpnodes: {List(svc.DrpNodes)}).");
        // OpenSVC: a disabled service does not honor start and stop, which return success at once; its resources are all
        // disabled, so no action has anything to do on that node.
        if (svc.DisabledOn.Contains(request.Node) || (request.To is { } to && svc.DisabledOn.Contains(to)))
            return new Refusal(PlanGuard.NothingToDo,
                $"{Verb(request.Action)} {svc.Name} on {(svc.DisabledOn.Contains(request.Node) ? request.Node : request.To)} has nothing to do: the service is disabled there (DEFAULT.disable = true; OpenSVC returns success at once). Set disable = false to act on it.");
        var result = request.Action switch
        {
            ServiceAction.Start => PlanStart(svc, request, cluster),
            ServiceAction.Stop => PlanStop(svc, request, cluster),
            ServiceAction.StartStandby => PlanStartStandby(svc, request, cluster),
            ServiceAction.Switch => PlanSwitch(svc, request, cluster),
            ServiceAction.Takeover => PlanTakeover(svc, request, cluster),
            ServiceAction.Sync => PlanSync(svc, request, cluster),
            ServiceAction.Drill => PlanDrill(svc, request, cluster),
            ServiceAction.DrillCleanup => PlanDrillCleanup(svc, request, cluster),
            ServiceAction.Reprotect => PlanReprotect(svc, request, cluster),
            ServiceAction.Giveback => PlanGiveback(svc, request, cluster),
            _ => new Refusal(PlanGuard.InvalidRequest, $"the planner does not know the action {request.Action}."),
        };
        return result is AcceptedPlan accepted ? Checked(svc, accepted) : result;
    }

    /// <summary>The request as it will be planned: a scheduled sync's sender chosen (<see cref="ActionRequest.ChooseSender"/>).</summary>
    public static ActionRequest Complete(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Action == ServiceAction.Sync && request.ChooseSender
            ? request with { Node = Sender(svc, cluster), ChooseSender = false }
            : request;
    }

    /// <summary>A plan that touches a node the config's errors concern cannot run there: refused, with the plan and the errors.</summary>
    static PlanResult Checked(ServiceView svc, AcceptedPlan accepted)
    {
        var errors = svc.ErrorsFor(accepted.Plan.Steps.Select(s => s.Node).Append(accepted.Plan.Node));
        if (errors.Count == 0)
            return accepted;
        return new Refusal(PlanGuard.ConfigErrors, $"the config has {errors.Count} error(s) for the nodes this plan touches: " +
            string.Join("; ", errors.Select(e => $"[{e.Section}] {e.Keyword}: {e.Reason}{(e.Fix is { } f ? $" (fix: {f})" : "")}")))
        {
            Plan = accepted.Plan,
            Problems = errors,
        };
    }

    // ---- start / stop / startstandby ------------------------------------------------------------

    static PlanResult PlanStart(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        var node = request.Node;
        if (Unreachable(svc, node, cluster) is { } unreachable)
            return unreachable;
        if (ReversalGuard(svc, node, request, cluster) is { } reversed)
            return reversed;
        if (svc.Topology == Topology.Failover && ExclusiveGuard(svc, node, request, cluster, Others(svc, node),
                runningHint: other => $"use 'switch --to {node}' to move it, or stop it on {other} first") is { } refused)
            return refused;
        return Build(svc, request, builder => builder.AddStart(node, ResourceAction.Start));
    }

    static PlanResult PlanStop(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        if (Unreachable(svc, request.Node, cluster) is { } unreachable)
            return unreachable;
        return Build(svc, request, builder => builder.AddStop(request.Node, stopStandby: request.Force));
    }

    static PlanResult PlanStartStandby(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        if (Unreachable(svc, request.Node, cluster) is { } unreachable)
            return unreachable;
        return Build(svc, request, builder => builder.AddStart(request.Node, ResourceAction.StartStandby));
    }

    // ---- switch ---------------------------------------------------------------------------------

    static PlanResult PlanSwitch(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        if (request.To is not { } to)
            return new Refusal(PlanGuard.InvalidRequest, $"switch needs a destination: 'switch --to <node>' (nodes: {List(svc.Nodes)}; drpnodes: {List(svc.DrpNodes)}).");
        if (svc.Topology == Topology.Flex)
            return new Refusal(PlanGuard.Switch, $"{svc.Name} is a flex service: it runs on several nodes at once, so there is no single instance to switch. Start or stop instances instead.");
        if (!svc.IsPeer(to))
            return new Refusal(PlanGuard.Switch, $"cannot switch {svc.Name} to {to}: it is in neither nodes ({List(svc.Nodes)}) nor drpnodes ({List(svc.DrpNodes)}).");
        var running = svc.Peers.Where(n => IsRunning(cluster[n].Instance)).ToArray();
        if (running.Length == 0)
            return new Refusal(PlanGuard.Switch, $"{svc.Name} is not up on any node, so there is nothing to switch: use 'start' on {to}.");
        if (running.Length > 1)
            return new Refusal(PlanGuard.Switch, $"{svc.Name} is up on {List(running)} at once; a failover service must run on one node. Stop it on all but one node first.");
        var from = running[0];
        if (from == to)
            return new Refusal(PlanGuard.Switch, $"{svc.Name} already runs on {to}: nothing to switch.");
        if (Unreachable(svc, from, cluster) is { } fromUnreachable)
            return fromUnreachable;
        if (Unreachable(svc, to, cluster) is { } toUnreachable)
            return toUnreachable;
        if (ReversalGuard(svc, to, request, cluster) is { } reversed)
            return reversed;
        var others = Others(svc, from).Where(n => n != to);
        if (ExclusiveGuard(svc, to, request, cluster, others, runningHint: _ => "stop it there first") is { } refused)
            return refused;
        return Build(svc, request with { Node = from }, builder =>
        {
            builder.AddStop(from, stopStandby: false);
            builder.AddStart(to, ResourceAction.Start);
        });
    }

    // ---- takeover -------------------------------------------------------------------------------

    static PlanResult PlanTakeover(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        var node = request.Node;
        if (!svc.IsDrpNode(node))
            return new Refusal(PlanGuard.Takeover, $"takeover brings {svc.Name} up on a DR node, and {node} is a primary node. Use 'switch --to {node}' instead.");
        if (Unreachable(svc, node, cluster) is { } unreachable)
            return unreachable;
        if (ReversalGuard(svc, node, request, cluster) is { } reversed)
            return reversed;
        if (ExclusiveGuard(svc, node, request, cluster, Others(svc, node),
                runningHint: other => $"use 'switch --to {node}' for a planned move, or stop it on {other} first") is { } refused)
            return refused;
        return Build(svc, request, builder => builder.AddStart(node, ResourceAction.Start));
    }

    // ---- sync -----------------------------------------------------------------------------------

    static PlanResult PlanSync(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        var sender = request.Node;
        if (Unreachable(svc, sender, cluster) is { } unreachable)
            return unreachable;
        var instance = cluster[sender].Instance;
        if (!(instance == Status.Up || (request.Force && instance == Status.Warn)))
            return new Refusal(PlanGuard.SyncServiceNotUp,
                $"{svc.Name} is {instance.ToDisplay()} on {sender}: data is sent only from the node where the service is up" +
                (instance == Status.Warn ? " (use --force to send from a warn instance)." : "."));
        if (cluster.Reversal is { } reversal)
            return PlanReversedSync(svc, request, cluster, reversal);
        if (svc.Topology == Topology.Flex && sender != svc.FlexPrimary)
            return new Refusal(PlanGuard.SyncFlexNonPrimary,
                $"{svc.Name} is a flex service: only its flex primary {svc.FlexPrimary} sends data, and {sender} is not it. Run the sync on {svc.FlexPrimary}.");

        var all = svc.ResourcesOn(sender).Where(r => r.IsSync).OrderBy(r => r.Rid.ToString(), StringComparer.Ordinal).ToArray();
        ResourceView[] chosen;
        if (request.SyncRid is { } rid)
        {
            var one = all.FirstOrDefault(r => r.Rid == rid);
            if (one is null)
                return new Refusal(PlanGuard.Resource, $"{rid} is not a sync resource of {svc.Name} on {sender} (sync resources: {List(all.Select(r => r.Rid))}).");
            if (one.Disabled)
                return new Refusal(PlanGuard.Resource, $"{rid} is disabled on {sender}.");
            chosen = [one];
        }
        else
        {
            chosen = all;
            if (chosen.Length == 0)
                return new Refusal(PlanGuard.NothingToDo, $"{svc.Name} has no sync resource on {sender}.");
        }

        var skipped = new List<SkippedResource>();
        var sends = new List<(ResourceView Resource, NodeName Target)>();
        foreach (var r in chosen)
        {
            if (r.Disabled)
            {
                skipped.Add(new SkippedResource(sender, r.Rid, "disabled"));
                continue;
            }
            var targets = SyncTargetsOf(svc, r.Targets & request.SyncTargets, sender);
            if (targets.Count == 0)
            {
                var reason = $"no target nodes ({DescribeTargets(svc, r.Targets, request.SyncTargets, sender)})";
                if (request.SyncRid is not null)
                    return new Refusal(PlanGuard.SyncNoTarget, $"{r.Rid}: {reason}.");
                skipped.Add(new SkippedResource(sender, r.Rid, reason));
                continue;
            }
            var production = targets.Where(t => svc.Nodes.Contains(t)).ToArray();
            if (svc.IsDrpNode(sender) && production.Length > 0)
                return new Refusal(PlanGuard.SyncDrpToProduction,
                    $"{sender} is a DR node: it never sends data over production ({r.Rid} would send to {List(production)}). " +
                    "Sync from the primary node where the service runs, or restrict this sync to drpnodes.");
            // A target whose agent is silent cannot get ready to receive, nor be checked: a send to it would hold the
            // service until it failed. It is left out, with the reason, and its copy's age shows in the lag table.
            foreach (var silent in targets.Where(t => !cluster[t].Reachable))
                skipped.Add(new SkippedResource(sender, r.Rid, $"target {silent}: its agent is not heartbeating"));
            sends.AddRange(targets.Where(t => cluster[t].Reachable).Select(t => (r, t)));
        }
        if (sends.Count == 0)
            return new Refusal(skipped.Count > 0 && skipped.All(x => x.Reason.EndsWith("not heartbeating", StringComparison.Ordinal)) ? PlanGuard.NodeUnreachable : PlanGuard.SyncNoTarget,
                $"nothing to send from {sender}: " + string.Join("; ", skipped.Select(s => $"{s.Rid}: {s.Reason}")) + ".");

        // Each send waits for the previous one; a target that must get ready first gets its own step, on its own node,
        // just before the send (the sync resource's optional flag applies to both).
        var steps = new List<PlanStep>();
        foreach (var (resource, target) in sends)
        {
            if (resource.PreparesTarget)
                steps.Add(new PlanStep(steps.Count, target, resource.Rid, resource.Driver, ResourceAction.PrepareReceive,
                    steps.Count == 0 ? [] : [steps.Count - 1], DriverCatalog.PrepareReceivePolicy, Optional: resource.Optional));
            steps.Add(new PlanStep(steps.Count, sender, resource.Rid, resource.Driver, ResourceAction.Sync,
                steps.Count == 0 ? [] : [steps.Count - 1], DriverCatalog.PolicyOf(resource.Driver), Target: target, Optional: resource.Optional));
        }
        return new AcceptedPlan(new Plan(svc.Name, ServiceAction.Sync, sender, null, svc.Rollback, steps), skipped);
    }

    /// <summary>
    /// Where a scheduled sync sends from: a flex service's flex primary; else the primary node where the service is
    /// up, else any peer where it is up, else its first node (whose refusal, "not up", is then recorded).
    /// </summary>
    static NodeName Sender(ServiceView svc, ClusterState cluster)
    {
        if (svc.Topology == Topology.Flex)
            return svc.FlexPrimary;
        if (cluster.Reversal is { } reversal)
            return reversal.From;
        var up = svc.Peers.Where(n => cluster[n].Instance == Status.Up).ToList();
        return up.FirstOrDefault(svc.Nodes.Contains) is { Value: not null } primary ? primary
            : up.FirstOrDefault() is { Value: not null } any ? any
            : svc.Nodes[0];
    }

    /// <summary>(nodes if Nodes) ∪ (drpnodes if DrpNodes), minus the sender, in config order.</summary>
    static List<NodeName> SyncTargetsOf(ServiceView svc, SyncTargets targets, NodeName sender)
    {
        var result = new List<NodeName>();
        if (targets.HasFlag(SyncTargets.Nodes))
            result.AddRange(svc.Nodes);
        if (targets.HasFlag(SyncTargets.DrpNodes))
            result.AddRange(svc.DrpNodes);
        return result.Where(n => n != sender).Distinct().ToList();
    }

    static string DescribeTargets(ServiceView svc, SyncTargets keyword, SyncTargets filter, NodeName sender)
    {
        if (keyword == SyncTargets.None)
            return "its target keyword names no peer group";
        if ((keyword & filter) == SyncTargets.None)
            return $"target = {TargetWords(keyword)}, but this sync asked for {TargetWords(filter)} only";
        var effective = keyword & filter;
        var groups = new List<string>();
        if (effective.HasFlag(SyncTargets.Nodes))
            groups.Add(svc.Nodes.All(n => n == sender) ? $"nodes holds only {sender}" : "");
        if (effective.HasFlag(SyncTargets.DrpNodes))
            groups.Add(svc.DrpNodes.Count == 0 ? $"{svc.Name} has no drpnodes" : $"drpnodes holds only {sender}");
        return $"target = {TargetWords(keyword)}, and " + string.Join(", ", groups.Where(g => g.Length > 0));
    }

    static string TargetWords(SyncTargets t) => t switch
    {
        SyncTargets.Nodes => "nodes",
        SyncTargets.DrpNodes => "drpnodes",
        SyncTargets.All => "nodes drpnodes",
        _ => "none",
    };

    // ---- guards ---------------------------------------------------------------------------------

    static bool IsRunning(Status instance) => instance is Status.Up or Status.Warn;

    static IEnumerable<NodeName> Others(ServiceView svc, NodeName node) => svc.Peers.Where(n => n != node);

    static Refusal? Unreachable(ServiceView svc, NodeName node, ClusterState cluster) =>
        cluster[node].Reachable
            ? null
            : new Refusal(PlanGuard.NodeUnreachable,
                $"the agent on {node} is not heartbeating, so no step of {svc.Name} can run there. Bring the agent back first.");

    /// <summary>
    /// A failover instance may start on <paramref name="node"/> only when no other peer runs it: refused when a
    /// reachable peer is up or warn; when a peer is unreachable its state is unknown, and only a forced request
    /// with a reason (recorded in the run) may proceed, or the orchestrator's start, for which a silent peer is not
    /// available (OpenSVC) unless its last report said the service runs there.
    /// </summary>
    static Refusal? ExclusiveGuard(ServiceView svc, NodeName node, ActionRequest request, ClusterState cluster,
        IEnumerable<NodeName> others, Func<NodeName, string> runningHint)
    {
        var peers = others.ToArray();
        var running = peers.Where(n => cluster[n].Reachable && IsRunning(cluster[n].Instance)).ToArray();
        if (running.Length > 0)
        {
            var first = running[0];
            var how = cluster[first].Instance == Status.Up ? "up" : "partly up (warn)";
            return new Refusal(PlanGuard.RunningElsewhere,
                $"{svc.Name} is already {how} on {List(running)}; a failover service runs on one node at a time, so it cannot start on {node}: {runningHint(first)}.");
        }
        var unknown = peers.Where(n => !cluster[n].Reachable).ToArray();
        if (request.Orchestrated && unknown.Where(n => IsRunning(cluster[n].Instance)).ToArray() is { Length: > 0 } lastUp)
            return new Refusal(PlanGuard.PeerStateUnknown,
                $"the agent on {List(lastUp)} is not heartbeating and last reported {svc.Name} up there; the orchestrator does not start it on {node}, " +
                $"which could run it twice on the same data. If you know {List(lastUp)} is down (powered off or fenced), start it with --force and a --reason.");
        if (unknown.Length > 0 && !request.Force && !request.Orchestrated)
        {
            // A forced request always carries its reason (ActionRequest.Problem), recorded in the run's first event.
            const string missing = "retry with --force and a --reason, which are recorded in the audit trail";
            return new Refusal(PlanGuard.PeerStateUnknown,
                $"the agent on {List(unknown)} is not heartbeating, so whether {svc.Name} still runs there is unknown; starting it on {node} could run it twice on the same data. " +
                $"If you know {List(unknown)} is down (powered off or fenced), {missing}.");
        }
        return null;
    }

    // ---- step building --------------------------------------------------------------------------

    static PlanResult Build(ServiceView svc, ActionRequest request, Action<StepBuilder> fill)
    {
        var builder = new StepBuilder(svc);
        fill(builder);
        if (builder.Error is { } error)
            return error;
        if (builder.Steps.Count == 0)
        {
            var why = builder.Skipped.Count == 0 ? "" : ": " + string.Join("; ", builder.Skipped.Select(s => $"{s.Rid} {s.Reason}"));
            return new Refusal(PlanGuard.NothingToDo, $"{Verb(request.Action)} {svc.Name} on {request.Node} has nothing to do{why}.");
        }
        var plan = new Plan(svc.Name, request.Action, request.Node, request.To, svc.RollbackFor(request.Node), builder.Steps);
        return new AcceptedPlan(plan, builder.Skipped);
    }

    static string Verb(ServiceAction action) => action.ToString().ToLowerInvariant();

    static string List(IEnumerable<NodeName> nodes)
    {
        var text = string.Join(", ", nodes);
        return text.Length == 0 ? "none" : text;
    }

    static string List(IEnumerable<ResourceId> rids)
    {
        var text = string.Join(", ", rids);
        return text.Length == 0 ? "none" : text;
    }

    sealed partial class StepBuilder(ServiceView svc)
    {
        public List<PlanStep> Steps { get; } = [];
        public List<SkippedResource> Skipped { get; } = [];
        public Refusal? Error { get; private set; }

        public void AddStart(NodeName node, ResourceAction action, Func<ResourceView, bool>? only = null)
        {
            foreach (var r in StartOrder(node).Where(only ?? (_ => true)))
            {
                if (action == ResourceAction.StartStandby && !r.Standby)
                {
                    Skipped.Add(new SkippedResource(node, r.Rid, $"not standby on {node}"));
                    continue;
                }
                var compensate = action == ResourceAction.Start && svc.Rollback && !r.Standby;
                Add(node, r, action, compensate ? ResourceAction.Stop : null);
            }
        }

        public void AddStop(NodeName node, bool stopStandby, ResourceAction? compensation = null)
        {
            foreach (var r in Enumerable.Reverse(StartOrder(node)))
            {
                if (r.Standby && !stopStandby)
                {
                    Skipped.Add(new SkippedResource(node, r.Rid, $"standby on {node}: stop leaves it up (--force stops it)"));
                    continue;
                }
                Add(node, r, ResourceAction.Stop, compensation);
            }
        }

        void Add(NodeName node, ResourceView r, ResourceAction action, ResourceAction? compensation)
        {
            var index = Steps.Count;
            Steps.Add(new PlanStep(index, node, r.Rid, r.Driver, action,
                WaitsFor: index == 0 ? [] : [index - 1],
                Policy: DriverCatalog.PolicyOf(r.Driver),
                Compensation: compensation,
                Optional: r.Optional));
        }

        /// <summary>The node's startable resources in start order; disabled and orphan netns ips are recorded as skipped.</summary>
        public List<ResourceView> StartOrder(NodeName node)
        {
            var ordered = new List<ResourceView>();
            var resources = svc.ResourcesOn(node).Where(r => !r.IsSync).ToArray();
            foreach (var r in resources.Where(r => r.Disabled))
                Skipped.Add(new SkippedResource(node, r.Rid, "disabled"));
            var active = resources.Where(r => !r.Disabled).ToArray();

            var unknown = active.Where(r => !r.IsNetnsIp && Rank(r) < 0).ToArray();
            if (unknown.Length > 0)
            {
                Error ??= new Refusal(PlanGuard.Resource,
                    $"the planner does not know where to place {List(unknown.Select(r => r.Rid))} ({string.Join(", ", unknown.Select(r => r.Driver).Distinct())}) in a start or stop.");
                return ordered;
            }

            var netnsIps = active.Where(r => r.IsNetnsIp).ToArray();
            var containers = active.Where(r => r.Group == "container").Select(r => r.Rid).ToHashSet();
            foreach (var ip in netnsIps.Where(ip => ip.Netns is not { } c || !containers.Contains(c)))
                Skipped.Add(new SkippedResource(node, ip.Rid, ip.Netns is { } c
                    ? $"its container {c} is not active on {node}"
                    : "an ip.docker without a netns container"));

            foreach (var r in active.Where(r => !r.IsNetnsIp).OrderBy(Rank).ThenBy(SortKey, StringComparer.Ordinal).ThenBy(r => r.Rid.ToString(), StringComparer.Ordinal))
            {
                ordered.Add(r);
                if (r.Group == "container")
                    ordered.AddRange(netnsIps.Where(ip => ip.Netns == r.Rid).OrderBy(ip => ip.Rid.ToString(), StringComparer.Ordinal));
            }
            return ordered;
        }

        static int Rank(ResourceView r) => DriverCatalog.StartRank(r.Group);

        /// <summary>fs sorts by the parent directory of its mount point first, as OpenSVC does.</summary>
        static string SortKey(ResourceView r) =>
            r.Group == "fs" && r.MountPoint is { } mnt ? DirName(mnt) : "";
    }

    /// <summary>POSIX dirname as Python's os.path.dirname computes it: "/srv/a" → "/srv", "/a" → "/".</summary>
    public static string DirName(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var head = path[..(path.LastIndexOf('/') + 1)];
        if (head.Length > 0 && head.Any(c => c != '/'))
            head = head.TrimEnd('/');
        return head;
    }
}
