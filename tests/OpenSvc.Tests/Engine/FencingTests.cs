using FluentAssertions;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Drivers.Fake;
using OpenSvc.Infrastructure.Postgres;
using OpenSvc.Tests.Support;
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
}
