using FluentAssertions;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using Xunit;

namespace OpenSvc.Domain.Tests.Runs;

/// <summary>The workflow policy as pure decisions: what follows a step's outcome.</summary>
public sealed class RunDeciderTests
{
    static readonly NodeName N1 = new("n1");
    static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    static PlanStep Step(int i, string rid, int attempts = 3, bool optional = false) =>
        new(i, N1, ResourceId.Parse(rid), "fs", ResourceAction.Start, i == 0 ? [] : [i - 1],
            new StepPolicy(TimeSpan.FromMinutes(1), attempts, TimeSpan.FromSeconds(2)), ResourceAction.Stop, Optional: optional);

    static WorkflowRun Begin(params PlanStep[] steps) => Begin(ServiceAction.Start, steps);

    static WorkflowRun Begin(ServiceAction action, params PlanStep[] steps)
    {
        var plan = new Plan("svc1", action, N1, null, true, steps);
        var events = RunDecider.Begin(new RunRequested(Guid.NewGuid(), "svc1", action, N1, null, "tester", null, false, T0, "v1", "", plan));
        return WorkflowRun.Replay(events)!;
    }

    static PlanStep Send(int i, string rid) =>
        new(i, N1, ResourceId.Parse(rid), "sync.rsync", ResourceAction.Sync, i == 0 ? [] : [i - 1],
            new StepPolicy(TimeSpan.FromMinutes(1), 1, TimeSpan.FromSeconds(2)), Target: new NodeName("n3"), Optional: true);

    static WorkflowRun Run(WorkflowRun run, int step, bool ok, out IReadOnlyList<object> events, bool changed = true, bool permanent = false)
    {
        run = run.Then(RunDecider.Start(run, step, run.Steps[step].Execution, "n1/1/a", T0)!);
        events = RunDecider.Outcome(run, new StepOutcome(step, run.Steps[step].Attempt, ok, false, changed, "", ok ? null : "boom", TimeSpan.FromSeconds(1),
            Permanent: permanent, Execution: run.Steps[step].Execution), T0);
        return events.Aggregate(run, (r, e) => r.Then(e));
    }

    [Fact]
    public void a_failed_attempt_is_retried_after_a_doubling_backoff()
    {
        var run = Begin(Step(0, "fs#0"));
        run = Run(run, 0, ok: false, out var first);
        first.OfType<StepRetried>().Single().Backoff.Should().Be(TimeSpan.FromSeconds(2));
        first.OfType<StepScheduled>().Single().NotBefore.Should().Be(T0 + TimeSpan.FromSeconds(2));

        Run(run, 0, ok: false, out var second);
        second.OfType<StepRetried>().Single().Backoff.Should().Be(TimeSpan.FromSeconds(4));
    }

    [Fact]
    public void a_permanent_failure_is_not_retried_and_rolls_back_what_the_run_changed()
    {
        var run = Begin(Step(0, "fs#0"), Step(1, "fs#1"), Step(2, "container#0"));
        run = Run(run, 0, ok: true, out _, changed: true);
        run = Run(run, 1, ok: true, out _, changed: false); // already up before this run: not undone
        run = Run(run, 2, ok: false, out var events, permanent: true);

        events.OfType<StepRetried>().Should().BeEmpty();
        var planned = events.OfType<CompensationPlanned>().Single();
        planned.Steps.Select(c => (c.Step.Rid.ToString(), c.Step.Action, c.Compensates)).Should().Equal(("fs#0", ResourceAction.Stop, 0));
        run.Compensating.Should().BeTrue();
    }

    static PlanStep After(PlanStep step, params int[] waitsFor) => step with { WaitsFor = waitsFor };

    [Fact]
    public void independent_steps_are_scheduled_together_and_a_join_waits_for_both()
    {
        // A drill's shape: 0 and 1 wait for nothing, 2 waits for 1, 3 for 0 and 2.
        var run = Begin(Step(0, "sync#0"), After(Step(1, "sync#1"), []), Step(2, "fs#0"), After(Step(3, "container#0"), 0, 2));
        run.Steps.Where(s => s.Status == StepStatus.Scheduled).Select(s => s.Step.Index).Should().Equal(0, 1);

        run = Run(run, 1, ok: true, out var afterClone);
        afterClone.OfType<StepScheduled>().Select(e => e.Step).Should().Equal(2);
        run = Run(run, 2, ok: true, out var afterMount);
        afterMount.OfType<StepScheduled>().Should().BeEmpty("the join still waits for step 1");
        run = Run(run, 0, ok: true, out var afterCheck);
        afterCheck.OfType<StepScheduled>().Select(e => e.Step).Should().Equal(3);
        Run(run, 3, ok: true, out var last);
        last.Should().ContainSingle(e => e is RunCompleted);
    }

    [Fact]
    public void a_failure_in_one_branch_waits_for_the_other_in_flight_then_rolls_back_both()
    {
        var run = Begin(Step(0, "sync#0"), After(Step(1, "sync#1"), []), After(Step(2, "fs#0"), 0, 1));
        run = run.Then(RunDecider.Start(run, 0, run.Steps[0].Execution, "n1/1/a", T0)!);
        run = Run(run, 1, ok: false, out var failed, permanent: true);

        failed.OfType<CompensationPlanned>().Should().BeEmpty("step 1 is still running: its effect is not known yet");
        failed.OfType<RunFailed>().Should().BeEmpty();
        var events = RunDecider.Outcome(run, new StepOutcome(0, run.Steps[0].Attempt, true, false, true, "", null, TimeSpan.FromSeconds(1),
            Execution: run.Steps[0].Execution), T0);
        var planned = events.OfType<CompensationPlanned>().Single();
        planned.Steps.Select(c => (c.Step.Rid.ToString(), c.Compensates)).Should().Equal(("sync#0", 0));
        events.OfType<StepScheduled>().Should().ContainSingle().Which.Step.Should().Be(3, "only the compensation starts; step 3 never does");
    }

    [Fact]
    public void an_optional_step_that_fails_does_not_stop_the_run()
    {
        var run = Begin(Step(0, "sync#0", attempts: 1, optional: true), Step(1, "sync#1", attempts: 1, optional: true));
        run = Run(run, 0, ok: false, out var events);
        events.OfType<StepScheduled>().Single().Step.Should().Be(1);
        Run(run, 1, ok: true, out var last);
        last.Should().ContainSingle(e => e is RunCompleted);
    }

    [Fact]
    public void a_sync_run_goes_on_past_a_failed_send_but_then_fails_naming_it()
    {
        var run = Begin(ServiceAction.Sync, Send(0, "sync#0"), Send(1, "sync#1"));
        run = Run(run, 0, ok: false, out var events);
        events.OfType<StepScheduled>().Single().Step.Should().Be(1, "the other send is still attempted");
        Run(run, 1, ok: true, out var last);
        var failed = last.OfType<RunFailed>().Should().ContainSingle().Subject;
        failed.FailedStep.Should().Be(0);
        failed.Reason.Should().Be("step 1 (sync sync#0 on n1 to n3) failed: boom; 1 other send(s) completed");
        last.OfType<RunCompleted>().Should().BeEmpty("a DR copy that was not made is never reported as done");
    }

    [Fact]
    public void a_cancelled_run_ends_when_its_running_step_ends_and_starts_nothing_more()
    {
        var run = Begin(Step(0, "fs#0"), Step(1, "fs#1"));
        run = run.Then(RunDecider.Start(run, 0, 1, "n1/1/a", T0)!);
        var cancel = RunDecider.Cancel(run, "tester", "drill", T0);
        cancel.Should().ContainSingle(e => e is RunCancelRequested).And.NotContain(e => e is RunCancelled);
        run = cancel.Aggregate(run, (r, e) => r.Then(e));

        var after = RunDecider.Outcome(run, new StepOutcome(0, 1, true, false, true, "", null, TimeSpan.FromSeconds(1), Execution: 1), T0);
        after.Should().NotContain(e => e is StepScheduled).And.ContainSingle(e => e is RunCancelled);
    }

    [Fact]
    public void a_late_or_duplicate_report_changes_nothing()
    {
        var run = Begin(Step(0, "fs#0"));
        run = Run(run, 0, ok: true, out _);
        RunDecider.Outcome(run, new StepOutcome(0, 1, true, false, true, "", null, TimeSpan.Zero, Execution: 1), T0).Should().BeEmpty();
        RunDecider.Start(run, 0, 1, "n1/2/b", T0).Should().BeNull();
    }

    [Fact]
    public void a_retry_scheduled_before_a_cancel_never_starts_and_the_run_ends_at_once()
    {
        var run = Begin(Step(0, "fs#0"), Step(1, "fs#1"));
        run = Run(run, 0, ok: false, out var failed);
        failed.OfType<StepScheduled>().Should().ContainSingle("the failed attempt is retried after a backoff");

        var cancel = RunDecider.Cancel(run, "tester", "drill aborted", T0);

        cancel.OfType<StepAbandoned>().Should().ContainSingle(e => e.Step == 0).Which.Reason.Should().Contain("before it started");
        cancel.Should().ContainSingle(e => e is RunCancelled, "nothing runs any more");
        run = cancel.Aggregate(run, (r, e) => r.Then(e));
        RunDecider.Start(run, 0, run.Steps[0].Execution, "n1/1/a", T0).Should().BeNull("the retry's job, when it arrives, starts nothing");
    }

    [Fact]
    public void a_step_running_on_an_agent_that_is_gone_is_abandoned_by_a_cancel()
    {
        var run = Begin(Step(0, "fs#0"));
        run = run.Then(RunDecider.Start(run, 0, run.Steps[0].Execution, "n1/1/a", T0)!);

        RunDecider.Cancel(run, "tester", null, T0).Should().ContainSingle(e => e is RunCancelRequested, "a live agent's step is waited for");
        var gone = RunDecider.Cancel(run, "tester", null, T0, _ => "agent n1/1/a is gone");

        gone.OfType<StepAbandoned>().Should().ContainSingle().Which.Reason.Should().Be("agent n1/1/a is gone");
        gone.Should().ContainSingle(e => e is RunCancelled);
    }

    [Fact]
    public void the_late_outcome_of_a_superseded_execution_is_recorded_and_ignored()
    {
        var run = Begin(Step(0, "fs#0"));
        run = run.Then(RunDecider.Start(run, 0, 1, "n1/1/a", T0)!);
        run = run.Then(new StepRequeued(run.Id, 0, 1, T0, "agent n1/1/a stopped answering"));
        run = run.Then(RunDecider.Start(run, 0, 2, "n1/2/b", T0)!);

        var late = RunDecider.Outcome(run, new StepOutcome(0, 1, true, false, true, "", null, TimeSpan.FromSeconds(40), Execution: 1), T0);

        late.Should().ContainSingle().Which.Should().BeOfType<StepOutcomeIgnored>().Which.Why.Should().Contain("superseded by execution 2");
        late.Aggregate(run, (r, e) => r.Then(e)).Steps[0].Status.Should().Be(StepStatus.Running, "the current execution still decides");
    }
}
