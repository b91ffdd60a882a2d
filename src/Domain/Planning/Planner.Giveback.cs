using System.Globalization;
using OpenSvc.Domain.Config;

namespace OpenSvc.Domain.Planning;

/// <summary>
/// Reprotect and giveback, the way back from a takeover, and the syncs and guards of a reversed protection.
/// <list type="bullet">
/// <item>reprotect (on the DR node where the service now runs): the preferred primary mounts its receiving filesystems
/// (startstandby of its storage resources, as a DR node keeps them mounted), then each sync resource that protects the
/// DR copy sends from the DR node to it. Completing the run records the reversal on the service.</item>
/// <item>giveback (from the reversal's sender to its receiver): the receiving mounts again (no change when in place), the
/// image sends (sync.docker needs the running service's dockerd), the stop on the sender (each stop compensated by a start,
/// so a failed giveback leaves the service where it ran), the final sends of the now quiet data, then the start of
/// everything else on the receiver. Completing it restores the normal
/// direction.</item>
/// <item>While reversed, syncs send from the reversal's sender to its receiver only, and starting the service anywhere
/// else (which would run an older copy) is refused unless forced with a reason.</item>
/// </list>
/// The sends of these plans are never optional: their copy is the point of the run.
/// </summary>
public static partial class Planner
{
    /// <summary>The resource groups that hold data and are mounted to receive a sync (the storage half of a start).</summary>
    static readonly string[] StorageGroups = ["volume", "disk", "fs"];

    static bool IsStorage(ResourceView r) => StorageGroups.Contains(r.Group);

    // ---- reprotect ------------------------------------------------------------------------------

    static PlanResult PlanReprotect(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        var from = request.Node;
        if (svc.Topology == Topology.Flex)
            return new Refusal(PlanGuard.Protection, $"{svc.Name} is a flex service: reprotect reverses the protection of a failover service after a takeover.");
        if (cluster.Reversal is { } reversal)
            return new Refusal(PlanGuard.Protection, reversal.From == from
                ? $"{svc.Name}'s protection is already reversed ({reversal.Direction}, since {Stamp(reversal.Since)}): scheduled syncs send from {from}; " +
                  $"'svc sync {svc.Name} --node {from}' sends now, and 'svc giveback {svc.Name} --node {from}' moves the service back."
                : $"{svc.Name}'s protection is reversed from {reversal.From} ({reversal.Direction}, since {Stamp(reversal.Since)}), not from {from}.");
        if (!svc.IsDrpNode(from))
            return new Refusal(PlanGuard.Protection,
                $"reprotect reverses the protection after a takeover onto a DR node, and {from} is a primary node: its syncs already send to the DR nodes ({List(svc.DrpNodes)}).");
        if (Unreachable(svc, from, cluster) is { } unreachable)
            return unreachable;
        if (cluster[from].Instance != Status.Up)
            return new Refusal(PlanGuard.Protection,
                $"{svc.Name} is {cluster[from].Instance.ToDisplay()} on {from}: reprotect sends from the DR node where the service runs after a takeover. " +
                $"Take it over on {from} first ('svc takeover {svc.Name} --node {from}').");
        var elsewhere = Others(svc, from).Where(n => cluster[n].Reachable && IsRunning(cluster[n].Instance)).ToArray();
        if (elsewhere.Length > 0)
            return new Refusal(PlanGuard.RunningElsewhere,
                $"{svc.Name} is also up on {List(elsewhere)}: reversing the protection would overwrite that instance's data with {from}'s. Stop it there first.");
        var to = svc.Nodes[0];
        if (!cluster[to].Reachable)
            return new Refusal(PlanGuard.NodeUnreachable,
                $"the agent on {to}, the preferred primary that would receive {from}'s data, is not heartbeating: it must mount its receiving filesystems first. Bring the agent back, then reprotect.");
        if (!ReversedSyncs(svc, from).Any())
            return new Refusal(PlanGuard.NothingToDo, $"{svc.Name} has no enabled sync resource on {from} whose target includes drpnodes: there is no DR copy to send back.");
        return Build(svc, request with { To = to }, builder =>
        {
            builder.AddReceivingMounts(to);
            builder.AddReverseSends(from, to);
        });
    }

    // ---- giveback -------------------------------------------------------------------------------

    static PlanResult PlanGiveback(ServiceView svc, ActionRequest request, ClusterState cluster)
    {
        var from = request.Node;
        if (svc.Topology == Topology.Flex)
            return new Refusal(PlanGuard.Protection, $"{svc.Name} is a flex service: giveback moves a failover service back to its preferred primary.");
        if (cluster.Reversal is not { } reversal)
            return new Refusal(PlanGuard.Protection,
                $"{svc.Name}'s protection is not reversed: giveback sends the last changes back over the reversed protection, so the preferred primary must hold a recent copy first. " +
                (svc.IsDrpNode(from) && cluster[from].Instance == Status.Up
                    ? $"Run 'svc reprotect {svc.Name} --node {from}' first."
                    : $"After a takeover, run 'svc reprotect {svc.Name} --node <dr node>' first; to move a service between primary nodes, use 'switch'."));
        if (reversal.From != from)
            return new Refusal(PlanGuard.Protection,
                $"{svc.Name}'s protection is reversed from {reversal.From} ({reversal.Direction}), so giveback runs from there: 'svc giveback {svc.Name} --node {reversal.From}'.");
        var to = reversal.To[0];
        if (Unreachable(svc, from, cluster) is { } fromUnreachable)
            return fromUnreachable;
        if (Unreachable(svc, to, cluster) is { } toUnreachable)
            return toUnreachable;
        if (cluster[to].Instance == Status.Up)
            return new Refusal(PlanGuard.Protection, $"{svc.Name} already runs on {to}: nothing to give back.");
        var elsewhere = Others(svc, from).Where(n => n != to && cluster[n].Reachable && IsRunning(cluster[n].Instance)).ToArray();
        if (elsewhere.Length > 0)
            return new Refusal(PlanGuard.RunningElsewhere, $"{svc.Name} is up on {List(elsewhere)}: a failover service runs on one node at a time. Stop it there first.");
        var unknown = Others(svc, from).Where(n => n != to && !cluster[n].Reachable).ToArray();
        if (unknown.Length > 0 && !request.Force)
            return new Refusal(PlanGuard.PeerStateUnknown,
                $"the agent on {List(unknown)} is not heartbeating, so whether {svc.Name} runs there is unknown; starting it on {to} could run it twice. " +
                $"If you know {List(unknown)} is down, retry with --force and a --reason, which are recorded in the audit trail.");
        // Images are sent while the service still runs (sync.docker reads them from its running private dockerd, and they do not
        // change when it stops); the data once it has stopped writing.
        var syncs = ReversedSyncs(svc, from).ToList();
        var images = syncs.Where(r => r.Driver == "sync.docker").ToList();
        var data = syncs.Except(images).ToList();
        return Build(svc, request with { To = to }, builder =>
        {
            builder.AddReceivingMounts(to);
            builder.AddReverseSends(from, to, images, keepOptional: false);
            builder.AddStop(from, stopStandby: false, compensation: svc.Rollback ? ResourceAction.Start : null);
            builder.AddReverseSends(from, to, data, keepOptional: false);
            builder.AddStart(to, ResourceAction.Start, only: r => !IsStorage(r));
        });
    }

    // ---- while reversed -------------------------------------------------------------------------

    /// <summary>
    /// While reversed, a start (start, takeover, switch destination) anywhere but on the reversal's sender would run an
    /// older copy than the sender's: refused, unless forced with a reason (the sender's site is gone for good).
    /// </summary>
    static Refusal? ReversalGuard(ServiceView svc, NodeName node, ActionRequest request, ClusterState cluster)
    {
        if (cluster.Reversal is not { } reversal || node == reversal.From || request.Force)
            return null;
        return new Refusal(PlanGuard.Protection,
            $"{svc.Name}'s protection is reversed ({reversal.Direction}, since {Stamp(reversal.Since)}): {reversal.From} holds the newest data and {node} an older copy. " +
            $"Use 'svc giveback {svc.Name} --node {reversal.From}' (stop there, send the last changes, start on {reversal.To[0]}); " +
            $"if {reversal.From} is lost, --force with a --reason starts the older copy, and the audit trail records it.");
    }

    /// <summary>A sync while reversed: from the reversal's sender to its receiver only.</summary>
    static PlanResult PlanReversedSync(ServiceView svc, ActionRequest request, ClusterState cluster, ProtectionReversal reversal)
    {
        var sender = request.Node;
        if (sender != reversal.From)
            return new Refusal(PlanGuard.Protection,
                $"{svc.Name}'s protection is reversed ({reversal.Direction}, since {Stamp(reversal.Since)}): {sender} receives from {reversal.From}, " +
                $"and a sync from {sender} would overwrite the newer copy. Sync from {reversal.From}, or give the service back first.");
        if (!request.SyncTargets.HasFlag(SyncTargets.Nodes))
            return new Refusal(PlanGuard.SyncNoTarget,
                $"{svc.Name}'s protection is reversed ({reversal.Direction}): its syncs send to primary nodes, and this sync asked for drpnodes only.");
        var reversed = ReversedSyncs(svc, sender).ToArray();
        if (request.SyncRid is { } rid)
        {
            var one = reversed.FirstOrDefault(r => r.Rid == rid);
            if (one is null)
                return new Refusal(PlanGuard.Resource, $"{rid} is not a sync resource {svc.Name} reverses on {sender} (reversed: {List(reversed.Select(r => r.Rid))}).");
            reversed = [one];
        }
        var builder = new StepBuilder(svc);
        var targets = reversal.To.Where(t => cluster[t].Reachable).ToList();
        foreach (var silent in reversal.To.Where(t => !cluster[t].Reachable))
            foreach (var r in reversed)
                builder.Skipped.Add(new SkippedResource(sender, r.Rid, $"target {silent}: its agent is not heartbeating"));
        foreach (var target in targets)
            builder.AddReverseSends(sender, target, reversed, keepOptional: true);
        if (builder.Steps.Count == 0)
            return new Refusal(targets.Count == 0 ? PlanGuard.NodeUnreachable : PlanGuard.NothingToDo,
                $"nothing to send from {sender}: " + (builder.Skipped.Count == 0 ? "no sync resource protects the DR copy" : string.Join("; ", builder.Skipped.Select(s => $"{s.Rid}: {s.Reason}"))) + ".");
        return new AcceptedPlan(new Plan(svc.Name, ServiceAction.Sync, sender, null, svc.Rollback, builder.Steps), builder.Skipped);
    }

    /// <summary>The enabled sync resources on <paramref name="node"/> that protect the DR copy (target includes drpnodes), in rid order.</summary>
    static IEnumerable<ResourceView> ReversedSyncs(ServiceView svc, NodeName node) =>
        svc.ResourcesOn(node).Where(r => r.IsSync && !r.Disabled && r.Targets.HasFlag(SyncTargets.DrpNodes))
            .OrderBy(r => r.Rid.ToString(), StringComparer.Ordinal);

    static string Stamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    sealed partial class StepBuilder
    {
        /// <summary>The receiver's storage resources, started as a DR node keeps them (startstandby): mounted to receive, nothing served.</summary>
        public void AddReceivingMounts(NodeName node)
        {
            foreach (var r in StartOrder(node).Where(IsStorage))
                Add(node, r, ResourceAction.StartStandby, null);
        }

        /// <summary>Each sync resource protecting the DR copy sends from <paramref name="from"/> to <paramref name="to"/> (its target getting ready first).</summary>
        public void AddReverseSends(NodeName from, NodeName to) => AddReverseSends(from, to, ReversedSyncs(svc, from).ToList(), keepOptional: false);

        public void AddReverseSends(NodeName from, NodeName to, IReadOnlyCollection<ResourceView> syncs, bool keepOptional)
        {
            foreach (var r in syncs)
            {
                var optional = keepOptional && r.Optional;
                if (r.PreparesTarget)
                    Steps.Add(new PlanStep(Steps.Count, to, r.Rid, r.Driver, ResourceAction.PrepareReceive,
                        Steps.Count == 0 ? [] : [Steps.Count - 1], DriverCatalog.PrepareReceivePolicy, Optional: optional));
                Steps.Add(new PlanStep(Steps.Count, from, r.Rid, r.Driver, ResourceAction.Sync,
                    Steps.Count == 0 ? [] : [Steps.Count - 1], DriverCatalog.PolicyOf(r.Driver), Target: to, Optional: optional));
            }
        }
    }
}
