using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Drivers.Fake;
using OpenSvc.Infrastructure.Postgres;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Runs;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Engine;

/// <summary>
/// A step runs at most once at a time and a late result never lands after its run moved on: the two ways an earlier
/// engine ran a slow step several times (a node whose clock lags, and a PostgreSQL restart during the step),
/// reproduced on the fake cluster, where every effect is recorded.
/// </summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class FencingTests(ITestOutputHelper output)
{
    static readonly StepPolicy Slow = new(TimeSpan.FromMinutes(2), 3, TimeSpan.FromMilliseconds(200));

    static Plan TwoSteps(string service) => Plans.Start(service,
        Plans.Step(0, "n1", "fs#0", ResourceAction.Start, Slow),
        Plans.Step(1, "n2", "fs#1", ResourceAction.Start, Slow));

    [Fact]
    public async Task a_node_whose_clock_lags_is_not_taken_for_dead_and_its_slow_step_runs_once()
    {
        await using var cluster = await InProcessCluster.StartOnAsync(await PostgresServer.NewDatabaseAsync("fence_skew"),
            SharedProcess.Wakeup, SharedProcess.QueuePoll, new Dictionary<string, TimeSpan> { ["n1"] = TimeSpan.FromSeconds(-30) }, "n1", "n2");
        // Three times the agents' dead-after (3 s): the old engine requeued such a step every few seconds.
        await FakeCluster.InjectAsync(cluster.Store, "n1", "fs#0", ResourceAction.Start, "slow", delayMs: 9000);
        var plan = TwoSteps("svc-skew");

        var submitted = await cluster.Mediator.Send(new SubmitRun(plan, "tester", "clock skew", false, FakeCluster.ConfigFor(plan)));
        var run = await cluster.WaitForEndAsync(submitted.RunId, TimeSpan.FromSeconds(90));

        run.Status.Should().Be(RunStatus.Completed, run.Outcome);
        var events = await cluster.EventsAsync(run.Id);
        events.OfType<StepRequeued>().Should().BeEmpty("the lagging node's heartbeats are stamped with the database's clock");
        events.OfType<StepStarted>().Where(e => e.Step == 0).Should().ContainSingle();
        (await FakeCluster.EffectsAsync(cluster.Store, run.Id)).Where(e => e.Step == 0).Should().ContainSingle("the slow start ran once");
    }

    [Fact]
    public async Task a_database_restart_during_a_step_stops_it_and_the_step_takes_effect_once_after()
    {
        var home = Path.Combine(Path.GetTempPath(), $"opensvc-tests-pg-fence-{Environment.ProcessId}");
        Directory.CreateDirectory(home);
        if (Environment.UserName == "root")
            File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101);
        var options = new EmbeddedPostgresOptions(home, PostgresServer.FreePort());
        var pg = await EmbeddedPostgres.StartAsync(options);
        try
        {
            var cs = await pg.CreateDatabaseAsync("fence_restart");
            await using var cluster = await InProcessCluster.StartOnAsync(cs, SharedProcess.Wakeup, SharedProcess.QueuePoll, null, "n1", "n2");
            await FakeCluster.InjectAsync(cluster.Store, "n1", "fs#0", ResourceAction.Start, "slow", delayMs: 30_000);
            var plan = TwoSteps("svc-restart");
            var submitted = await cluster.Mediator.Send(new SubmitRun(plan, "tester", "database restart", false, FakeCluster.ConfigFor(plan)));
            await cluster.WaitForStepAsync(submitted.RunId, 0, StepStatus.Running, TimeSpan.FromSeconds(60));

            // PostgreSQL goes away for 20 s in the middle of the 30 s step.
            await pg.StopAsync();
            var down = DateTimeOffset.UtcNow;
            await Task.Delay(TimeSpan.FromSeconds(20));
            pg = await EmbeddedPostgres.StartAsync(options);
            var back = DateTimeOffset.UtcNow;
            output.WriteLine($"database down {down:HH:mm:ss.fff} to {back:HH:mm:ss.fff}");

            var run = await cluster.WaitForEndAsync(submitted.RunId, TimeSpan.FromSeconds(120));
            run.Status.Should().Be(RunStatus.Completed, run.Outcome);
            var events = await cluster.EventsAsync(run.Id);
            foreach (var e in events)
                output.WriteLine(e.ToString());
            events.OfType<StepRequeued>().Should().Contain(e => e.Step == 0, "the execution cut off by the outage is requeued as a new one");
            var effects = (await FakeCluster.EffectsAsync(cluster.Store, run.Id)).Where(e => e.Step == 0).ToList();
            effects.Should().ContainSingle("the first execution stopped when its agent lost its lease, before acting");
            effects[0].At.Should().BeAfter(back, "the effect is the later execution's");
            var completed = events.OfType<RunCompleted>().Single();
            completed.At.Should().BeOnOrAfter(effects[0].At, "the run ends only after its last execution ended");
        }
        finally
        {
            await pg.StopAsync();
            try { Directory.Delete(home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>How long a test waits for the engine at most: hang guards, not timing assertions.</summary>
    static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    /// <summary>A cluster of n1 and n2 whose n1 agent holds step 1 at <paramref name="gate"/>'s point.</summary>
    static Task<InProcessCluster> StartWithGateAsync(string name, StepGate gate) =>
        InProcessCluster.StartAsync(name, (node, services) =>
        {
            if (node == "n1")
                services.AddSingleton<IFaultInjector>(gate);
        }, "n1", "n2");

    /// <summary>
    /// What the reconciler does to a step whose agent it takes for gone: the running execution is superseded by a new
    /// one, through the run's one write path (which enqueues it). Fails the test if the step is no longer running
    /// <paramref name="execution"/>.
    /// </summary>
    static async Task SupersedeAsync(InProcessCluster cluster, Guid runId, int step, int execution)
    {
        var writer = cluster.Client.GetRequiredService<RunWriter>();
        var write = await writer.AppendAsync(runId, (run, now) =>
            run.Steps[step] is { Status: StepStatus.Running } s && s.Execution == execution
                ? [new StepRequeued(runId, step, s.Attempt, now, $"test: execution {execution} taken for cut off")]
                : [], default);
        write.Events.Should().ContainSingle(e => e is StepRequeued, $"step {step + 1} should still be running execution {execution}");
    }

    /// <summary>Waits until the run's stream holds an event of type <typeparamref name="T"/> that matches.</summary>
    static async Task<T> WaitForEventAsync<T>(InProcessCluster cluster, Guid runId, Func<T, bool> match)
    {
        var deadline = DateTimeOffset.UtcNow + Within;
        while (true)
        {
            if ((await cluster.EventsAsync(runId)).OfType<T>().FirstOrDefault(match) is { } found)
                return found;
            if (DateTimeOffset.UtcNow > deadline)
                throw new TimeoutException($"run {runId}: no {typeof(T).Name} in time");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task a_superseded_execution_that_finishes_after_its_run_ended_is_recorded_as_ignored_and_its_effect_counts_once()
    {
        // Execution 1 applies its effect, then is held before its outcome is recorded (a slow agent, a database out of reach).
        var gate = new StepGate(FaultPoint.AfterEffectBeforeEvent, step: 0, held: 1);
        try
        {
            await using var cluster = await StartWithGateAsync("fence_late", gate);
            var plan = TwoSteps("svc-late");
            var submitted = await cluster.Mediator.Send(new SubmitRun(plan, "tester", "late outcome", false, FakeCluster.ConfigFor(plan)));
            await gate.ReachedAsync(0, Within);
            var first = (await cluster.EventsAsync(submitted.RunId)).OfType<StepStarted>().Single(e => e.Step == 0).Execution;

            // The run moves on without it: a new execution of the step runs, and the run completes.
            await SupersedeAsync(cluster, submitted.RunId, step: 0, first);
            var run = await cluster.WaitForEndAsync(submitted.RunId, Within);
            run.Status.Should().Be(RunStatus.Completed, run.Outcome);

            // Then the superseded execution reports: recorded, and ignored.
            gate.Release(0);
            var ignored = await WaitForEventAsync<StepOutcomeIgnored>(cluster, submitted.RunId, e => e.Step == 0);

            var events = (await cluster.EventsAsync(run.Id)).ToList();
            foreach (var e in events)
                output.WriteLine(e.ToString());
            var second = events.OfType<StepStarted>().Where(e => e.Step == 0).Select(e => e.Execution).Should().HaveCount(2).And.Subject.Last();
            second.Should().BeGreaterThan(first);
            (ignored.Execution, ignored.Succeeded, ignored.Why).Should().Be((first, true, $"execution {first} was superseded by execution {second}"));
            events.IndexOf(ignored).Should().BeGreaterThan(events.IndexOf(events.OfType<RunCompleted>().Single()), "the late outcome lands after the run ended");
            events.OfType<StepSucceeded>().Where(e => e.Step == 0).Should().ContainSingle("the late success is not a second success of the step");
            (await FakeCluster.EffectsAsync(cluster.Store, run.Id)).Where(e => e.Step == 0).Should().ContainSingle("the new execution found the effect in place");
            (await cluster.WaitForEndAsync(run.Id, Within)).Status.Should().Be(RunStatus.Completed, "an ignored outcome changes nothing");
        }
        finally
        {
            gate.ReleaseAll();
        }
    }

    [Fact]
    public async Task a_superseded_execution_is_stopped_by_its_fencing_check_before_its_side_effect()
    {
        // Both executions are held before their driver runs; the test lets the superseded one go first.
        var gate = new StepGate(FaultPoint.DuringStep, step: 0, held: 2);
        try
        {
            await using var cluster = await StartWithGateAsync("fence_check", gate);
            var plan = TwoSteps("svc-check");
            var submitted = await cluster.Mediator.Send(new SubmitRun(plan, "tester", "fencing check", false, FakeCluster.ConfigFor(plan)));
            await gate.ReachedAsync(0, Within);
            var first = (await cluster.EventsAsync(submitted.RunId)).OfType<StepStarted>().Single(e => e.Step == 0).Execution;

            await SupersedeAsync(cluster, submitted.RunId, step: 0, first);
            await gate.ReachedAsync(1, Within);
            gate.Release(0);
            var ignored = await WaitForEventAsync<StepOutcomeIgnored>(cluster, submitted.RunId, e => e.Step == 0);

            var second = (await cluster.EventsAsync(submitted.RunId)).OfType<StepStarted>().Where(e => e.Step == 0).Select(e => e.Execution).Max();
            ignored.Execution.Should().Be(first);
            ignored.Succeeded.Should().BeFalse();
            ignored.Error.Should().Be($"execution {first} stopped before acting: the run moved on (step running, execution {second})");
            ignored.Why.Should().Be($"execution {first} was superseded by execution {second}");
            (await FakeCluster.EffectsAsync(cluster.Store, submitted.RunId)).Should().BeEmpty("the superseded execution stopped before its side effect");

            gate.Release(1);
            var run = await cluster.WaitForEndAsync(submitted.RunId, Within);
            run.Status.Should().Be(RunStatus.Completed, run.Outcome);
            (await FakeCluster.EffectsAsync(cluster.Store, run.Id)).Where(e => e.Step == 0).Should().ContainSingle("the current execution acted, once");
            (await cluster.EventsAsync(run.Id)).OfType<StepFailed>().Should().BeEmpty("the superseded execution's refusal is not a failure of the step");
        }
        finally
        {
            gate.ReleaseAll();
        }
    }
}
