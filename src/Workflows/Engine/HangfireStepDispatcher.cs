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
    static readonly System.Reflection.MethodInfo Run = typeof(StepJob).GetMethod(nameof(StepJob.RunAsync))!;

    public void Dispatch(Guid runId, int step, int attempt, ResourceAction action, NodeName node, DateTimeOffset? notBefore, string label)
    {
        var queue = node.QueueName;
        // The job is built from the method and its arguments, not from a lambda: the same stored job as
        // Enqueue<StepJob>(queue, j => j.RunAsync(...)), without compiling an expression tree for every step.
        var job = new Hangfire.Common.Job(typeof(StepJob), Run, [runId, step, attempt, action, label, CancellationToken.None], queue);
        IState state = notBefore is { } at && at > time.GetUtcNow()
            ? new ScheduledState(at.UtcDateTime)
            : new EnqueuedState(queue);
        client.Create(job, state);
    }

    public IReadOnlySet<(Guid RunId, int Step, int Attempt)> QueuedSteps()
    {
        var api = storage.GetMonitoringApi();
        var found = new HashSet<(Guid, int, int)>();
        void Add(Hangfire.Common.Job? job)
        {
            if (job is { Args.Count: >= 3 } && job.Type == typeof(StepJob)
                && Guid.TryParse(Convert.ToString(job.Args[0], CultureInfo.InvariantCulture), out var run))
                found.Add((run, Convert.ToInt32(job.Args[1], CultureInfo.InvariantCulture), Convert.ToInt32(job.Args[2], CultureInfo.InvariantCulture)));
        }

        const int page = 5000;
        foreach (var queue in api.Queues())
        {
            foreach (var j in api.EnqueuedJobs(queue.Name, 0, page))
                Add(j.Value?.Job);
            foreach (var j in api.FetchedJobs(queue.Name, 0, page))
                Add(j.Value?.Job);
        }
        foreach (var j in api.ProcessingJobs(0, page))
            Add(j.Value?.Job);
        foreach (var j in api.ScheduledJobs(0, page))
            Add(j.Value?.Job);
        return found;
    }
}
