using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Reports;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.WebConsole.Pages;

/// <summary>The DR report (takeovers, switches, drills with who, when, RTO and RPO): printable, exported as CSV and JSON.</summary>
public sealed class ReportsModel(IClusterClient cluster, TimeProvider time) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Service { get; set; }
    [BindProperty(SupportsGet = true)] public string? Period { get; set; }

    public IReadOnlyList<string> Services { get; private set; } = [];
    public IReadOnlyList<RecoveryReportRow> Rows { get; private set; } = [];
    public DateTimeOffset Now { get; private set; }

    public string Query => $"service={Uri.EscapeDataString(Service ?? "")}&period={Uri.EscapeDataString(Period ?? "")}";

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = time.GetUtcNow();
        Services = (await cluster.ServicesAsync(ct).ConfigureAwait(false)).Select(s => s.Service).ToList();
        Rows = await cluster.RecoveryReportAsync(new GetRecoveryReport(string.IsNullOrWhiteSpace(Service) ? null : Service, Periods.Since(Period, Now), 1000), ct)
            .ConfigureAwait(false);
    }
}
