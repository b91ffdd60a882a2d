using JasperFx;
using System.Security.Cryptography;
using System.Text;
using JasperFx.Events;
using Marten;
using MediatR;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Workflows.Runs;

/// <summary>Start a workflow run for an accepted plan. Refused while another mutating run holds the service.</summary>
public sealed record SubmitRun(Plan Plan, string RequestedBy, string? Reason, bool Force, string ConfigText, string? ConfigVersion = null) : IRequest<SubmitResult>;

public sealed record SubmitResult(Guid RunId, bool Accepted, string? Refusal, Guid? RunInFlight);

public sealed class SubmitRunHandler(RunStarter starter) : IRequestHandler<SubmitRun, SubmitResult>
{
    public Task<SubmitResult> Handle(SubmitRun request, CancellationToken cancellationToken) => starter.StartAsync(request, cancellationToken);
}

/// <summary>
/// Opens a run: takes the service's lock (its stream version), appends the request with the whole plan
/// and the first scheduled steps, then enqueues them. Shared by every use case that starts a run.
/// </summary>
public sealed class RunStarter(
    IDocumentStore store, IStepDispatcher dispatcher, IFaultInjector faults, TimeProvider time, ILogger<RunStarter> log)
{
    public async Task<SubmitResult> StartAsync(SubmitRun request, CancellationToken cancellationToken)
    {
        var plan = request.Plan;
        if (plan.ShapeProblem() is { } shape)
            throw new ArgumentException($"plan for {plan.Service} cannot run: {shape}", nameof(request));
        var runId = Guid.CreateVersion7();
        var now = time.GetUtcNow();
        IReadOnlyList<object> events;
        await using (var session = store.LightweightSession())
        {
            var service = await session.Events.FetchForWriting<ServiceActivity>(ServiceActivity.StreamId(plan.Service), cancellationToken).ConfigureAwait(false);
            if (service.Aggregate?.ActiveRun is { } inFlight)
                return await RefuseAsync(request, runId, inFlight, now, cancellationToken).ConfigureAwait(false);

            var requested = new RunRequested(runId, plan.Service, plan.Action, plan.Node, plan.To, request.RequestedBy, request.Reason,
                request.Force, now, request.ConfigVersion ?? ConfigVersion(request.ConfigText), request.ConfigText, plan);
            events = RunDecider.Begin(requested);
            session.Events.StartStream<WorkflowRun>(runId, events);
            service.AppendOne(new ServiceRunStarted(plan.Service, runId, plan.Action, now));
            await RunJournal.AppendAsync(session, WorkflowRun.From(requested), events, now, cancellationToken).ConfigureAwait(false);
            try
            {
                await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ConcurrencyException or EventStreamUnexpectedMaxEventIdException)
            {
                // Another request took the service between our read and our write.
                await using var query = store.QuerySession();
                var current = await query.LoadAsync<ServiceActivity>(ServiceActivity.StreamId(plan.Service), cancellationToken).ConfigureAwait(false);
                return await RefuseAsync(request, runId, current?.ActiveRun ?? Guid.Empty, now, cancellationToken).ConfigureAwait(false);
            }
        }
        log.LogInformation("run {RunId}: {Service} {Action} on {Node} requested by {RequestedBy}, {Steps} steps",
            runId, plan.Service, RunDecider.ActionName(plan.Action), plan.Node, request.RequestedBy, plan.Steps.Count);
        StepDispatch.DispatchAll(dispatcher, faults, plan.Service, runId, events, plan.Steps);
        return new SubmitResult(runId, true, null, null);
    }

    async Task<SubmitResult> RefuseAsync(SubmitRun request, Guid runId, Guid inFlight, DateTimeOffset now, CancellationToken ct)
    {
        var plan = request.Plan;
        var refusal = $"service {plan.Service} is busy: run {inFlight} is in flight; wait for it or cancel it (opensvc run cancel {inFlight})";
        await using var session = store.LightweightSession();
        session.Events.StartStream<WorkflowRun>(runId,
            new RunRefused(runId, plan.Service, plan.Action, plan.Node, request.RequestedBy, request.Reason, refusal, now));
        await session.SaveChangesAsync(ct).ConfigureAwait(false);
        log.LogWarning("run {RunId}: refused: {Refusal}", runId, refusal);
        return new SubmitResult(runId, false, refusal, inFlight);
    }

    public static string ConfigVersion(string configText) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(configText))).ToLowerInvariant()[..12];
}
