using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.WebConsole.Pages;

/// <summary>Runs, newest first, filtered by service, action, status and period (the API's and the CLI's filters).</summary>
public sealed class RunsModel(IClusterClient cluster, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Service { get; set; }
    [BindProperty(SupportsGet = true)] public string? Action { get; set; }
    [BindProperty(SupportsGet = true)] public string? State { get; set; }
    [BindProperty(SupportsGet = true)] public string? Period { get; set; }

    public IReadOnlyList<string> Services { get; private set; } = [];
    public IReadOnlyList<WorkflowRun> Runs { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        Services = (await cluster.ServicesAsync(ct).ConfigureAwait(false)).Select(s => s.Service).ToList();
        var action = ActionWords.ParseServiceAction(Action);
        RunStatus? status = Enum.TryParse<RunStatus>(State, true, out var st) ? st : null;
        Runs = await cluster.ListRunsAsync(new RunFilter(string.IsNullOrWhiteSpace(Service) ? null : Service, Periods.Since(Period, time.GetUtcNow()), action, status, 200), ct)
            .ConfigureAwait(false);
    }
}
