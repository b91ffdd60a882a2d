namespace OpenSvc.Domain;

/// <summary>What one resource contributes to its instance's status.</summary>
/// <param name="Status">The resource status as the driver reported it (standby already mapped to stdby up/down).</param>
/// <param name="Optional">Optional resources feed <c>overall</c>, never <c>avail</c>.</param>
/// <param name="IsSync">Sync resources are always optional, and count <c>up</c> as n/a and <c>down</c> as warn.</param>
/// <param name="HasWarnOrErrorLog">A warn or error line in the resource's status log makes <c>overall</c> warn.</param>
public sealed record ResourceStatus(
    ResourceId Rid,
    Status Status,
    bool Optional = false,
    bool IsSync = false,
    bool HasWarnOrErrorLog = false);

/// <summary>One node's view of a service: <c>avail</c> (non-optional resources) and <c>overall</c> (everything).</summary>
public sealed record InstanceStatus(Status Avail, Status Overall)
{
    /// <summary>
    /// OpenSVC's instance merge: <c>avail</c> folds the non-optional resources, starting at n/a;
    /// <c>overall</c> folds <c>avail</c>, the optional and sync resources, and a warn for each resource with a
    /// warn or error log. Both end with the internal stdby-up-with-* states resolved.
    /// </summary>
    public static InstanceStatus Of(IEnumerable<ResourceStatus> resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var avail = StatusMerge.Start;
        var optional = StatusMerge.Start;
        var logs = StatusMerge.Start;
        foreach (var r in resources)
        {
            if (r.IsSync)
                optional = optional.Add(SyncContribution(r.Status));
            else if (r.Optional)
                optional = optional.Add(r.Status);
            else
                avail = avail.Add(r.Status);
            if (r.HasWarnOrErrorLog)
                logs = logs.Add(Status.Warn);
        }
        var overall = avail.Add(optional).Add(logs);
        return new InstanceStatus(avail.Result, overall.Result);
    }

    /// <summary>In the instance merge a sync <c>up</c> counts as n/a and a sync <c>down</c> as warn.</summary>
    public static Status SyncContribution(Status status) => status switch
    {
        Status.Up => Status.NotApplicable,
        Status.Down => Status.Warn,
        _ => status,
    };
}
