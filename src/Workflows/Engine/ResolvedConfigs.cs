using System.Collections.Concurrent;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;

namespace OpenSvc.Workflows.Engine;

/// <summary>
/// Drivers read their resource's keywords from the exact config a run was planned with, resolved for the
/// node they run on. Parsing is cached per (config text, service, node): runs reuse one resolution.
/// </summary>
public static class ResolvedConfigs
{
    static readonly ConcurrentDictionary<(string Text, string Service, NodeName Node), ResolvedService> Cache = new();

    public static ResolvedService Resolve(string configText, string service, NodeName node)
    {
        if (Cache.Count > 256)
            Cache.Clear();
        return Cache.GetOrAdd((configText, service, node),
            key => ServiceResolver.Resolve(ConfigParser.Parse(key.Text, $"{key.Service}.conf"), key.Service, key.Node));
    }

    public static ResolvedService For(StepContext context) => Resolve(context.ConfigText, context.Service, context.LocalNode);

    public static ResolvedService For(StatusContext context) => Resolve(context.ConfigText, context.Service, context.LocalNode);

    /// <summary>The step's resource as the local node sees it, typed; a clear failure when absent or of another type.</summary>
    public static T Resource<T>(StepContext context) where T : ServiceResource
    {
        var resolved = For(context);
        return resolved.Resource(context.Step.Rid.ToString()) switch
        {
            T r => r,
            null => throw new StepFailedException(
                $"{context.Step.Rid} is not configured for node {context.LocalNode}" +
                Problems(resolved, context.Step.Rid), permanent: true),
            var other => throw new StepFailedException($"{context.Step.Rid} is a {other.Driver}, not what this driver handles", permanent: true),
        };
    }

    static string Problems(ResolvedService resolved, ResourceId rid)
    {
        var mine = resolved.Problems.Where(p => p.Section == rid.ToString() && p.Severity == Severity.Error).Select(p => p.Reason + (p.Fix is { } f ? $" (fix: {f})" : "")).ToList();
        return mine.Count == 0 ? "" : ": " + string.Join("; ", mine);
    }
}
