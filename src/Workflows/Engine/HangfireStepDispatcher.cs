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

    public bool IsQueued(Guid runId, int step, int attempt, NodeName node)
    {
        var api = storage.GetMonitoringApi();
        bool Matches(Hangfire.Common.Job? job) =>
            job is { Args.Count: >= 3 } &&
            string.Equals(Convert.ToString(job.Args[0], CultureInfo.InvariantCulture), runId.ToString(), StringComparison.OrdinalIgnoreCase) &&
            Convert.ToInt32(job.Args[1], CultureInfo.InvariantCulture) == step &&
            Convert.ToInt32(job.Args[2], CultureInfo.InvariantCulture) == attempt;

        const int page = 1000;
        return api.EnqueuedJobs(node.QueueName, 0, page).Any(j => Matches(j.Value?.Job))
            || api.FetchedJobs(node.QueueName, 0, page).Any(j => Matches(j.Value?.Job))
            || api.ProcessingJobs(0, page).Any(j => Matches(j.Value?.Job))
            || api.ScheduledJobs(0, page).Any(j => Matches(j.Value?.Job));
    }
}
