using System.Globalization;
using Hangfire;
using Hangfire.Storage;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Workflows.Engine;

/// <summary>Enqueues a step's job on its node's Hangfire queue, so only that node's agent runs it.</summary>
public sealed class HangfireStepDispatcher(IBackgroundJobClient client, JobStorage storage, TimeProvider time) : IStepDispatcher
{
    public void Dispatch(Guid runId, int step, int attempt, ResourceAction action, NodeName node, DateTimeOffset? notBefore, string label)
    {
        var queue = node.QueueName;
        if (notBefore is { } at && at > time.GetUtcNow())
            client.Schedule<StepJob>(queue, j => j.RunAsync(runId, step, attempt, action, label, CancellationToken.None), at);
        else
            client.Enqueue<StepJob>(queue, j => j.RunAsync(runId, step, attempt, action, label, CancellationToken.None));
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
