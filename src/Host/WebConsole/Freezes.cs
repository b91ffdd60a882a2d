using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Monitoring;

namespace OpenSvc.Host.WebConsole;

/// <summary>What a freeze applies to: the whole service, its instance on one node, or a whole node (every service there).</summary>
public enum FreezeScope { Service, Instance, Node }

/// <summary>
/// One freeze as the console shows it: what is frozen in words, who froze it when and why, what it stops, and the CLI
/// command that thaws it (the thaw button posts the same request).
/// </summary>
public sealed record FreezeLine(FreezeScope Scope, string Service, string? Node, FreezeMark Mark)
{
    /// <summary>"svc1", "svc1 on n3", "node n2".</summary>
    public string What => Scope switch
    {
        FreezeScope.Service => Service,
        FreezeScope.Instance => $"{Service} on {Node}",
        _ => $"node {Node}",
    };

    /// <summary>"frozen", "frozen on n3", "n2 frozen": the badge's words.</summary>
    public string Badge => Scope switch
    {
        FreezeScope.Service => "frozen",
        FreezeScope.Instance => $"frozen on {Node}",
        _ => $"node {Node} frozen",
    };

    /// <summary>What the freeze stops, in words.</summary>
    public string Effect => Scope switch
    {
        FreezeScope.Service => $"the orchestrator starts {Service} nowhere by itself",
        FreezeScope.Instance => $"the orchestrator does not start {Service} on {Node} by itself",
        _ => $"the orchestrator starts no service on {Node} by itself",
    };

    /// <summary>The CLI's thaw: <c>opensvc svc thaw svc1 [--node n3]</c> or <c>opensvc node thaw --node n2</c>.</summary>
    public string ThawCommand => Scope switch
    {
        FreezeScope.Service => $"opensvc svc thaw {Service}",
        FreezeScope.Instance => $"opensvc svc thaw {Service} --node {Node}",
        _ => $"opensvc node thaw --node {Node}",
    };

    /// <summary>Every freeze that stops automatic starts of the service: its own, its instances', its nodes'.</summary>
    public static IReadOnlyList<FreezeLine> Of(ServiceStatusView? status)
    {
        if (status is null)
            return [];
        var lines = new List<FreezeLine>();
        if (status.Frozen is { } service)
            lines.Add(new FreezeLine(FreezeScope.Service, status.Service, null, service));
        foreach (var i in status.Instances)
        {
            if (i.Frozen is { } instance)
                lines.Add(new FreezeLine(FreezeScope.Instance, status.Service, i.Node, instance));
            if (i.NodeFrozen is { } node)
                lines.Add(new FreezeLine(FreezeScope.Node, status.Service, i.Node, node));
        }
        return lines;
    }
}
