using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using OpenSvc.Domain;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Drivers.Fake;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Runs;
using Xunit;

namespace OpenSvc.Tests.Engine;

/// <summary>The engine on real PostgreSQL, Hangfire and Marten, with two node agents driving the fake cluster.</summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class WorkflowEngineTests : IAsyncLifetime
{
    InProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync("engine", "n1", "n2");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    Task<SubmitResult> Submit(Plan plan) => _cluster.Mediator.Send(new SubmitRun(plan, "tester", "engine test", false, FakeCluster.ConfigFor(plan)));

    [Fact]
    public async Task steps_run_on_the_agent_of_their_node_and_the_run_completes()
    {
        var plan = Plans.Start("svc-a",
            Plans.Step(0, "n1", "fs#0", ResourceAction.Start),
            Plans.Step(1, "n2", "fs#1", ResourceAction.Start),
            Plans.Step(2, "n1", "container#0", ResourceAction.Start));

        var submitted = await Submit(plan);
        submitted.Accepted.Should().BeTrue();
        var run = await _cluster.WaitForEndAsync(submitted.RunId);

        run.Status.Should().Be(RunStatus.Completed);
        run.Steps.Should().OnlyContain(s => s.Status == StepStatus.Succeeded && s.Attempt == 1);
        run.Steps.Select(s => s.Agent!.Split('/')[0]).Should().Equal("n1", "n2", "n1");
        var effects = await FakeCluster.EffectsAsync(_cluster.Store, run.Id);
        effects.Select(e => $"{e.Node} {e.Action} {e.Rid}").Should().Equal("n1 start fs#0", "n2 start fs#1", "n1 start container#0");
        (await FakeCluster.StateAsync(_cluster.Store, "n2", "fs#1")).Should().Be("up");

        var events = await _cluster.EventsAsync(run.Id);
        events[0].Should().BeOfType<RunRequested>().Which.Plan.Steps.Should().HaveCount(3);
        events.OfType<StepScheduled>().Should().HaveCount(3);
        events.OfType<StepStarted>().Should().HaveCount(3);
        events.OfType<StepSucceeded>().Should().HaveCount(3);
        events.Last().Should().BeOfType<RunCompleted>();
        await GoldenStreamRecorder.RecordAsync(_cluster.Store, run.Id, "two-nodes-completed");
    }

    [Fact]
    public async Task consecutive_steps_on_one_node_run_in_one_job_each_with_its_own_events()
    {
        var plan = Plans.Start("svc-seg",
            Plans.Step(0, "n1", "fs#0", ResourceAction.Start),
            Plans.Step(1, "n1", "fs#1", ResourceAction.Start),
            Plans.Step(2, "n1", "container#0", ResourceAction.Start),
            Plans.Step(3, "n2", "fs#2", ResourceAction.Start));

        var submitted = await Submit(plan);
        var run = await _cluster.WaitForEndAsync(submitted.RunId);

        run.Status.Should().Be(RunStatus.Completed);
        var events = await _cluster.EventsAsync(run.Id);
        events.OfType<StepStarted>().Select(e => e.Step).Should().Equal(0, 1, 2, 3);
        events.OfType<StepSucceeded>().Select(e => e.Step).Should().Equal(0, 1, 2, 3);
        (await FakeCluster.EffectsAsync(_cluster.Store, run.Id)).Select(e => e.Step).Should().Equal(0, 1, 2, 3);
        // Steps 1 and 2 were claimed with the outcome of the step before them, on n1: one job for n1, one for n2.
        await using var connection = new Npgsql.NpgsqlConnection(_cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT invocationdata::text FROM hangfire.job WHERE invocationdata::text LIKE '%' || $1 || '%'", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = run.Id.ToString() });
        var jobs = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                jobs.Add(reader.GetString(0));
        jobs.Should().HaveCount(2);
        jobs.Should().ContainSingle(j => j.Contains("svc-seg start fs#0, fs#1, container#0 on n1", StringComparison.Ordinal), "the dashboard names the job after its steps");
    }

    [Fact]
    public async Task a_second_run_of_a_busy_service_is_refused_with_the_run_in_flight()
    {
        await FakeCluster.InjectAsync(_cluster.Store, "n1", "fs#0", ResourceAction.Start, "slow", delayMs: 1500);
        var first = await Submit(Plans.Start("svc-b", Plans.Step(0, "n1", "fs#0", ResourceAction.Start)));
        var second = await Submit(Plans.Start("svc-b", Plans.Step(0, "n1", "fs#0", ResourceAction.Start)));

        first.Accepted.Should().BeTrue();
        second.Accepted.Should().BeFalse();
        second.RunInFlight.Should().Be(first.RunId);
        second.Refusal.Should().Contain(first.RunId.ToString());
        (await _cluster.WaitForEndAsync(first.RunId)).Status.Should().Be(RunStatus.Completed);

        // The refusal is in the audit trail too, and the service is free again afterwards.
        await using (var session = _cluster.Store.QuerySession())
            (await session.LoadAsync<WorkflowRun>(second.RunId))!.Status.Should().Be(RunStatus.Refused);
        var third = await Submit(Plans.Start("svc-b", Plans.Step(0, "n1", "fs#0", ResourceAction.Stop)));
        third.Accepted.Should().BeTrue();
        (await _cluster.WaitForEndAsync(third.RunId)).Status.Should().Be(RunStatus.Completed);
    }

    [Fact]
    public async Task a_step_whose_job_a_worker_fetched_and_never_started_is_requeued()
    {
        // n3 has no agent yet, so its step's job waits in n3's queue.
        var submitted = await Submit(Plans.Start("svc-f", Plans.Step(0, "n3", "fs#0", ResourceAction.Start)));
        var job = await _cluster.WaitForQueuedJobAsync("node_n3");
        // A worker fetched it and stalled before moving it to Processing: the queue now hides it from every other
        // worker until its invisibility timeout (minutes), so only the reconciler can get the step going.
        await _cluster.MarkFetchedAsync(job, TimeSpan.FromSeconds(10));
        await _cluster.AddAgentAsync("n3");

        var run = await _cluster.WaitForEndAsync(submitted.RunId);

        run.Status.Should().Be(RunStatus.Completed);
        var events = await _cluster.EventsAsync(run.Id);
        // The first pass names the stalled fetch (a later pass may requeue again before n3's agent is up).
        events.OfType<StepRequeued>().First().Because.Should()
            .Contain("fetched its job").And.Contain("never started").And.Contain("node_n3");
        events.OfType<StepStarted>().Should().ContainSingle();
    }

    [Fact]
    public async Task agents_keep_running_steps_after_another_host_of_the_process_is_disposed()
    {
        var first = await Submit(Plans.Start("svc-g", Plans.Step(0, "n1", "fs#0", ResourceAction.Start)));
        (await _cluster.WaitForEndAsync(first.RunId)).Status.Should().Be(RunStatus.Completed);

        // Another container of this process configures Hangfire after the agents did (Hangfire keeps its log provider
        // and job activator in statics) and goes away, as one test's client does while another test's agents run.
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddOpenSvcEngine(new EngineOptions(_cluster.ConnectionString, new NodeName("passer-by")) { RunAgent = false, FakeCluster = true });
        await using (var other = services.BuildServiceProvider())
            _ = other.GetRequiredService<Hangfire.IGlobalConfiguration>();

        var second = await Submit(Plans.Start("svc-g",
            Plans.Step(0, "n1", "fs#1", ResourceAction.Start),
            Plans.Step(1, "n2", "fs#2", ResourceAction.Start)));

        var run = await _cluster.WaitForEndAsync(second.RunId, TimeSpan.FromSeconds(30));
        run.Status.Should().Be(RunStatus.Completed);
        (await _cluster.EventsAsync(run.Id)).OfType<StepRequeued>().Should().BeEmpty("no job was lost on the way");
    }

    [Fact]
    public async Task a_failed_attempt_is_retried_with_backoff_as_recorded_policy()
    {
        await FakeCluster.InjectAsync(_cluster.Store, "n2", "fs#0", ResourceAction.Start, "fail", times: 1);
        var policy = new StepPolicy(TimeSpan.FromSeconds(30), 3, TimeSpan.FromMilliseconds(200));
        var submitted = await Submit(Plans.Start("svc-c", Plans.Step(0, "n2", "fs#0", ResourceAction.Start, policy)));

        var run = await _cluster.WaitForEndAsync(submitted.RunId);

        run.Status.Should().Be(RunStatus.Completed);
        run.Steps[0].Attempt.Should().Be(2);
        var events = await _cluster.EventsAsync(run.Id);
        events.OfType<StepFailed>().Should().ContainSingle().Which.Error.Should().Contain("injected failure");
        events.OfType<StepRetried>().Should().ContainSingle().Which.Backoff.Should().Be(TimeSpan.FromMilliseconds(200));
        events.OfType<StepScheduled>().Last().NotBefore.Should().NotBeNull();
        await GoldenStreamRecorder.RecordAsync(_cluster.Store, run.Id, "retried-then-completed");
    }

    [Fact]
    public async Task a_start_failure_rolls_back_what_this_run_started_in_reverse_order()
    {
        await FakeCluster.InjectAsync(_cluster.Store, "n1", "container#0", ResourceAction.Start, "fail", times: 5);
        var submitted = await Submit(Plans.Start("svc-d",
            Plans.Step(0, "n1", "fs#0", ResourceAction.Start),
            Plans.Step(1, "n1", "fs#1", ResourceAction.Start),
            Plans.Step(2, "n1", "container#0", ResourceAction.Start)));

        var run = await _cluster.WaitForEndAsync(submitted.RunId);

        run.Status.Should().Be(RunStatus.Failed);
        run.Outcome.Should().Contain("container#0").And.Contain("rolled back");
        run.Steps.Should().HaveCount(5);
        run.Steps[3].Step.Rid.ToString().Should().Be("fs#1");
        run.Steps[4].Step.Rid.ToString().Should().Be("fs#0");
        run.Steps.Skip(3).Should().OnlyContain(s => s.Step.Action == ResourceAction.Stop && s.Status == StepStatus.Succeeded);
        run.Steps.Take(2).Should().OnlyContain(s => s.Status == StepStatus.Compensated);
        (await FakeCluster.StateAsync(_cluster.Store, "n1", "fs#0")).Should().Be("down");
        var events = await _cluster.EventsAsync(run.Id);
        events.OfType<RunFailed>().Single().RolledBack.Should().BeTrue();
        events.OfType<StepCompensated>().Select(e => e.Step).Should().Equal(1, 0);
        await GoldenStreamRecorder.RecordAsync(_cluster.Store, run.Id, "start-failure-rolled-back");
    }

    [Fact]
    public async Task a_step_that_outlives_its_timeout_is_recorded_as_timed_out()
    {
        await FakeCluster.InjectAsync(_cluster.Store, "n1", "fs#0", ResourceAction.Start, "timeout", times: 1);
        var policy = new StepPolicy(TimeSpan.FromMilliseconds(500), 1, TimeSpan.Zero);
        var submitted = await Submit(Plans.Start("svc-e", Plans.Step(0, "n1", "fs#0", ResourceAction.Start, policy)));

        var run = await _cluster.WaitForEndAsync(submitted.RunId);

        run.Status.Should().Be(RunStatus.Failed);
        run.Steps[0].TimedOut.Should().BeTrue();
        (await _cluster.EventsAsync(run.Id)).OfType<StepTimedOut>().Should().ContainSingle();
    }

    [Fact]
    public async Task a_cancelled_run_starts_no_further_step()
    {
        await FakeCluster.InjectAsync(_cluster.Store, "n1", "fs#0", ResourceAction.Start, "slow", delayMs: 1500);
        var submitted = await Submit(Plans.Start("svc-f",
            Plans.Step(0, "n1", "fs#0", ResourceAction.Start),
            Plans.Step(1, "n2", "fs#1", ResourceAction.Start)));
        await _cluster.WaitForStepAsync(submitted.RunId, 0, StepStatus.Running, TimeSpan.FromSeconds(30));

        var cancel = await _cluster.Mediator.Send(new CancelRun(submitted.RunId, "tester", "drill aborted"));
        var run = await _cluster.WaitForEndAsync(submitted.RunId);

        cancel.Accepted.Should().BeTrue();
        run.Status.Should().Be(RunStatus.Cancelled);
        run.Steps[1].Status.Should().Be(StepStatus.Pending);
        (await FakeCluster.EffectsAsync(_cluster.Store, run.Id)).Should().ContainSingle(e => e.Rid == "fs#0");
        await GoldenStreamRecorder.RecordAsync(_cluster.Store, run.Id, "cancelled");
    }

    [Fact]
    public async Task runs_are_listed_and_found_by_id_prefix_from_the_event_store()
    {
        var submitted = await Submit(Plans.Start("svc-g", Plans.Step(0, "n2", "fs#0", ResourceAction.Start)));
        await _cluster.WaitForEndAsync(submitted.RunId);
        await using var session = _cluster.Store.QuerySession();

        var runs = await RunQueries.ListAsync(session, new RunFilter(Service: "svc-g", Status: RunStatus.Completed), default);
        var (found, problem) = await RunQueries.FindAsync(session, RunTimeline.Short(submitted.RunId), default);

        runs.Should().ContainSingle().Which.Id.Should().Be(submitted.RunId);
        problem.Should().BeNull();
        found!.Id.Should().Be(submitted.RunId);
        RunTimeline.Show(found, DateTimeOffset.UtcNow).Should().Contain("start").And.Contain("fs#0").And.Contain("n2");
    }
}
