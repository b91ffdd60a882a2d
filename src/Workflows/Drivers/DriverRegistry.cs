using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Workflows.Drivers;

/// <summary>
/// One driver of the catalog bound to the code that runs it on this agent: the engine and the status probes call
/// drivers through this, with the resource already resolved, and the binding calls the driver's verb.
/// </summary>
public interface IDriverBinding
{
    DriverKind Kind { get; }

    Task<StepResult> RunAsync(StepRun run, ServiceResource resource, CancellationToken cancellationToken);

    Task<ResourceProbe> ProbeAsync(ResolvedService resolved, ServiceResource resource, CancellationToken cancellationToken);

    /// <summary>A probe that knows the instance's avail from its other resources (what a sync status depends on).</summary>
    Task<ResourceProbe> ProbeAsync(ResolvedService resolved, ServiceResource resource, Status? availHere, CancellationToken cancellationToken);
}

/// <summary>The drivers of this agent, by driver name (<c>fs</c>, <c>sync.btrfs</c>).</summary>
public sealed class DriverRegistry(IEnumerable<IDriverBinding> bindings)
{
    readonly Dictionary<string, IDriverBinding> _byName = bindings
        .GroupBy(b => b.Kind.Name, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

    public IDriverBinding? Find(string driver) => _byName.GetValueOrDefault(driver);

    public IReadOnlyCollection<string> Known => _byName.Keys;

    /// <summary>Runs one step of <paramref name="resource"/> with its driver; a clear, permanent failure when this agent has none.</summary>
    public Task<StepResult> RunAsync(StepRun run, ServiceResource resource, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        return Find(run.Step.Driver) is { } binding
            ? binding.RunAsync(run, resource, cancellationToken)
            : throw new StepFailedException(
                $"no driver for resource type '{run.Step.Driver}' on agent {run.Resolved.Node} (known: {string.Join(", ", Known.Order())})", permanent: true);
    }
}

/// <summary>Registers drivers: each is one catalog entry bound to one implementation (no static factories).</summary>
public static class DriverRegistration
{
    public static IServiceCollection AddResourceDriver<TResource, TDriver>(this IServiceCollection services, string name)
        where TResource : ServiceResource
        where TDriver : class, IResourceDriver<TResource>
    {
        var kind = Kind(name);
        services.TryAddSingleton<TDriver>();
        services.AddSingleton<IDriverBinding>(sp => new ResourceBinding<TResource>(kind, sp.GetRequiredService<TDriver>()));
        return services;
    }

    public static IServiceCollection AddSyncDriver<TResource, TDriver>(this IServiceCollection services, string name)
        where TResource : SyncResource
        where TDriver : class, ISyncDriver<TResource>
    {
        var kind = Kind(name);
        if (!kind.IsSync)
            throw new ArgumentException($"{name} is not a sync driver in the catalog", nameof(name));
        services.TryAddSingleton<TDriver>();
        services.AddSingleton<IDriverBinding>(sp => new SyncBinding<TResource>(kind, sp.GetRequiredService<TDriver>()));
        return services;
    }

    /// <summary>
    /// One implementation for every driver of the catalog (the fake cluster, the no-op engine benchmark driver).
    /// </summary>
    public static IServiceCollection AddDriverForEveryKind<TDriver>(this IServiceCollection services)
        where TDriver : class, IResourceDriver<ServiceResource>, ISyncDriver<SyncResource>
    {
        foreach (var kind in DriverCatalog.All)
        {
            if (kind.IsSync)
                services.AddSyncDriver<SyncResource, TDriver>(kind.Name);
            else
                services.AddResourceDriver<ServiceResource, TDriver>(kind.Name);
        }
        return services;
    }

    static DriverKind Kind(string name) =>
        DriverCatalog.Named(name) ?? throw new ArgumentException($"no driver named '{name}' in the catalog", nameof(name));

    static TResource Typed<TResource>(DriverKind kind, ServiceResource resource) where TResource : ServiceResource =>
        resource as TResource ?? throw new StepFailedException($"{resource.Id} is a {resource.Driver}, not a {kind.Name}", permanent: true);

    sealed class ResourceBinding<TResource>(DriverKind kind, IResourceDriver<TResource> driver) : IDriverBinding where TResource : ServiceResource
    {
        public DriverKind Kind => kind;

        public Task<StepResult> RunAsync(StepRun run, ServiceResource resource, CancellationToken cancellationToken)
        {
            var (step, context) = (run.Step, new StepContext<TResource>(run, Typed<TResource>(kind, resource)));
            return step.Action switch
            {
                ResourceAction.Start or ResourceAction.StartStandby => driver.StartAsync(context, cancellationToken),
                ResourceAction.Stop => driver.StopAsync(context, cancellationToken),
                ResourceAction.DrillStart => driver.DrillStartAsync(context, cancellationToken),
                ResourceAction.DrillStop => driver.DrillStopAsync(context, cancellationToken),
                ResourceAction.DrillCheck => driver.DrillCheckAsync(context, cancellationToken),
                var other => throw new StepFailedException($"{kind.Name} {step.Rid} has no '{ActionWords.Of(other)}'", permanent: true),
            };
        }

        public Task<ResourceProbe> ProbeAsync(ResolvedService resolved, ServiceResource resource, CancellationToken cancellationToken) =>
            ProbeAsync(resolved, resource, null, cancellationToken);

        public Task<ResourceProbe> ProbeAsync(ResolvedService resolved, ServiceResource resource, Status? availHere, CancellationToken cancellationToken) =>
            driver.ProbeAsync(new ProbeContext<TResource>(resolved, Typed<TResource>(kind, resource)) { AvailHere = availHere }, cancellationToken);
    }

    sealed class SyncBinding<TResource>(DriverKind kind, ISyncDriver<TResource> driver) : IDriverBinding where TResource : SyncResource
    {
        public DriverKind Kind => kind;

        public Task<StepResult> RunAsync(StepRun run, ServiceResource resource, CancellationToken cancellationToken)
        {
            var (step, context) = (run.Step, new StepContext<TResource>(run, Typed<TResource>(kind, resource)));
            switch (step.Action)
            {
                case ResourceAction.Sync:
                    if (step.Target is not { } target)
                        throw new StepFailedException($"{step.Rid}: a sync step needs a target node", permanent: true);
                    if (target == run.Resolved.Node)
                        throw new StepFailedException($"{step.Rid}: {target} cannot sync to itself", permanent: true);
                    return driver.SendAsync(context, target, cancellationToken);
                case ResourceAction.PrepareReceive:
                    return driver.PrepareReceiveAsync(context, cancellationToken);
                case ResourceAction.DrillStart:
                    return driver.DrillStartAsync(context, cancellationToken);
                case ResourceAction.DrillStop:
                    return driver.DrillStopAsync(context, cancellationToken);
                default:
                    throw new StepFailedException($"{kind.Name} {step.Rid} has no '{ActionWords.Of(step.Action)}'", permanent: true);
            }
        }

        public Task<ResourceProbe> ProbeAsync(ResolvedService resolved, ServiceResource resource, CancellationToken cancellationToken) =>
            ProbeAsync(resolved, resource, null, cancellationToken);

        public Task<ResourceProbe> ProbeAsync(ResolvedService resolved, ServiceResource resource, Status? availHere, CancellationToken cancellationToken) =>
            driver.ProbeAsync(new ProbeContext<TResource>(resolved, Typed<TResource>(kind, resource)) { AvailHere = availHere }, cancellationToken);
    }
}

/// <summary>
/// Services resolved for this node from a config text, shared by steps and status probes: runs of the same config
/// reuse one resolution (bounded; cleared when it fills up).
/// </summary>
public sealed class ResolvedServices
{
    const int Capacity = 256;
    readonly ConcurrentDictionary<(string Text, string Service, NodeName Node), ResolvedService> _cache = new();

    public ResolvedService Resolve(string configText, string service, NodeName node)
    {
        if (_cache.Count > Capacity)
            _cache.Clear();
        return _cache.GetOrAdd((configText, service, node),
            key => ServiceResolver.Resolve(ConfigParser.Parse(key.Text, $"{key.Service}.conf"), key.Service, key.Node));
    }

    /// <summary>The step's resource as this node resolves it; a clear, permanent failure when it is not configured here.</summary>
    public static ServiceResource ResourceOf(ResolvedService resolved, ResourceId rid)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        if (resolved.Resource(rid.ToString()) is { } resource)
            return resource;
        var problems = resolved.Problems.Where(p => p.Section == rid.ToString() && p.Severity == Severity.Error)
            .Select(p => p.Reason + (p.Fix is { } f ? $" (fix: {f})" : "")).ToList();
        throw new StepFailedException($"{rid} is not configured for node {resolved.Node}" + (problems.Count > 0 ? ": " + string.Join("; ", problems) : ""),
            permanent: true);
    }
}
