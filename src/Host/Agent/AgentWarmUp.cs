using System.Diagnostics;
using Marten;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Drivers;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Syncs;

namespace OpenSvc.Host.Agent;

/// <summary>
/// Runs the code a takeover needs once, as the agent starts (in the background, right after it says it is ready), so
/// its first takeover does not pay all of the JIT: the run's decisions over a made-up plan (nothing is written), every run event through the event
/// store's serializer and back, the reads of a claim, an outcome and a status refresh (for ids that do not exist), and
/// a config resolution. Side-effect free: no event, document or Hangfire job is written.
/// </summary>
public static class AgentWarmUp
{
    const string Config = """
        [DEFAULT]
        nodes = warm1
        drpnodes = warm2
        [fs#0]
        type = ext4
        dev = /dev/warm-up
        mnt = /srv/warm-up
        [container#0]
        type = docker
        run_image = warm/up:1
        run_args = --net=none
        [ip#0]
        type = docker
        ipdev = eth0
        ipname = 192.0.2.10
        netmask = 255.255.255.0
        container_rid = container#0
        """;

    static readonly string[] Rids = ["fs#0", "container#0", "ip#0"];

    public static async Task<TimeSpan> RunAsync(IServiceProvider services, NodeName node, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(services);
        var sw = Stopwatch.StartNew();
        var store = services.GetRequiredService<IDocumentStore>();
        var now = DateTimeOffset.UtcNow;
        var id = Guid.CreateVersion7();

        // The decisions of a whole run, as a claim and an outcome make them, and its events through the serializer.
        var policy = new StepPolicy(TimeSpan.FromSeconds(60), 1, TimeSpan.FromSeconds(1));
        var steps = Rids
            .Select((rid, i) => new PlanStep(i, node, ResourceId.Parse(rid), rid.Split('#')[0], ResourceAction.Start, i == 0 ? [] : [i - 1], policy))
            .ToList();
        var plan = new Plan("warm-up", ServiceAction.Takeover, node, null, false, steps);
        var requested = new RunRequested(id, plan.Service, plan.Action, node, null, "warm-up", "warm-up", false, now, "v0", Config, plan);
        var events = new List<object>(RunDecider.Begin(requested));
        var run = events.Skip(1).Aggregate(WorkflowRun.From(requested), (r, e) => r.Then(e));
        for (var i = 0; i < steps.Count && !run.IsFinished; i++)
        {
            if (RunDecider.Start(run, i, run.Steps[i].Execution, "warm-up", now) is not { } started)
                break;
            run = run.Then(started);
            events.Add(started);
            var outcome = RunDecider.Outcome(run, new StepOutcome(i, run.Steps[i].Attempt, true, false, true, "warm-up", null, TimeSpan.FromMilliseconds(1),
                Execution: run.Steps[i].Execution), now);
            run = outcome.Aggregate(run, (r, e) => r.Then(e));
            events.AddRange(outcome);
        }
        var serializer = store.Options.Serializer();
        foreach (var e in events.Append(run))
        {
            using var json = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(serializer.ToJson(e)));
            _ = serializer.FromJson(e.GetType(), json);
        }

        // A config resolved as a step and a status refresh resolve one.
        _ = services.GetRequiredService<ResolvedServices>().Resolve(Config, "warm-up", new NodeName("warm1"));

        // The reads of a claim, an outcome, planning and a status refresh, for ids that do not exist.
        await using (var query = store.QuerySession())
        {
            _ = await query.LoadAsync<WorkflowRun>(id, ct).ConfigureAwait(false);
            _ = await query.LoadAsync<ServiceActivity>(ServiceActivity.StreamId("warm-up"), ct).ConfigureAwait(false);
            _ = await query.LoadManyAsync<ServiceActivity>(ct, [ServiceActivity.StreamId("warm-up")]).ConfigureAwait(false);
            _ = await query.Query<InstanceStatusReport>().Where(x => x.Service == "warm-up").ToListAsync(ct).ConfigureAwait(false);
            _ = await query.Query<SyncRecord>().Where(x => x.Service == "warm-up").ToListAsync(ct).ConfigureAwait(false);
            _ = await query.Query<Workflows.Agents.AgentHeartbeat>().ToListAsync(ct).ConfigureAwait(false);
        }
        await using (var session = store.LightweightSession())
        {
            var stream = await session.Events.FetchForWriting<WorkflowRun>(id, ct).ConfigureAwait(false);
            _ = stream.Aggregate;
            _ = await session.Events.FetchForWriting<ServiceActivity>(ServiceActivity.StreamId("warm-up"), ct).ConfigureAwait(false);
            await session.SaveChangesAsync(ct).ConfigureAwait(false); // nothing to save: the empty commit path
        }
        _ = await services.GetRequiredService<MediatR.IMediator>().Send(new RefreshStatus(["warm-up"]), ct).ConfigureAwait(false);
        return sw.Elapsed;
    }
}
