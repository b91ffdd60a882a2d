using Marten;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Fake;

/// <summary>The state of one resource on one node of the fake cluster.</summary>
public sealed record FakeResource(string Id, string Node, string Rid, string State, DateTimeOffset? ChangedAt)
{
    public static string Key(string node, string rid) => $"{node}/{rid}";
}

/// <summary>One effect the fake cluster applied: what exactly-once is checked against.</summary>
public sealed record FakeEffect(Guid Id, string Node, string Rid, string Action, Guid RunId, int Step, int Attempt, DateTimeOffset At);

/// <summary>A failure to inject into the next N matching actions: fail, timeout, or slow (delay then succeed).</summary>
public sealed record FakeFault(string Id, string Node, string Rid, string Action, string Kind, int Remaining, int DelayMs)
{
    public static string Key(string node, string rid, string action) => $"{node}/{rid}/{action}";
}

/// <summary>
/// An in-process fake cluster for engine tests, demos and benchmarks: every driver type, state kept in
/// PostgreSQL (so it survives a killed agent), probe-act-probe like a real driver, and injectable failures.
/// </summary>
public sealed class FakeClusterDriver(IDocumentStore store, TimeProvider time) : IResourceDriver<ServiceResource>, ISyncDriver<SyncResource>
{
    public Task<StepResult> StartAsync(StepContext<ServiceResource> step, CancellationToken cancellationToken) => ApplyAsync(step, cancellationToken);

    public Task<StepResult> StopAsync(StepContext<ServiceResource> step, CancellationToken cancellationToken) => ApplyAsync(step, cancellationToken);

    public Task<StepResult> SendAsync(StepContext<SyncResource> context, NodeName target, CancellationToken cancellationToken) => ApplyAsync(context, cancellationToken);

    public Task<StepResult> PrepareReceiveAsync(StepContext<SyncResource> context, CancellationToken cancellationToken) => ApplyAsync(context, cancellationToken);

    public Task<StepResult> DrillStartAsync(StepContext<ServiceResource> context, CancellationToken cancellationToken) => ApplyAsync(context, cancellationToken);

    public Task<StepResult> DrillStopAsync(StepContext<ServiceResource> context, CancellationToken cancellationToken) => ApplyAsync(context, cancellationToken);

    public Task<StepResult> DrillStartAsync(StepContext<SyncResource> context, CancellationToken cancellationToken) => ApplyAsync(context, cancellationToken);

    public Task<StepResult> DrillStopAsync(StepContext<SyncResource> context, CancellationToken cancellationToken) => ApplyAsync(context, cancellationToken);

    /// <summary>The fake's drill check: every drill resource of the service's containers on this node is up.</summary>
    public async Task<StepResult> DrillCheckAsync(StepContext<ServiceResource> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        await ApplyFaultAsync(step.LocalNode.Value, step.Rid.ToString(), "drillcheck", cancellationToken).ConfigureAwait(false);
        await using var session = store.QuerySession();
        var containers = step.Resolved.Resources.Where(r => r.Id.Group == "container" && !r.Disabled).Select(r => r.Id.ToString()).ToList();
        var down = new List<string>();
        foreach (var rid in containers)
        {
            var state = await session.LoadAsync<FakeResource>(FakeResource.Key(step.LocalNode.Value, FakeCluster.DrillRid(rid)), cancellationToken).ConfigureAwait(false);
            if (state?.State != "up")
                down.Add(rid);
        }
        if (down.Count > 0)
            throw new StepFailedException($"drill check on {step.LocalNode}: the drill containers of {string.Join(", ", down)} are not running");
        return StepResult.Unchanged($"drill check on {step.LocalNode}: every drill container runs ({string.Join(", ", containers)})");
    }

    public Task<ResourceProbe> ProbeAsync(ProbeContext<SyncResource> context, CancellationToken cancellationToken) =>
        Task.FromResult(new ResourceProbe(Domain.Status.NotApplicable, "fake cluster: sync lag is not simulated"));

    public async Task<ResourceProbe> ProbeAsync(ProbeContext<ServiceResource> probe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(probe);
        await using var session = store.QuerySession();
        var state = await session.LoadAsync<FakeResource>(FakeResource.Key(probe.LocalNode.Value, probe.Rid.ToString()), cancellationToken).ConfigureAwait(false);
        return state?.State == "up" ? new ResourceProbe(Domain.Status.Up) : new ResourceProbe(Domain.Status.Down);
    }

    async Task<StepResult> ApplyAsync<T>(StepContext<T> context, CancellationToken cancellationToken) where T : ServiceResource
    {
        ArgumentNullException.ThrowIfNull(context);
        var action = context.Step.Action;
        var node = context.LocalNode.Value;
        var drill = action is ResourceAction.DrillStart or ResourceAction.DrillStop;
        // A drill's counterpart of a resource is a state of its own: production's state is never touched by a drill.
        var rid = drill ? FakeCluster.DrillRid(context.Rid.ToString()) : context.Rid.ToString();
        var verb = action.ToString().ToLowerInvariant();
        await ApplyFaultAsync(node, context.Rid.ToString(), verb, cancellationToken).ConfigureAwait(false);

        await using var session = store.LightweightSession();
        // Probe: did this very step already take effect (an earlier attempt killed before its event)?
        var earlier = await session.Query<FakeEffect>()
            .Where(e => e.RunId == context.RunId && e.Step == context.Step.Index)
            .AnyAsync(cancellationToken).ConfigureAwait(false);
        if (earlier)
            return new StepResult(true, $"{verb} {rid} on {node}: applied by an earlier attempt of this step");

        var key = FakeResource.Key(node, rid);
        var current = await session.LoadAsync<FakeResource>(key, cancellationToken).ConfigureAwait(false);
        var wanted = action switch
        {
            ResourceAction.Start => "up",
            ResourceAction.StartStandby => "up",
            ResourceAction.Stop => "down",
            ResourceAction.DrillStart => "up",
            ResourceAction.DrillStop => "down",
            _ => null,
        };
        if (wanted is not null && (current?.State ?? (drill ? "down" : null)) == wanted)
            return StepResult.Unchanged($"{rid} on {node} is already {wanted}");

        // Fenced: a superseded execution never acts. Then act, and record the effect in the same transaction.
        await context.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        session.Store(new FakeEffect(Guid.CreateVersion7(), node, rid, verb, context.RunId, context.Step.Index, context.Attempt, now));
        if (wanted is not null)
            session.Store(new FakeResource(key, node, rid, wanted, now));
        await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        var metrics = action == ResourceAction.Sync ? new Dictionary<string, long> { ["bytes"] = 0 } : null;
        return new StepResult(true, $"{verb} {rid} on {node}{(context.Step.Target is { } t ? $" to {t}" : "")}: done", metrics);
    }

    async Task ApplyFaultAsync(string node, string rid, string verb, CancellationToken ct)
    {
        await using var session = store.LightweightSession();
        var fault = await session.LoadAsync<FakeFault>(FakeFault.Key(node, rid, verb), ct).ConfigureAwait(false);
        if (fault is null || fault.Remaining <= 0)
            return;
        session.Store(fault with { Remaining = fault.Remaining - 1 });
        await session.SaveChangesAsync(ct).ConfigureAwait(false);
        switch (fault.Kind)
        {
            case "fail":
                throw new StepFailedException($"injected failure: {verb} {rid} on {node}", "fake cluster: failure injected by test");
            case "timeout":
                await Task.Delay(Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
                break;
            case "slow":
                await Task.Delay(fault.DelayMs, ct).ConfigureAwait(false);
                break;
        }
    }
}

/// <summary>Test and demo helpers over the fake cluster's state.</summary>
public static class FakeCluster
{
    /// <summary>The fake state key of a resource's drill counterpart: "container#0@drill".</summary>
    public static string DrillRid(string rid) => rid + "@drill";

    /// <summary>
    /// A config that declares every node and resource a hand-made plan names (engine tests and benchmarks submit plans
    /// directly): the engine resolves each step's resource from the run's config, as for any run.
    /// </summary>
    public static string ConfigFor(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var text = new System.Text.StringBuilder();
        text.Append("[DEFAULT]\nnodes = ").AppendJoin(' ', plan.Steps.Select(s => s.Node.Value).Append(plan.Node.Value).Distinct()).Append('\n');
        foreach (var rid in plan.Steps.Select(s => s.Rid).Distinct().OrderBy(r => r.ToString(), StringComparer.Ordinal))
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"\n[{rid}]\n");
            text.Append(rid.Group switch
            {
                "fs" => $"type = ext4\ndev = /dev/fake-{rid.Index}\nmnt = /srv/fake/{rid.Index}\n",
                "container" => "type = docker\nimage = fake/image:1\n",
                "ip" => "type = docker\nipname = 192.0.2.10\nipdev = eth0\nnetns = container#0\n",
                "sync" => $"type = rsync\nsrc = /srv/fake\ndst = /srv/fake\n",
                _ => "",
            });
        }
        return text.ToString();
    }

    public static async Task InjectAsync(IDocumentStore store, string node, string rid, ResourceAction action, string kind, int times = 1, int delayMs = 0)
    {
        var verb = action.ToString().ToLowerInvariant();
        await using var session = store.LightweightSession();
        session.Store(new FakeFault(FakeFault.Key(node, rid, verb), node, rid, verb, kind, times, delayMs));
        await session.SaveChangesAsync().ConfigureAwait(false);
    }

    public static async Task<IReadOnlyList<FakeEffect>> EffectsAsync(IDocumentStore store, Guid? runId = null)
    {
        await using var session = store.QuerySession();
        IQueryable<FakeEffect> q = session.Query<FakeEffect>();
        if (runId is { } id)
            q = q.Where(e => e.RunId == id);
        return await q.OrderBy(e => e.At).ToListAsync().ConfigureAwait(false);
    }

    public static async Task<string?> StateAsync(IDocumentStore store, string node, string rid)
    {
        await using var session = store.QuerySession();
        return (await session.LoadAsync<FakeResource>(FakeResource.Key(node, rid)).ConfigureAwait(false))?.State;
    }
}
