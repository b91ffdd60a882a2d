using OpenSvc.Domain;

namespace OpenSvc.Workflows.Monitoring;

/// <summary>One resource's state as its node's agent last probed it.</summary>
public sealed record ResourceStatusLine(string Rid, string Driver, Status Status, bool Standby, bool Optional, string? Message);

/// <summary>
/// A service instance's status on one node, written by that node's agent on a schedule and after each action.
/// Id is "service@node".
/// </summary>
public sealed record InstanceStatusReport(
    string Id, string Service, string Node, Status Avail, Status Overall,
    IReadOnlyList<ResourceStatusLine> Resources, string ConfigVersion, DateTimeOffset UpdatedAt)
{
    public static string Key(string service, string node) => $"{service}@{node}";
}

/// <summary>Asks this node's agent to refresh a service's status soon (after an action). No-op outside an agent.</summary>
public interface IStatusSignal
{
    void Request(string service);
}

public sealed class NoStatusSignal : IStatusSignal
{
    public void Request(string service) { }
}
