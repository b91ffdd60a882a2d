using System.Diagnostics;
using Hangfire;
using Hangfire.States;
using Marten;
using Npgsql;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Workflows.Drivers;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Steps;
using OpenSvc.Workflows.Syncs;

namespace OpenSvc.Host.Agent;

/// <summary>
/// Runs the code a takeover needs once, as the agent starts (in the background, right after it says it is ready), so
/// its first takeover does not pay all of the JIT: the run's decisions over a made-up plan (nothing is written), every run event through the event
/// store's serializer and back, the reads of a claim, an outcome and a status refresh (for ids that do not exist), and
/// a config resolution, the writes of a run in a transaction rolled back, and one no-op job through the node's queue.
/// Nothing it writes stays but that job's record ("warm-up of NODE" in the dashboard, a step job of no run).
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
        // The writes of a claim and an outcome, for real, in a transaction that is rolled back: the made-up run's events
        // appended, its inline projections applied, the service's stream opened, all through Marten's and Npgsql's write
        // paths (a first write costs far more than a first read); nothing is committed.
        var options = services.GetRequiredService<EngineOptions>();
        await using (var connection = new NpgsqlConnection(WorkflowStore.ConnectionString(options.ConnectionString)))
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using (var session = store.LightweightSession(Marten.Services.SessionOptions.ForTransaction(transaction, shouldAutoCommit: false)))
            {
                var stream = await session.Events.FetchForWriting<WorkflowRun>(id, ct).ConfigureAwait(false);
                stream.AppendMany(events);
                var activity = await session.Events.FetchForWriting<ServiceActivity>(ServiceActivity.StreamId("warm-up"), ct).ConfigureAwait(false);
                activity.AppendOne(new ServiceRunStarted("warm-up", id, ServiceAction.Takeover, now));
                await session.SaveChangesAsync(ct).ConfigureAwait(false);
            }
            await transaction.RollbackAsync(ct).ConfigureAwait(false);
        }
        _ = await services.GetRequiredService<MediatR.IMediator>().Send(new RefreshStatus(["warm-up"]), ct).ConfigureAwait(false);

        // One step job through this node's queue: Hangfire's fetch, activation and state transitions, the step handler.
        await RunJobAsync(services, node, ct).ConfigureAwait(false);
        return sw.Elapsed;
    }

    static async Task RunJobAsync(IServiceProvider services, NodeName node, CancellationToken ct)
    {
        var storage = services.GetRequiredService<JobStorage>();
        // A step job of no run: the queue, the job's activation, the step handler and its dependencies, the lease and the
        // claim's read, as a takeover's first step takes them; it finds no run and ends (ExecuteStep.WarmUpRun).
        var job = StepJob.WarmUp($"warm-up of {node}", node.QueueName);
        var id = services.GetRequiredService<IBackgroundJobClient>().Create(job, new EnqueuedState(node.QueueName));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        using var connection = storage.GetConnection();
        while (true)
        {
            var state = connection.GetStateData(id);
            if (state?.Name == SucceededState.StateName)
                return;
            if (state?.Name == FailedState.StateName || state?.Name == DeletedState.StateName)
                throw new InvalidOperationException($"the warm-up job {id} ended {state!.Name.ToLowerInvariant()}: {state.Reason}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the warm-up job {id} did not run in 60 s");
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
    }
}
