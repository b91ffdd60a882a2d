using Marten;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Runs;

/// <summary>
/// Appends a run's new events together with the service stream's release when the run ends,
/// in one Marten session, so the service lock and the run's outcome commit together.
/// </summary>
static class RunJournal
{
    public static async Task AppendAsync(IDocumentSession session, WorkflowRun run, IReadOnlyList<object> events, DateTimeOffset now, CancellationToken ct)
    {
        var end = events.Select(e => e switch
        {
            RunCompleted => RunStatus.Completed,
            RunFailed => RunStatus.Failed,
            RunCancelled => RunStatus.Cancelled,
            _ => (RunStatus?)null,
        }).LastOrDefault(s => s is not null);
        if (end is { } status)
        {
            var service = await session.Events.FetchForWriting<ServiceActivity>(ServiceActivity.StreamId(run.Service), ct).ConfigureAwait(false);
            service.AppendOne(new ServiceRunEnded(run.Service, run.Id, status, now));
        }
    }

    public static IEnumerable<StepScheduled> Scheduled(IEnumerable<object> events) => events.OfType<StepScheduled>();
}
