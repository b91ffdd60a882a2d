using JasperFx;
using JasperFx.Events;
using Marten;
using MediatR;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Workflows.Runs;

/// <summary>Ask a run to stop at the next step boundary: pending steps never start, a running step finishes.</summary>
public sealed record CancelRun(Guid RunId, string By, string? Reason) : IRequest<CancelResult>;

public sealed record CancelResult(bool Found, bool Accepted, string Message);

public sealed class CancelRunHandler(IDocumentStore store, IStepDispatcher dispatcher, IFaultInjector faults, TimeProvider time)
    : IRequestHandler<CancelRun, CancelResult>
{
    public async Task<CancelResult> Handle(CancelRun request, CancellationToken cancellationToken)
    {
        for (var tries = 1; ; tries++)
        {
            await using var session = store.LightweightSession();
            var stream = await session.Events.FetchForWriting<WorkflowRun>(request.RunId, cancellationToken).ConfigureAwait(false);
            if (stream.Aggregate is not { } run)
                return new CancelResult(false, false, $"no run {request.RunId}");
            if (run.IsFinished)
                return new CancelResult(true, false, $"run {run.Id} already ended: {run.Status.ToString().ToLowerInvariant()}");
            var now = time.GetUtcNow();
            var events = RunDecider.Cancel(run, request.By, request.Reason, now);
            if (events.Count == 0)
                return new CancelResult(true, true, $"run {run.Id}: cancellation already requested");
            stream.AppendMany(events);
            await RunJournal.AppendAsync(session, run, events, now, cancellationToken).ConfigureAwait(false);
            try
            {
                await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when ((ex is ConcurrencyException or EventStreamUnexpectedMaxEventIdException) && tries < 10)
            {
                continue;
            }
            StepDispatch.DispatchAll(dispatcher, faults, run.Service, run.Id, events, run.Steps.Select(s => s.Step).ToList());
            var done = events.Any(e => e is RunCancelled);
            return new CancelResult(true, true, done
                ? $"run {run.Id} cancelled"
                : $"run {run.Id}: cancellation requested; the running step finishes, no further step starts");
        }
    }
}
