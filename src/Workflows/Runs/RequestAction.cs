using Marten;
using MediatR;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Monitoring;

namespace OpenSvc.Workflows.Runs;

/// <summary>What an operator asks of a stored service, from the CLI or the API.</summary>
public sealed record ActionRequest(
    string Service, ServiceAction Action, NodeName Node, string RequestedBy,
    NodeName? To = null, ResourceId? SyncRid = null, SyncTargets SyncTargets = SyncTargets.All, bool Force = false, string? Reason = null);

/// <summary>
/// The answer: accepted with the run id (or, for a dry run, just the plan), or refused with the plain reason.
/// Refusals of a real request are recorded as runs too, so the audit trail shows them.
/// </summary>
public sealed record ActionResult(
    bool Accepted, string? Refusal, Plan? Plan, IReadOnlyList<SkippedResource> Skipped, Guid? RunId, Guid? RunInFlight, bool NotFound = false);

/// <summary>Plan an action against the cluster's facts and run it as a workflow.</summary>
public sealed record RequestAction(ActionRequest Request) : IRequest<ActionResult>;

/// <summary>The same planning against the cluster's facts, without running anything.</summary>
public sealed record PlanAction(ActionRequest Request) : IRequest<ActionResult>;

public sealed class RequestActionHandler(IDocumentStore store, RunStarter starter, TimeProvider time)
    : IRequestHandler<RequestAction, ActionResult>, IRequestHandler<PlanAction, ActionResult>
{
    public async Task<ActionResult> Handle(PlanAction request, CancellationToken cancellationToken) =>
        (await PlanAsync(request.Request, cancellationToken).ConfigureAwait(false)).Result;

    public async Task<ActionResult> Handle(RequestAction request, CancellationToken cancellationToken)
    {
        var r = request.Request;
        var (result, service) = await PlanAsync(r, cancellationToken).ConfigureAwait(false);
        if (result.NotFound)
            return result;
        if (!result.Accepted)
        {
            var id = Guid.CreateVersion7();
            await using var session = store.LightweightSession();
            session.Events.StartStream<WorkflowRun>(id, new RunRefused(id, r.Service, r.Action, r.Node, r.RequestedBy, r.Reason, result.Refusal!, time.GetUtcNow()));
            await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            return result with { RunId = id };
        }
        var submitted = await starter.StartAsync(
            new SubmitRun(result.Plan!, r.RequestedBy, r.Reason, r.Force, service!.ConfigText!, service.VersionLabel), cancellationToken).ConfigureAwait(false);
        return submitted.Accepted
            ? result with { RunId = submitted.RunId }
            : result with { Accepted = false, Refusal = submitted.Refusal, RunId = submitted.RunId, RunInFlight = submitted.RunInFlight };
    }

    async Task<(ActionResult Result, ServiceActivity? Service)> PlanAsync(ActionRequest r, CancellationToken ct)
    {
        ServiceActivity? service;
        IReadOnlyList<AgentHeartbeat> agents;
        IReadOnlyList<InstanceStatusReport> reports;
        await using (var query = store.QuerySession())
        {
            service = await query.LoadAsync<ServiceActivity>(ServiceActivity.StreamId(r.Service), ct).ConfigureAwait(false);
            agents = await query.Query<AgentHeartbeat>().ToListAsync(ct).ConfigureAwait(false);
            reports = await query.Query<InstanceStatusReport>().Where(x => x.Service == r.Service).ToListAsync(ct).ConfigureAwait(false);
            // A request right after a run (a takeover after a stop) must not be planned from reports probed before
            // that run's steps: wait, briefly, for the agents' reports that follow each step. Past the wait the
            // reports are what there is (an agent whose probes fail must not block a takeover).
            var last = service?.LastRun is { } lastRun ? await query.LoadAsync<WorkflowRun>(lastRun, ct).ConfigureAwait(false) : null;
            var until = time.GetUtcNow() + ReportWait;
            while (ClusterStates.Trailing(last, agents, reports, time.GetUtcNow()).Count > 0 && time.GetUtcNow() < until)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), time, ct).ConfigureAwait(false);
                reports = await query.Query<InstanceStatusReport>().Where(x => x.Service == r.Service).ToListAsync(ct).ConfigureAwait(false);
            }
        }
        if (service is not { Exists: true, ConfigText: not null })
            return (new ActionResult(false, $"service {r.Service} does not exist (opensvc svc create {r.Service} --config FILE)", null, [], null, null, NotFound: true), null);

        var doc = ConfigParser.Parse(service.ConfigText, r.Service + ".conf");
        var (view, problem) = ServiceViewBuilder.From(doc, r.Service);
        if (view is null)
            return (Refused(problem!), service);
        if (!view.IsPeer(r.Node))
            return (Refused($"node {r.Node} is in neither nodes ({string.Join(" ", view.Nodes)}) nor drpnodes ({string.Join(" ", view.DrpNodes)}) of {r.Service}"), service);
        var state = ClusterStates.From(view, agents, reports, time.GetUtcNow());
        var request = new PlanRequest(r.Action, r.Node, r.RequestedBy)
        {
            To = r.To, SyncRid = r.SyncRid, SyncTargets = r.SyncTargets, Force = r.Force, Reason = r.Reason,
        };
        switch (Planner.Plan(view, request, state))
        {
            case Refusal refusal:
                return (Refused(refusal.Reason), service);
            case AcceptedPlan accepted:
                var errors = ServiceViewBuilder.ErrorsFor(ConfigValidator.Validate(doc, r.Service), accepted.Plan.Steps.Select(x => x.Node).Append(r.Node));
                if (errors.Count > 0)
                    return (Refused($"the config ({service.VersionLabel}) has errors for the nodes this plan touches: " +
                        string.Join("; ", errors.Select(e => $"[{e.Section}] {e.Keyword}: {e.Reason}{(e.Fix is { } f ? $" (fix: {f})" : "")}"))) with { Plan = accepted.Plan }, service);
                return (new ActionResult(true, null, accepted.Plan, accepted.Skipped, null, null), service);
            default:
                throw new InvalidOperationException("unknown plan result");
        }
    }

    /// <summary>How long planning waits for reports that trail the service's last run (<see cref="ClusterStates.Trailing"/>).</summary>
    public static readonly TimeSpan ReportWait = TimeSpan.FromSeconds(5);

    static ActionResult Refused(string reason) => new(false, reason, null, [], null, null);
}
