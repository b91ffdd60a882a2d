using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Runs;

/// <summary>What a driver reported for one attempt of one step.</summary>
/// <summary>What a driver reported for one execution (its fencing token) of one attempt of one step.</summary>
public sealed record StepOutcome(
    int Step, int Attempt, bool Succeeded, bool TimedOut, bool Changed, string Output, string? Error, TimeSpan Duration,
    IReadOnlyDictionary<string, long>? Metrics = null, bool Permanent = false, int Execution = 0);

/// <summary>
/// The pure workflow policy: given a run and what just happened, which events follow.
/// The engine appends them and enqueues the steps they schedule; nothing here does IO.
/// </summary>
public static class RunDecider
{
    /// <summary>The events that open a run: the request, then the steps that can start at once.</summary>
    public static IReadOnlyList<object> Begin(RunRequested requested)
    {
        var run = WorkflowRun.From(requested);
        var events = new List<object> { requested };
        events.AddRange(Advance(run, requested.At));
        return events;
    }

    /// <summary>
    /// Execution <paramref name="execution"/> of the step may start now (StepStarted), or its delivery is stale (a
    /// duplicate, or an execution the run has superseded) and must be skipped (null).
    /// </summary>
    public static StepStarted? Start(WorkflowRun run, int step, int execution, string agent, DateTimeOffset now)
    {
        if (run.IsFinished || run.CancelRequested || step < 0 || step >= run.Steps.Count)
            return null; // a cancelled run starts nothing more, scheduled retries included
        var s = run.Steps[step];
        if (s.Status != StepStatus.Scheduled || s.Execution != execution)
            return null;
        return new StepStarted(run.Id, step, s.Attempt, s.Step.Node, agent, now, execution);
    }

    public static IReadOnlyList<object> Outcome(WorkflowRun run, StepOutcome o, DateTimeOffset now)
    {
        if (o.Step < 0 || o.Step >= run.Steps.Count)
            return [];
        var state = run.Steps[o.Step];
        if (state.Status != StepStatus.Running || state.Execution != o.Execution)
        {
            // A duplicate report of the execution that already ended the step changes nothing. The outcome of an
            // execution the run superseded (requeued as a new execution, abandoned, or a run that ended) is a fact
            // worth keeping: recorded, and ignored.
            var why = o.Execution < state.Execution ? $"execution {o.Execution} was superseded by execution {state.Execution}"
                : state.Abandoned && o.Execution == state.Execution ? "the step was abandoned"
                : run.IsFinished && o.Execution == state.Execution && state.Status == StepStatus.Running ? "the run had ended"
                : null;
            return why is null || o.Execution <= 0 ? [] : [new StepOutcomeIgnored(run.Id, o.Step, o.Execution, o.Succeeded, o.Error, now, why)];
        }

        var events = new List<object>();
        if (o.Succeeded)
        {
            events.Add(new StepSucceeded(run.Id, o.Step, state.Attempt, now, o.Duration, o.Changed, o.Output, o.Metrics));
            if (state.Compensates is { } undone)
                events.Add(new StepCompensated(run.Id, undone, o.Step, now));
        }
        else
        {
            if (o.TimedOut)
                events.Add(new StepTimedOut(run.Id, o.Step, state.Attempt, now, state.Step.Policy.Timeout));
            events.Add(new StepFailed(run.Id, o.Step, state.Attempt, now, o.Duration, o.Error ?? "failed", o.Output));
            if (state.Attempt < state.Step.Policy.MaxAttempts && !run.CancelRequested && !o.Permanent)
            {
                var backoff = state.Step.Policy.Backoff * Math.Pow(2, state.Attempt - 1);
                events.Add(new StepRetried(run.Id, o.Step, state.Attempt + 1, now, backoff));
                events.Add(new StepScheduled(run.Id, o.Step, state.Attempt + 1, state.Step.Node, state.Step.Node.QueueName, now, now + backoff));
                return events;
            }
        }
        var after = events.Aggregate(run, (r, e) => r.Then(e));
        events.AddRange(Advance(after, now));
        return events;
    }

    /// <summary>
    /// Stops a run at the next step boundary: steps not yet started are abandoned at once (they never start, scheduled
    /// retries included), a running step finishes, unless <paramref name="gone"/> says why its agent will never report
    /// (then it is abandoned with that reason). Asking again abandons what has become gone since.
    /// </summary>
    public static IReadOnlyList<object> Cancel(WorkflowRun run, string by, string? reason, DateTimeOffset now, Func<StepState, string?>? gone = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (run.IsFinished)
            return [];
        var events = new List<object>();
        if (!run.CancelRequested)
            events.Add(new RunCancelRequested(run.Id, by, reason, now));
        foreach (var s in run.Steps)
        {
            if (s.Status == StepStatus.Scheduled)
                events.Add(new StepAbandoned(run.Id, s.Step.Index, s.Execution, now, $"the run was cancelled by {by} before it started"));
            else if (s.Status == StepStatus.Running && gone?.Invoke(s) is { } why)
                events.Add(new StepAbandoned(run.Id, s.Step.Index, s.Execution, now, why));
        }
        if (events.Count == 0)
            return [];
        events.AddRange(Advance(events.Aggregate(run, (r, e) => r.Then(e)), now));
        return events;
    }

    /// <summary>Schedules what is ready, or closes the run when nothing is left to do.</summary>
    public static IReadOnlyList<object> Advance(WorkflowRun run, DateTimeOffset now)
    {
        if (run.IsFinished)
            return [];
        var inFlight = run.Steps.Any(s => s.Status is StepStatus.Scheduled or StepStatus.Running);

        if (run.CancelRequested)
        {
            // Pending steps of a cancelled run never start; a running one is allowed to finish.
            return inFlight ? [] : [new RunCancelled(run.Id, now)];
        }

        if (run.Compensating)
        {
            var compensations = run.Steps.Where(s => s.Compensates is not null).ToList();
            var failed = compensations.FirstOrDefault(s => s.Status == StepStatus.Failed);
            if (failed is not null)
            {
                return inFlight
                    ? []
                    : [new RunFailed(run.Id, now, FirstFailure(run),
                        $"{Describe(run, FirstFailure(run))}; rollback incomplete: {Describe(failed)} failed ({failed.Error})", false)];
            }
            if (compensations.All(s => s.Status == StepStatus.Succeeded))
                return [new RunFailed(run.Id, now, FirstFailure(run), $"{Describe(run, FirstFailure(run))}; rolled back", true)];
            return ScheduleReady(run, now, onlyCompensations: true);
        }

        var blockingFailure = run.Steps.FirstOrDefault(s => s.Compensates is null && s.Status == StepStatus.Failed && !s.Step.Optional);
        if (blockingFailure is not null)
        {
            if (inFlight)
                return [];
            var toUndo = run.Plan.Rollback
                ? run.Steps
                    .Where(s => s.Compensates is null && s.Status == StepStatus.Succeeded && s.Step.Compensation is not null && s.Changed)
                    .OrderByDescending(s => s.Step.Index)
                    .ToList()
                : [];
            if (toUndo.Count == 0)
            {
                var why = run.Plan.Rollback ? "nothing to roll back" : "rollback disabled";
                return [new RunFailed(run.Id, now, blockingFailure.Step.Index, $"{Describe(blockingFailure)} failed: {blockingFailure.Error}; {why}", false)];
            }
            var first = run.Steps.Count;
            var steps = toUndo.Select((s, i) => new CompensationStep(
                s.Step with
                {
                    Index = first + i,
                    Action = s.Step.Compensation!.Value,
                    WaitsFor = i == 0 ? [] : [first + i - 1],
                    Compensation = null,
                },
                s.Step.Index)).ToList();
            var planned = new CompensationPlanned(run.Id, blockingFailure.Step.Index, steps, now);
            var events = new List<object> { planned };
            events.AddRange(ScheduleReady(run.Then(planned), now, onlyCompensations: true));
            return events;
        }

        var ready = ScheduleReady(run, now, onlyCompensations: false);
        if (ready.Count > 0 || inFlight)
            return ready;
        if (run.Steps.All(s => s.Status == StepStatus.Succeeded || (s.Status == StepStatus.Failed && s.Step.Optional)))
        {
            // A sync run exists only to send: its (optional) sends go on past a failed one, but the run then failed,
            // never "completed" with a DR copy that was not made (where OpenSVC's sync exits 0 after a failed send).
            if (run.Plan.Action == ServiceAction.Sync && run.Steps.FirstOrDefault(s => s.Status == StepStatus.Failed) is { } send)
            {
                var others = run.Steps.Count(s => s.Status == StepStatus.Succeeded && s.Step.Action == ResourceAction.Sync);
                return [new RunFailed(run.Id, now, send.Step.Index,
                    $"{Describe(send)} failed: {send.Error}" + (others > 0 ? $"; {others} other send(s) completed" : ""), false)];
            }
            return [new RunCompleted(run.Id, now)];
        }
        // Pending steps whose prerequisites can never be met (an optional failure they depended on is not one).
        var stuck = run.Steps.First(s => s.Status == StepStatus.Pending);
        return [new RunFailed(run.Id, now, stuck.Step.Index, $"{Describe(stuck)} cannot run: a step it waits for did not succeed", false)];
    }

    static List<object> ScheduleReady(WorkflowRun run, DateTimeOffset now, bool onlyCompensations)
    {
        bool Satisfied(int index) =>
            index >= 0 && index < run.Steps.Count &&
            (run.Steps[index].Status is StepStatus.Succeeded or StepStatus.Compensated ||
             (run.Steps[index].Status == StepStatus.Failed && run.Steps[index].Step.Optional));

        var events = new List<object>();
        foreach (var s in run.Steps)
        {
            if (s.Status != StepStatus.Pending || (s.Compensates is not null) != onlyCompensations)
                continue;
            if (s.Step.WaitsFor.All(Satisfied))
                events.Add(new StepScheduled(run.Id, s.Step.Index, s.Attempt, s.Step.Node, s.Step.Node.QueueName, now, null));
        }
        return events;
    }

    static int? FirstFailure(WorkflowRun run) =>
        run.Steps.FirstOrDefault(s => s.Compensates is null && s.Status == StepStatus.Failed && !s.Step.Optional)?.Step.Index;

    static string Describe(WorkflowRun run, int? index) =>
        index is { } i ? $"{ActionWords.Describe(run.Steps[i])} failed: {run.Steps[i].Error}" : "a step failed";

    static string Describe(StepState s) => ActionWords.Describe(s);
}
