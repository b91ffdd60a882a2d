using System.Globalization;
using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Workflows.Engine;

/// <summary>Enqueues a step's job on its node's Hangfire queue, so only that node's agent runs it.</summary>
public sealed class HangfireStepDispatcher(IBackgroundJobClient client, JobStorage storage, TimeProvider time) : IStepDispatcher
{
    static readonly System.Reflection.MethodInfo Execute = typeof(StepJob).GetMethod(nameof(StepJob.ExecuteAsync))!;

    public void Dispatch(StepDelivery delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var queue = delivery.Node.QueueName;
        // The job is built from the method and its arguments, not from a lambda: the same stored job as
        // Enqueue<StepJob>(queue, j => j.ExecuteAsync(...)), without compiling an expression tree for every step.
        var job = new Hangfire.Common.Job(typeof(StepJob), Execute,
            [delivery.RunId, delivery.Step, delivery.Execution, delivery.Label, CancellationToken.None], queue);
        IState state = delivery.NotBefore is { } at && at > time.GetUtcNow()
            ? new ScheduledState(at.UtcDateTime)
            : new EnqueuedState(queue);
        client.Create(job, state);
    }

    public QueuedSteps QueuedSteps(TimeSpan startGrace)
    {
        var api = storage.GetMonitoringApi();
        var live = new HashSet<(Guid, int, int)>();
        var stalled = new Dictionary<(Guid, int, int), DateTimeOffset>();
        var now = time.GetUtcNow();
        // (run, step, execution); a job of the old signature (attempt and action) is live as a delivery of any
        // execution of its step: the reconciler leaves the step alone while it waits (execution -1 marks it).
        static (Guid, int, int)? Key(Hangfire.Common.Job? job) =>
            job is { Args.Count: >= 3 } && job.Type == typeof(StepJob)
            && Guid.TryParse(Convert.ToString(job.Args[0], CultureInfo.InvariantCulture), out var run)
                ? (run, Convert.ToInt32(job.Args[1], CultureInfo.InvariantCulture),
                    job.Method.Name == nameof(StepJob.ExecuteAsync) ? Convert.ToInt32(job.Args[2], CultureInfo.InvariantCulture) : -1)
                : null;
        void Add(Hangfire.Common.Job? job)
        {
            if (Key(job) is { } key)
                live.Add(key);
        }

        const int page = 5000;
        foreach (var queue in api.Queues())
        {
            foreach (var j in api.EnqueuedJobs(queue.Name, 0, page))
                Add(j.Value?.Job);
            foreach (var j in api.FetchedJobs(queue.Name, 0, page))
            {
                // A worker moves what it fetches to Processing within milliseconds; one still Enqueued long after
                // its fetch belongs to a worker that stalled, and the queue keeps it from everyone else.
                if (j.Value is { FetchedAt: { } fetched } dto
                    && string.Equals(dto.State, EnqueuedState.StateName, StringComparison.OrdinalIgnoreCase)
                    && now - new DateTimeOffset(DateTime.SpecifyKind(fetched, DateTimeKind.Utc)) > startGrace
                    && Key(dto.Job) is { } key)
                    stalled[key] = new DateTimeOffset(DateTime.SpecifyKind(fetched, DateTimeKind.Utc));
                else
                    Add(j.Value?.Job);
            }
        }
        foreach (var j in api.ProcessingJobs(0, page))
            Add(j.Value?.Job);
        foreach (var j in api.ScheduledJobs(0, page))
            Add(j.Value?.Job);
        foreach (var key in live)
            stalled.Remove(key); // another job of the same attempt is alive
        return new QueuedSteps(live, stalled);
    }
}
