using System.Text.Json.Serialization;
using Hangfire;
using Marten;
using MediatR;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Monitoring;

namespace OpenSvc.Workflows.Runs;

/// <summary>
/// The answer to an action request: <see cref="ActionAccepted"/> (with the run id, or none for a dry run),
/// <see cref="ActionRefused"/> (with the plain reason; a real request's refusal is recorded as a run too), or
/// <see cref="ServiceNotFound"/>. Callers (and HTTP statuses) go by the type, never by the message.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "result")]
[JsonDerivedType(typeof(ActionAccepted), "accepted")]
[JsonDerivedType(typeof(ActionRefused), "refused")]
[JsonDerivedType(typeof(ServiceNotFound), "not-found")]
public abstract record ActionResult
{
    /// <summary>The plan, when the planner made one (a refusal for config errors still shows what would have run).</summary>
    public Plan? Plan { get; init; }

    public IReadOnlyList<SkippedResource> Skipped { get; init; } = [];
}

public sealed record ActionAccepted(Guid? RunId) : ActionResult;

public sealed record ActionRefused(string Refusal, Guid? RunId = null, Guid? RunInFlight = null) : ActionResult;

public sealed record ServiceNotFound(string Message) : ActionResult;

/// <summary>Plan an action against the cluster's facts and run it as a workflow.</summary>
public sealed record RequestAction(ActionRequest Request) : IRequest<ActionResult>;

/// <summary>The same planning against the cluster's facts, without running anything.</summary>
public sealed record PlanAction(ActionRequest Request) : IRequest<ActionResult>;

public sealed class RequestActionHandler(IDocumentStore store, RunWriter writer, IDatabaseClock clock, LivenessOptions liveness, TimeProvider time,
    IBackgroundJobClient jobs)
    : IRequestHandler<RequestAction, ActionResult>, IRequestHandler<PlanAction, ActionResult>
{
    /// <summary>How long planning waits for reports that trail the service's last run (<see cref="ClusterStates.Trailing"/>).</summary>
    public static readonly TimeSpan ReportWait = TimeSpan.FromSeconds(5);

    public async Task<ActionResult> Handle(PlanAction request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await PlanAsync(request.Request, cancellationToken).ConfigureAwait(false)).Result;
    }

    public async Task<ActionResult> Handle(RequestAction request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (result, service, planned) = await PlanAsync(request.Request, cancellationToken).ConfigureAwait(false);
        switch (result)
        {
            case ActionRefused refused:
                var id = await writer.RefuseAsync(Guid.CreateVersion7(), planned, refused.Refusal, cancellationToken).ConfigureAwait(false);
                return refused with { RunId = id };
            case ActionAccepted:
                var submitted = await writer.StartAsync(
                    new SubmitRun(result.Plan!, planned.RequestedBy, planned.Reason, planned.Force, service!.ConfigText!, service.VersionLabel), cancellationToken)
                    .ConfigureAwait(false);
                // A kept drill is cleaned up on its own: a delayed job at the end of the keep period (the reconciler's pass
                // catches it too, should the job be lost).
                if (submitted.Accepted && result.Plan is { Action: ServiceAction.Drill, Keep: { } keep })
                    jobs.Schedule<DrillKeepJob>(EngineQueues.Orchestration, j => j.RunAsync(planned.Service, CancellationToken.None), keep + TimeSpan.FromSeconds(1));
                return submitted.Accepted
                    ? new ActionAccepted(submitted.RunId) { Plan = result.Plan, Skipped = result.Skipped }
                    : new ActionRefused(submitted.Refusal!, submitted.RunId, submitted.RunInFlight) { Plan = result.Plan, Skipped = result.Skipped };
            default:
                return result;
        }
    }

    /// <summary>The result, the stored service, and the request as planned (a scheduled sync's sender chosen).</summary>
    async Task<(ActionResult Result, ServiceActivity? Service, ActionRequest Planned)> PlanAsync(ActionRequest r, CancellationToken ct)
    {
        if (r.Problem() is { } problem)
            return (new ActionRefused(problem), null, r);
        ServiceActivity? service;
        AgentRoster roster;
        IReadOnlyList<InstanceStatusReport> reports;
        await using (var query = store.QuerySession())
        {
            service = await query.LoadAsync<ServiceActivity>(ServiceActivity.StreamId(r.Service), ct).ConfigureAwait(false);
            roster = await AgentRoster.ReadAsync(query, clock, liveness, ct).ConfigureAwait(false);
            reports = await query.Query<InstanceStatusReport>().Where(x => x.Service == r.Service).ToListAsync(ct).ConfigureAwait(false);
            // A request right after a run (a takeover after a stop) must not be planned from reports probed before
            // that run's steps: wait, briefly, for the agents' reports that follow each step. Past the wait the
            // reports are what there is (an agent whose probes fail must not block a takeover).
            var last = service?.LastRun is { } lastRun ? await query.LoadAsync<WorkflowRun>(lastRun, ct).ConfigureAwait(false) : null;
            var until = time.GetUtcNow() + ReportWait;
            while (ClusterStates.Trailing(last, roster, reports).Count > 0 && time.GetUtcNow() < until)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), time, ct).ConfigureAwait(false);
                reports = await query.Query<InstanceStatusReport>().Where(x => x.Service == r.Service).ToListAsync(ct).ConfigureAwait(false);
            }
        }
        if (service is not { Exists: true, ConfigText: not null })
            return (new ServiceNotFound($"service {r.Service} does not exist (opensvc svc create {r.Service} --config FILE)"), null, r);

        var doc = ConfigParser.Parse(service.ConfigText, r.Service + ".conf");
        var (view, invalid) = ServiceViewBuilder.From(doc, r.Service);
        if (view is null)
            return (new ActionRefused(invalid!), service, r);
        var state = ClusterStates.From(view, roster, reports) with { Reversal = service.Reversal };
        r = Planner.Complete(view, r, state);
        switch (Planner.Plan(view, r, state))
        {
            case Refusal refusal:
                var reason = refusal.Guard == PlanGuard.ConfigErrors ? $"{service.VersionLabel}: {refusal.Reason}" : refusal.Reason;
                return (new ActionRefused(reason) { Plan = refusal.Plan }, service, r);
            case AcceptedPlan accepted:
                return (new ActionAccepted(null) { Plan = accepted.Plan, Skipped = accepted.Skipped }, service, r with { Node = accepted.Plan.Node });
            default:
                throw new InvalidOperationException("unknown plan result");
        }
    }
}
