using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Host.Access;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.WebConsole.Pages;

/// <summary>
/// A guided action: the readiness checks and the dry run's plan in plain words, then a confirmation that cannot be given
/// by accident (the service's name typed, a reason for takeovers and forced requests), then the request itself, the same
/// one the API makes. The domain plans, refuses and runs; this page only shows what it says.
/// </summary>
public sealed class ActModel(IClusterClient cluster, TimeProvider time) : PageModel
{
    public string Service { get; private set; } = "";
    public GuidedAction Guide { get; private set; } = null!;
    public ServiceStatusView? Status { get; private set; }
    public Readiness? Readiness { get; private set; }
    public OpenSvc.Workflows.Runs.ActionResult? DryRun { get; private set; }
    public string? DryRunProblem { get; private set; }
    public string Node { get; private set; } = "";
    public string? To { get; private set; }
    public DateTimeOffset Now { get; private set; }

    /// <summary>Why the confirmation was not accepted, or the domain's refusal of the request.</summary>
    public string? Problem { get; private set; }
    public Guid? RefusedRun { get; private set; }

    [BindProperty] public string? Confirm { get; set; }
    [BindProperty] public string? Reason { get; set; }
    [BindProperty] public bool Force { get; set; }

    /// <summary>A drill's --keep: how long after its request the drill is cleaned up on its own (optional, drills only).</summary>
    [BindProperty] public string? Keep { get; set; }

    public IEnumerable<InstanceView> Peers => Status?.Instances ?? [];

    public bool ReasonRequired => Guide.NeedsReason || Force;

    public async Task<IActionResult> OnGetAsync(string name, string action, string? node, CancellationToken ct) =>
        await LoadAsync(name, action, node, ct).ConfigureAwait(false) ?? Page();

    public async Task<IActionResult> OnPostAsync(string name, string action, string? node, CancellationToken ct)
    {
        if (await LoadAsync(name, action, node, ct).ConfigureAwait(false) is { } early)
            return early;
        if (!AccessPolicy.IsOperator(HttpContext))
            return Refuse(StatusCodes.Status403Forbidden, $"{AccessPolicy.Who(HttpContext)} is a viewer: it may read, not act; sign in with an operator token");
        if (!string.Equals(Confirm?.Trim(), Service, StringComparison.Ordinal))
            return Refuse(StatusCodes.Status400BadRequest, $"type the service's name, {Service}, to confirm: nothing was requested");
        if (ReasonRequired && string.IsNullOrWhiteSpace(Reason))
            return Refuse(StatusCodes.Status400BadRequest,
                (Force ? "a forced request" : $"a {Guide.Word}") + " needs a reason, recorded in the run for the audit: nothing was requested");
        var (request, problem) = Ask(Force, Reason);
        if (request is null)
            return Refuse(StatusCodes.Status400BadRequest, problem!);
        switch (await cluster.RequestActionAsync(request, ct).ConfigureAwait(false))
        {
            case ActionAccepted { RunId: { } run }:
                return Redirect($"/runs/{run}");
            case ActionRefused refused:
                RefusedRun = refused.RunId ?? refused.RunInFlight;
                return Refuse(StatusCodes.Status409Conflict, refused.Refusal);
            case ServiceNotFound missing:
                return Refuse(StatusCodes.Status404NotFound, missing.Message);
            default:
                return Refuse(StatusCodes.Status500InternalServerError, "the request was neither accepted nor refused");
        }
    }

    /// <summary>
    /// The page again with why nothing was done. A refusal or a form to correct is a page the browser shows (200); only a
    /// viewer's attempt and a missing service keep their error status.
    /// </summary>
    IActionResult Refuse(int status, string problem)
    {
        Problem = problem;
        Response.StatusCode = status is StatusCodes.Status403Forbidden or StatusCodes.Status404NotFound ? status : StatusCodes.Status200OK;
        return Page();
    }

    (ActionRequest? Request, string? Problem) Ask(bool force, string? reason) =>
        ActionRequest.Parse(Service, Guide.Word, Node, AccessPolicy.Who(HttpContext), to: To, force: force, reason: reason,
            keep: Guide.Action == ServiceAction.Drill && !string.IsNullOrWhiteSpace(Keep) ? Keep.Trim() : null);

    /// <summary>The service, its status, the node the action is about, readiness there and the dry run; a result when the page cannot be shown.</summary>
    async Task<IActionResult?> LoadAsync(string name, string action, string? node, CancellationToken ct)
    {
        Now = time.GetUtcNow();
        if (GuidedAction.Find(action) is not { } guide)
            return NotFound();
        if (await cluster.ServiceAsync(name, ct).ConfigureAwait(false) is null)
            return NotFound();
        Service = name;
        Guide = guide;
        Status = await cluster.StatusAsync(name, ct).ConfigureAwait(false);
        var peers = Status?.Instances ?? [];
        var running = peers.FirstOrDefault(i => i.Report?.Avail is Domain.Status.Up or Domain.Status.Warn)?.Node;
        var chosen = peers.Any(p => p.Node == node) ? node : null;
        switch (guide.Action)
        {
            case ServiceAction.Switch:
                To = chosen ?? peers.FirstOrDefault(p => p.Node != running)?.Node;
                Node = running ?? peers.FirstOrDefault()?.Node ?? "";
                break;
            case ServiceAction.Sync:
                Node = chosen ?? running ?? peers.FirstOrDefault()?.Node ?? "";
                break;
            case ServiceAction.Giveback:
                // Giveback runs from the node the protection was reversed from (where the service runs after a takeover).
                Node = chosen ?? Status?.Reversal?.From.Value ?? running ?? peers.FirstOrDefault(p => p.Role == "drpnode")?.Node ?? peers.FirstOrDefault()?.Node ?? "";
                break;
            default:
                var readiness = guide.Dr ? await cluster.ReadinessAsync(new GetReadiness(name, null), ct).ConfigureAwait(false) : null;
                Node = chosen ?? (guide.Dr ? readiness?.Node : running) ?? peers.FirstOrDefault(p => p.Role == "drpnode")?.Node ?? peers.FirstOrDefault()?.Node ?? "";
                break;
        }
        var checkAt = guide.Action == ServiceAction.Switch ? To : guide.Dr ? Node : null;
        if (checkAt is not null && NodeName.TryParse(checkAt, out var at))
            Readiness = await cluster.ReadinessAsync(new GetReadiness(name, at), ct).ConfigureAwait(false);
        var (dry, problem) = Ask(false, null);
        if (dry is null)
            DryRunProblem = problem;
        else
            DryRun = await cluster.PlanAsync(dry, ct).ConfigureAwait(false);
        return null;
    }
}
