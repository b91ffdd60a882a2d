using OpenSvc.Domain.Config;

namespace OpenSvc.Domain.Planning;

/// <summary>What the orchestrator knows when an agent starts: the instances' avail as last reported, which agents live, what is frozen.</summary>
public sealed record OrchestrationFacts(IReadOnlyDictionary<NodeName, Status> Avail, IReadOnlySet<NodeName> Live, bool ServiceFrozen, bool NodeFrozen)
{
    /// <summary>Only the service's instance on the deciding node is frozen (<c>svc freeze NAME --node N</c>).</summary>
    public bool InstanceFrozen { get; init; }

    /// <summary>Who froze what and when, as "frozen since ... by ...", for the decision's reason; empty when unknown.</summary>
    public string FrozenDetail { get; init; } = "";
}

/// <summary>Whether the agent of a node should request a start of a service there, and why (the run's reason either way).</summary>
public sealed record OrchestrationDecision(bool Start, string Reason);

/// <summary>
/// OpenSVC's <c>orchestrate = start</c> (and the 2015 <c>autostart_node</c>), decided when an agent starts: a
/// failover service that is up nowhere starts on the first live candidate node (nodes order, or the autostart_node
/// list); a flex service starts on the first live candidates until <c>flex_target</c> (kept between flex_min and
/// flex_max) instances are up. Never on a DR node (a DR activation is a takeover), never while frozen, never a
/// failover service that is up elsewhere. <c>orchestrate = ha</c> starts the same way; its failover is not acted on.
/// </summary>
public static class Orchestration
{
    public static OrchestrationDecision Decide(ResolvedService service, NodeName local, OrchestrationFacts facts)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(facts);
        var how = service.AutostartNodes.Count > 0 ? $"autostart_node = {string.Join(' ', service.AutostartNodes)}" : $"orchestrate = {service.Orchestrate.ToString().ToLowerInvariant()}";
        if (service.Orchestrate == Orchestrate.No)
            return new(false, "orchestrate = no: started by an operator only");
        if (!service.Nodes.Contains(local))
            return new(false, $"{local} is not in nodes: a DR node starts the service by a takeover, never by itself");
        IReadOnlyList<NodeName> candidates = service.AutostartNodes.Count > 0 ? [.. service.AutostartNodes.Where(service.Nodes.Contains)] : service.Nodes;
        if (!candidates.Contains(local))
            return new(false, $"{how}: {local} is not a node where the service starts by itself");
        var frozen = facts.FrozenDetail.Length > 0 ? facts.FrozenDetail : "frozen";
        if (facts.ServiceFrozen)
            return new(false, $"{service.Name} is {frozen}: no automatic start (opensvc svc thaw {service.Name})");
        if (facts.InstanceFrozen)
            return new(false, $"{service.Name} on {local} is {frozen}: no automatic start there (opensvc svc thaw {service.Name} --node {local})");
        if (facts.NodeFrozen)
            return new(false, $"{local} is {frozen}: no automatic start of any service there (opensvc node thaw --node {local})");
        bool Running(NodeName n) => facts.Avail.TryGetValue(n, out var a) && a is Status.Up or Status.Warn;
        if (Running(local))
            return new(false, $"{service.Name} is already up on {local}");
        var up = service.Nodes.Concat(service.DrpNodes).Distinct().Where(Running).ToList();
        var ranked = candidates.Where(n => n == local || facts.Live.Contains(n)).ToList();
        if (service.Topology == Topology.Failover)
        {
            if (up.Count > 0)
            {
                var stale = up.Where(n => !facts.Live.Contains(n)).ToList();
                var lastSaid = stale.Count == 0 ? "" : $" (as the agent of {string.Join(", ", stale)} last reported; it is not heartbeating now)";
                return new(false, $"{service.Name} is up on {string.Join(", ", up)}{lastSaid}: a failover service runs on one node at a time");
            }
            if (ranked[0] != local)
                return new(false, $"{how}: {ranked[0]} ranks before {local} and its agent is live");
            // OpenSVC's daemon: a node whose agent is down is not available, so the first live node starts the service.
            var silent = candidates.Where(n => n != local && !facts.Live.Contains(n)).ToList();
            var unavailable = silent.Count switch
            {
                0 => "",
                1 => $"; {silent[0]}'s agent is not heartbeating: not available",
                _ => $"; the agents of {string.Join(", ", silent)} are not heartbeating: not available",
            };
            return new(true, $"{how}: {service.Name} is up nowhere and {local} is the first live node of {string.Join(' ', candidates)}{unavailable}");
        }
        var target = Math.Clamp(service.FlexTarget, Math.Max(service.FlexMin, 1), Math.Max(service.FlexMax, 1));
        if (up.Count >= target)
            return new(false, $"{how}: {up.Count} instance(s) up, flex target {target} (flex_min {service.FlexMin}, flex_max {service.FlexMax}) reached");
        var starters = ranked.Where(n => !Running(n)).Take(target - up.Count).ToList();
        return starters.Contains(local)
            ? new(true, $"{how}: {up.Count} of {target} flex instance(s) up (flex_min {service.FlexMin}, flex_max {service.FlexMax}); {local} ranks among the next to start")
            : new(false, $"{how}: {string.Join(", ", starters)} rank before {local} for the missing flex instance(s)");
    }
}
