using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.WebConsole.Pages;

public sealed class ServiceModel(IClusterClient cluster, TimeProvider time) : PageModel
{
    public ServiceActivity Activity { get; private set; } = null!;
    public ServiceStatusView? Status { get; private set; }
    public Readiness? Readiness { get; private set; }
    public IReadOnlyList<ServiceConfigured> History { get; private set; } = [];
    public IReadOnlyList<WorkflowRun> Runs { get; private set; } = [];
    public IReadOnlyList<SyncPoint> Syncs { get; private set; } = [];
    public DateTimeOffset Now { get; private set; }

    public async Task<IActionResult> OnGetAsync(string name, CancellationToken ct)
    {
        Now = time.GetUtcNow();
        if (await cluster.ServiceAsync(name, ct).ConfigureAwait(false) is not { } activity)
            return NotFound();
        Activity = activity;
        Status = await cluster.StatusAsync(name, ct).ConfigureAwait(false);
        Readiness = await cluster.ReadinessAsync(new GetReadiness(name, null), ct).ConfigureAwait(false);
        History = await cluster.ConfigHistoryAsync(name, ct).ConfigureAwait(false);
        Runs = await cluster.ListRunsAsync(new RunFilter(name, Limit: 15), ct).ConfigureAwait(false);
        Syncs = ConsoleText.SyncHistory(await cluster.ListRunsAsync(new RunFilter(name, Action: ServiceAction.Sync, Limit: 40), ct).ConfigureAwait(false));
        return Page();
    }
}
