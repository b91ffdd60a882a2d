using OpenSvc.Domain.Config;

namespace OpenSvc.Domain.Planning;

public static partial class Planner
{
    /// <summary>A drill step is quick or broken: a clone, a mount, a container start, an address.</summary>
    public static StepPolicy DrillPolicy { get; } = new(TimeSpan.FromMinutes(2), 3, TimeSpan.FromSeconds(2));

    /// <summary>The check may have to wait for the drilled service to come up: more tries, growing pauses (about 30 s in all).</summary>
    public static StepPolicy DrillCheckPolicy { get; } = new(TimeSpan.FromMinutes(2), 5, TimeSpan.FromSeconds(2));

    // ---- drill ----------------------------------------------------------------------------------

    /// <summary>
    /// A drill on a DR node, production untouched: first each sync resource that sends to the node makes its drill copy
    /// there (sync.btrfs: a writable clone of the last received snapshot, never the one the next incremental send needs;
    /// sync.docker: the synced images checked; sync.rsync: says it cannot clone and what it checked instead), then each
    /// startable resource starts its drill counterpart in start order (fs: the clone mounted at a drill path; containers:
    /// drill names, the clones, no network but the isolated one; ips: on the isolated network only), then a check that
    /// the service answers, on its first container. Every drill-start is undone by a drill-stop if the drill fails. The
    /// syncs' drill copies are made at once; each resource waits for the one before it and for the copies it needs.
    /// </summary>
    static PlanResult PlanDrill(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        var node = request.Node;
        if (!svc.IsDrpNode(node))
            return new Refusal(PlanGuard.Drill,
                $"a drill starts the DR copy of {svc.Name} on a DR node, and {node} is a primary node (drpnodes: {List(svc.DrpNodes)}).");
        if (Unreachable(svc, node, cluster) is { } unreachable)
            return unreachable;
        if (IsRunning(cluster[node].Instance))
            return new Refusal(PlanGuard.Drill,
                $"{svc.Name} runs on {node} (it is {cluster[node].Instance.ToDisplay()} there): a drill proves the DR copy while production runs elsewhere. " +
                "Give the service back to its primary node first.");
        var builder = new StepBuilder(svc);
        var steps = new List<PlanStep>();
        int Add(ResourceView r, ResourceAction action, ResourceAction? compensation, StepPolicy policy, IReadOnlyList<int> waitsFor)
        {
            steps.Add(new PlanStep(steps.Count, node, r.Rid, r.Driver, action, waitsFor, policy, Compensation: compensation, Optional: r.Optional));
            return steps.Count - 1;
        }

        // The syncs' drill copies are independent of each other and of production: they are all made at once, and the
        // start-order chain waits for each only at the first resource that needs it (a clone at the fs that mounts it,
        // the images at the first container), so an image check runs beside the clone and its mounts, not before them.
        var waiting = DrillSyncs(svc, node, builder.Skipped)
            .Select(sync => (Step: Add(sync with { Optional = false }, ResourceAction.DrillStart, ResourceAction.DrillStop, DrillPolicy, []),
                             Feeds: DriverCatalog.Named(sync.Driver)?.DrillFeeds is { } group ? DriverCatalog.StartRank(group) : (int?)null))
            .ToList();
        var order = builder.StartOrder(node);
        if (builder.Error is { } error)
            return error;
        int? previous = null;
        List<int> WaitsFor(Func<int?, bool> due)
        {
            var waits = previous is { } p ? new List<int> { p } : [];
            waits.AddRange(waiting.Where(w => due(w.Feeds)).Select(w => w.Step));
            waiting.RemoveAll(w => due(w.Feeds));
            waits.Sort();
            return waits;
        }
        foreach (var r in order)
        {
            var rank = DriverCatalog.StartRank(r.Group);
            previous = Add(r with { Optional = false }, ResourceAction.DrillStart, ResourceAction.DrillStop,
                r.Group == "fs" ? DrillPolicy : DriverCatalog.PolicyOf(r.Driver), WaitsFor(feeds => feeds <= rank && !r.IsNetnsIp));
        }
        // The check proves the drilled service answers once everything is up: it also waits for the syncs' checks.
        if (order.FirstOrDefault(r => r.Group == "container") is { } first)
            previous = Add(first with { Optional = false }, ResourceAction.DrillCheck, null, DrillCheckPolicy, WaitsFor(_ => true));
        if (steps.Count == 0)
            return new Refusal(PlanGuard.NothingToDo, $"a drill of {svc.Name} on {node} has nothing to start: no resource there.");
        // A failed drill always removes what it started: it must never leave clones or drill containers behind.
        return new AcceptedPlan(new Plan(svc.Name, ServiceAction.Drill, node, null, Rollback: true, steps) { Keep = request.Keep }, builder.Skipped);
    }

    /// <summary>
    /// Removes what a drill on the node created, in the reverse of the drill's order: drill containers and their isolated
    /// network, drill mounts, clones. Every step is a no-op where nothing of a drill is left, so cleanup can always run.
    /// </summary>
    static PlanResult PlanDrillCleanup(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        var node = request.Node;
        if (!svc.IsDrpNode(node))
            return new Refusal(PlanGuard.Drill, $"drills run on DR nodes only, and {node} is a primary node of {svc.Name}: there is no drill to clean up there.");
        if (Unreachable(svc, node, cluster) is { } unreachable)
            return unreachable;
        var builder = new StepBuilder(svc);
        var syncs = DrillSyncs(svc, node, builder.Skipped);
        var order = builder.StartOrder(node);
        if (builder.Error is { } error)
            return error;
        var steps = new List<PlanStep>();
        foreach (var r in Enumerable.Reverse(order).Concat(Enumerable.Reverse(syncs)))
            steps.Add(new PlanStep(steps.Count, node, r.Rid, r.Driver, ResourceAction.DrillStop, steps.Count == 0 ? [] : [steps.Count - 1], DrillPolicy));
        if (steps.Count == 0)
            return new Refusal(PlanGuard.NothingToDo, $"{svc.Name} has no resource on {node}: no drill to clean up.");
        return new AcceptedPlan(new Plan(svc.Name, ServiceAction.DrillCleanup, node, null, Rollback: false, steps), builder.Skipped);
    }

    /// <summary>The sync resources that send to <paramref name="node"/>, in rid order: the data a drill there starts from.</summary>
    static List<ResourceView> DrillSyncs(ServiceView svc, NodeName node, List<SkippedResource> skipped)
    {
        var result = new List<ResourceView>();
        foreach (var r in svc.ResourcesOn(node).Where(r => r.IsSync).OrderBy(r => r.Rid.ToString(), StringComparer.Ordinal))
        {
            if (r.Disabled)
                skipped.Add(new SkippedResource(node, r.Rid, "disabled"));
            else if (!r.Targets.HasFlag(SyncTargets.DrpNodes))
                skipped.Add(new SkippedResource(node, r.Rid, $"does not send to {node} (target = nodes): no copy of its data there to drill"));
            else
                result.Add(r);
        }
        return result;
    }
}
