using FluentAssertions;
using Hangfire;
using Marten;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Drivers.Fake;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Engine;

/// <summary>
/// Drill and drill-cleanup survive their agent being killed (SIGKILL) at every step boundary: real agent processes for
/// the primary n1 and the DR node n3 on the fake cluster, the run converges, each step's effect happens once, production
/// is never touched, and the drill records its recovery once. A drill left half-done because its node died (the run
/// cancelled, its step abandoned) is cleaned up by the reconciler's pass once the node is back.
/// The setup runs with the fault disarmed (its marker file already there); deleting the marker arms it for the run under test.
/// </summary>
public sealed class DrillDurabilityTests(ITestOutputHelper output)
{
    const string Service = "svc-back";
    static readonly NodeName N1 = new("n1");
    static readonly NodeName N3 = new("n3");

    /// <summary>What a drill of <see cref="ReprotectGivebackTests.Config"/> on n3 starts, in order (all on n3: one segment).</summary>
    static readonly string[] DrillSteps = ["drill-start sync#0", "drill-start fs#0", "drill-start container#0", "drill-check container#0"];

    /// <summary>What its cleanup removes, the reverse of the drill's order.</summary>
    static readonly string[] CleanupSteps = ["drill-stop container#0", "drill-stop fs#0", "drill-stop sync#0"];

    public static TheoryData<string, string, int> Boundaries()
    {
        // Every step of both plans runs on n3, each after the steps it waits for in the same Hangfire job (a segment): none
        // is scheduled on its own, so neither has an after-schedule point (the drill's first steps, its sync's check and
        // its fs start, which wait for nothing, and the cleanup's step 1 are scheduled by the requester).
        var data = new TheoryData<string, string, int>();
        foreach (var (action, steps) in new[] { ("drill", DrillSteps.Length), ("drill-cleanup", CleanupSteps.Length) })
            for (var step = 1; step <= steps; step++)
                foreach (var point in new[] { "during-step", "after-effect" })
                    data.Add(action, point, step);
        return data;
    }

    [Theory]
    [MemberData(nameof(Boundaries))]
    public async Task the_run_converges_with_each_effect_once_when_its_agent_is_killed(string action, string point, int step)
    {
        await using var h = await Harness.StartAsync($"drill_{action.Replace('-', '_')}_{point.Replace('-', '_')}_{step}", $"{point}@{step}", output);
        await h.ProtectedAsync();
        if (action == "drill-cleanup")
            (await h.RunAsync(ServiceAction.Drill, N3)).Killed.Should().Be(0, "the fault is disarmed during the setup");

        h.Arm();
        var (run, killed) = await h.RunAsync(ActionWords.ParseServiceAction(action)!.Value, N3);

        h.Fired.Should().BeTrue("the fault point {0}@{1} must have been reached and the agent killed", point, step);
        killed.Should().Be(1, "the fault kills once");
        run.Steps.Select(s => $"{ActionWords.Of(s.Step.Action)} {s.Step.Rid}").Should().Equal(action == "drill" ? DrillSteps : CleanupSteps, "no rollback, no step added");
        run.Steps.Should().OnlyContain(s => s.Status == StepStatus.Succeeded && s.Step.Node == N3);
        var effects = await FakeCluster.EffectsAsync(h.Store, run.Id);
        // The drill's rsync check runs beside the fs and container starts (it feeds no drill resource): effects in any order.
        effects.Select(e => e.Step).Should().BeEquivalentTo(run.Steps.Where(s => s.Changed).Select(s => s.Step.Index), "each step took effect once, whatever was killed when");
        effects.Should().OnlyContain(e => e.Node == "n3" && e.Rid.EndsWith("@drill", StringComparison.Ordinal), "a drill and its cleanup act on the drill's own resources");
        var events = await h.EventsAsync(run.Id);
        events.OfType<StepRequeued>().Should().Contain(r => r.Step == step - 1, "the interrupted step was requeued, with the reason");
        events.OfType<RunCompleted>().Should().ContainSingle();

        (await FakeCluster.StateAsync(h.Store, "n1", "container#0")).Should().Be("up", "production keeps running on n1");
        (await FakeCluster.StateAsync(h.Store, "n3", "container#0")).Should().NotBe("up", "production's container never starts on n3");
        var drilled = action == "drill" ? "up" : "down";
        foreach (var rid in new[] { "sync#0", "fs#0", "container#0" })
            (await FakeCluster.StateAsync(h.Store, "n3", FakeCluster.DrillRid(rid)) ?? "down").Should().Be(drilled, $"the drill's {rid} on n3");
        if (action == "drill")
        {
            var measured = events.OfType<RecoveryMeasured>().Should().ContainSingle("the drill's recovery is recorded once").Subject;
            measured.Rto.Should().Be(run.Steps.Where(s => s.Step.Action == ResourceAction.DrillStart).Max(s => s.EndedAt!.Value) - run.RequestedAt,
                "request → the last drill-start that succeeded");
            measured.DataAges.Should().ContainSingle().Which.LastSyncRun.Should().NotBeNull();
        }
        (await h.Mediator.Send(new CleanUpDrills(Service))).Should().BeEmpty("nothing is left for the reconciler to clean up");
    }

    [Fact]
    public async Task a_drill_whose_node_dies_and_is_cancelled_is_cleaned_up_by_the_reconciler_once_the_node_is_back()
    {
        // n3 dies right after the drill's container started, before the step's outcome is recorded.
        await using var h = await Harness.StartAsync("drill_crash_cleanup", "after-effect@3", output);
        await h.ProtectedAsync();

        h.Arm();
        var requested = await h.Mediator.Send(new RequestAction(new ActionRequest(Service, ServiceAction.Drill, N3, "tester")));
        requested.Should().BeOfType<ActionAccepted>((requested as ActionRefused)?.Refusal);
        await h.WaitForExitAsync("n3");
        h.Fired.Should().BeTrue();

        // The operator gives up on the dead node: once its lease has expired, the step running there is abandoned.
        var drill = await h.WaitForRunAsync(requested.RunId(), async () =>
            (await h.Mediator.Send(new CancelRun(requested.RunId(), "tester", "n3 is gone"))).Found.Should().BeTrue());
        drill.Status.Should().Be(RunStatus.Cancelled);
        drill.Steps[2].Abandoned.Should().BeTrue();
        Drills.LeftUp(drill).Should().Equal("sync#0", "fs#0", "container#0");
        (await FakeCluster.StateAsync(h.Store, "n3", FakeCluster.DrillRid("container#0"))).Should().Be("up", "the effect happened before the kill");

        h.Restart("n3");
        var cleanup = await h.WaitForReconcilerCleanupAsync();

        cleanup.Status.Should().Be(RunStatus.Completed, cleanup.Outcome);
        cleanup.Reason.Should().Contain("ended cancelled").And.Contain("container#0");
        cleanup.Steps.Select(s => $"{ActionWords.Of(s.Step.Action)} {s.Step.Rid}").Should().Equal(CleanupSteps);
        (await FakeCluster.EffectsAsync(h.Store, cleanup.Id)).Should().HaveCount(3, "each drill resource left up is removed once");
        foreach (var rid in new[] { "sync#0", "fs#0", "container#0" })
            (await FakeCluster.StateAsync(h.Store, "n3", FakeCluster.DrillRid(rid))).Should().Be("down");
        (await FakeCluster.StateAsync(h.Store, "n1", "container#0")).Should().Be("up", "production keeps running on n1");
        (await h.Mediator.Send(new CleanUpDrills(Service))).Should().BeEmpty("the drill is cleaned up");
    }

    /// <summary>
    /// Agent processes n1 and n3 with one crash point armed by <see cref="Arm"/>; a client in this process (no agent)
    /// sends the requests as the API would. Dead agents are restarted by <see cref="RunAsync"/>, with the same fault.
    /// </summary>
    sealed class Harness : IAsyncDisposable
    {
        readonly ServiceProvider _client;
        readonly string _connection;
        readonly string _marker;
        readonly Dictionary<string, string> _faultEnv;
        readonly Dictionary<string, AgentProcess> _agents = [];
        readonly ITestOutputHelper _output;

        Harness(ServiceProvider client, string connection, string fault, ITestOutputHelper output)
        {
            _client = client;
            _connection = connection;
            _output = output;
            _marker = Path.Combine(Path.GetTempPath(), $"opensvc-fault-{Guid.NewGuid():N}");
            File.WriteAllText(_marker, "disarmed during the setup");
            _faultEnv = new Dictionary<string, string> { ["OPENSVC_FAULT"] = fault, ["OPENSVC_FAULT_MARKER"] = _marker };
        }

        public IDocumentStore Store => _client.GetRequiredService<IDocumentStore>();

        public IMediator Mediator => _client.GetRequiredService<IMediator>();

        /// <summary>Whether the armed fault point was reached (the agent that reached it wrote the marker and died).</summary>
        public bool Fired => File.Exists(_marker);

        string Logs => string.Join("\n", _agents.Values.Select(a => a.Log));

        public static async Task<Harness> StartAsync(string database, string fault, ITestOutputHelper output)
        {
            var connection = await PostgresServer.NewDatabaseAsync(database);
            var services = new ServiceCollection();
            services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
            services.AddOpenSvcEngine(new EngineOptions(connection, new NodeName("tester")) { RunAgent = false, FakeCluster = true, AgentDeadAfter = TimeSpan.FromSeconds(3) });
            var client = services.BuildServiceProvider();
            // Both schemas once, before agents start, so they never race to migrate.
            await client.GetRequiredService<IDocumentStore>().Storage.ApplyAllConfiguredChangesToDatabaseAsync();
            _ = client.GetRequiredService<JobStorage>();
            var h = new Harness(client, connection, fault, output);
            foreach (var node in new[] { "n1", "n3" })
                h._agents[node] = AgentProcess.Start(node, connection, h._faultEnv);
            foreach (var node in new[] { "n1", "n3" })
            {
                // Two agents starting on a loaded machine: one that gives up on a database slow to answer is started again.
                for (var tries = 1; ; tries++)
                {
                    try
                    {
                        await h._agents[node].WaitReadyAsync(TimeSpan.FromSeconds(180));
                        break;
                    }
                    catch (InvalidOperationException) when (tries < 3 && h._agents[node].Log.Contains("cannot reach PostgreSQL", StringComparison.Ordinal))
                    {
                        h.Restart(node);
                    }
                }
            }
            return h;
        }

        public void Arm() => File.Delete(_marker);

        /// <summary>Production up on n1, synced to n3, n3's standby filesystem mounted: what a drill starts from.</summary>
        public async Task ProtectedAsync()
        {
            (await Mediator.Send(new ConfigureService(Service, ReprotectGivebackTests.Config, "tester", false, true))).Accepted.Should().BeTrue();
            await ReprotectGivebackTests.WaitForAgentsAsync(Mediator);
            await RunAsync(ServiceAction.Start, N1);
            await ReprotectGivebackTests.WaitForAvailAsync(Mediator, "n1", Status.Up);
            await RunAsync(ServiceAction.Sync, N1);
            await RunAsync(ServiceAction.StartStandby, N3);
        }

        /// <summary>
        /// Requests an action, restarting any agent that died, until the run ends; it must complete. Counts the agents the
        /// fault killed (an agent that gives up at start-up on a loaded machine, its database slow to answer, is
        /// restarted too, and not counted).
        /// </summary>
        public async Task<(WorkflowRun Run, int Killed)> RunAsync(ServiceAction action, NodeName node)
        {
            var result = await Mediator.Send(new RequestAction(new ActionRequest(Service, action, node, "tester")));
            result.Should().BeOfType<ActionAccepted>($"{ActionWords.Of(action)}: {(result as ActionRefused)?.Refusal}");
            var killed = 0;
            var run = await WaitForRunAsync(result.RunId(), () =>
            {
                foreach (var dead in _agents.Where(a => a.Value.HasExited).Select(a => a.Key).ToList())
                {
                    if (_agents[dead].Log.Contains("fault injection: killing process", StringComparison.Ordinal))
                        killed++;
                    Restart(dead);
                }
                return Task.CompletedTask;
            });
            run.Status.Should().Be(RunStatus.Completed, "{0} must finish; agents said:\n{1}", ActionWords.Of(action), Logs);
            return (run, killed);
        }

        /// <summary>Until the run ends (two minutes at most), doing <paramref name="meanwhile"/> about once a second.</summary>
        public async Task<WorkflowRun> WaitForRunAsync(Guid id, Func<Task> meanwhile)
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            var next = DateTime.MinValue;
            while (true)
            {
                if (DateTime.UtcNow >= next)
                {
                    await meanwhile();
                    next = DateTime.UtcNow.AddSeconds(1);
                }
                await using (var session = Store.QuerySession())
                    if (await session.LoadAsync<WorkflowRun>(id) is { IsFinished: true } run)
                        return run;
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"run {id} did not end; agents said:\n{Logs}");
                await Task.Delay(100);
            }
        }

        public async Task WaitForExitAsync(string node)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!_agents[node].HasExited)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"the agent of {node} was not killed by the fault; agents said:\n{Logs}");
                await Task.Delay(100);
            }
        }

        public void Restart(string node)
        {
            _output.WriteLine($"agent {node} (pid {_agents[node].Pid}) died; restarting it\n{_agents[node].Log}");
            _agents[node].Dispose();
            _agents[node] = AgentProcess.Start(node, _connection, _faultEnv);
        }

        /// <summary>
        /// Runs the reconciler's drill pass (as n1's agent does once a minute) until a cleanup it requested completes: the
        /// pass leaves a service alone while its DR node is not back yet.
        /// </summary>
        public async Task<WorkflowRun> WaitForReconcilerCleanupAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (true)
            {
                foreach (var dead in _agents.Where(a => a.Value.HasExited).Select(a => a.Key).ToList())
                    Restart(dead); // gave up at start-up on a loaded machine
                await Mediator.Send(new CleanUpDrills(Service));
                await using (var session = Store.QuerySession())
                {
                    // A pass while n3 is still unreachable is refused (on record, with the reason); the next pass tries again.
                    var cleanups = await session.Query<WorkflowRun>()
                        .Where(r => r.Service == Service && r.Action == ServiceAction.DrillCleanup && r.Status != RunStatus.Refused).ToListAsync();
                    cleanups.Should().NotContain(r => r.RequestedBy != CleanUpDrills.Requester);
                    cleanups.Count.Should().BeLessThanOrEqualTo(1, "one cleanup cleans the drill");
                    if (cleanups.SingleOrDefault() is { IsFinished: true } done)
                        return done;
                }
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"the reconciler did not clean up the drill; agents said:\n{Logs}");
                await Task.Delay(500);
            }
        }

        public async Task<List<object>> EventsAsync(Guid runId)
        {
            await using var q = Store.QuerySession();
            return (await q.Events.FetchStreamAsync(runId)).Select(e => e.Data).ToList();
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var a in _agents.Values)
                a.Dispose();
            File.Delete(_marker);
            await _client.DisposeAsync();
        }
    }
}
