using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Access;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;

namespace OpenSvc.Host.WebConsole.Pages;

public sealed class ServiceModel(IClusterClient cluster, TimeProvider time) : PageModel
{
    public ServiceActivity Activity { get; private set; } = null!;
    public ServiceStatusView? Status { get; private set; }
    public Readiness? Readiness { get; private set; }
    public IReadOnlyList<ServiceConfigured> History { get; private set; } = [];
    public IReadOnlyList<WorkflowRun> Runs { get; private set; } = [];
    public IReadOnlyList<SyncPoint> Syncs { get; private set; } = [];
    public IReadOnlyList<FreezeLine> Freezes { get; private set; } = [];
    public DateTimeOffset Now { get; private set; }

    /// <summary>What a thaw did, in the domain's words.</summary>
    public string? Notice { get; private set; }

    /// <summary>Why a thaw was not done.</summary>
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(string name, CancellationToken ct) =>
        await LoadAsync(name, ct).ConfigureAwait(false) ? Page() : NotFound();

    /// <summary>
    /// The thaw button: the same request as <c>opensvc svc thaw</c> / <c>opensvc node thaw</c> (the API's freeze
    /// endpoints), by the signed-in operator, then the page again with what the domain answered.
    /// </summary>
    public async Task<IActionResult> OnPostThawAsync(string name, FreezeScope scope, string? node, string? reason, CancellationToken ct)
    {
        if (await cluster.ServiceAsync(name, ct).ConfigureAwait(false) is null)
            return NotFound();
        var status = StatusCodes.Status200OK;
        if (!AccessPolicy.IsOperator(HttpContext))
        {
            status = StatusCodes.Status403Forbidden;
            Problem = $"{AccessPolicy.Who(HttpContext)} is a viewer: it may read, not act; sign in with an operator token";
        }
        else if (scope != FreezeScope.Service && !NodeName.TryParse(node, out _))
            Problem = $"node '{node}' is not a valid node name: nothing was thawed";
        else
        {
            var who = AccessPolicy.Who(HttpContext);
            var why = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
            var result = scope == FreezeScope.Node
                ? await cluster.FreezeNodeAsync(new FreezeNode(new NodeName(node!), false, who, why), ct).ConfigureAwait(false)
                : await cluster.FreezeAsync(new FreezeService(name, scope == FreezeScope.Instance ? new NodeName(node!) : null, false, who, why), ct).ConfigureAwait(false);
            if (result.Accepted)
                Notice = result.Message;
            else
                Problem = result.Message;
        }
        await LoadAsync(name, ct).ConfigureAwait(false);
        Response.StatusCode = status;
        return Page();
    }

    async Task<bool> LoadAsync(string name, CancellationToken ct)
    {
        Now = time.GetUtcNow();
        if (await cluster.ServiceAsync(name, ct).ConfigureAwait(false) is not { } activity)
            return false;
        Activity = activity;
        Status = await cluster.StatusAsync(name, ct).ConfigureAwait(false);
        Freezes = FreezeLine.Of(Status);
        Readiness = await cluster.ReadinessAsync(new GetReadiness(name, null), ct).ConfigureAwait(false);
        History = await cluster.ConfigHistoryAsync(name, ct).ConfigureAwait(false);
        Runs = await cluster.ListRunsAsync(new RunFilter(name, Limit: 15), ct).ConfigureAwait(false);
        Syncs = ConsoleText.SyncHistory(await cluster.ListRunsAsync(new RunFilter(name, Action: ServiceAction.Sync, Limit: 40), ct).ConfigureAwait(false));
        return true;
    }
}
