using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Reports;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.WebConsole.Pages;

/// <summary>One service on the services page: its status, protection, readiness, last drill and a run in flight.</summary>
public sealed record ServiceRow(ServiceActivity Activity, ServiceStatusView? Status, Readiness? Readiness, RecoveryReportRow? LastDrill, RecoveryReportRow? LastRecovery);

public sealed class IndexModel(IClusterClient cluster, TimeProvider time) : PageModel
{
    public IReadOnlyList<ServiceRow> Rows { get; private set; } = [];

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Now = time.GetUtcNow();
        var rows = new List<ServiceRow>();
        foreach (var s in await cluster.ServicesAsync(ct).ConfigureAwait(false))
        {
            var status = await cluster.StatusAsync(s.Service, ct).ConfigureAwait(false);
            var readiness = await cluster.ReadinessAsync(new GetReadiness(s.Service, null), ct).ConfigureAwait(false);
            var recoveries = await cluster.RecoveryReportAsync(new GetRecoveryReport(s.Service, null, 50), ct).ConfigureAwait(false);
            rows.Add(new ServiceRow(s, status, readiness, recoveries.Where(r => r.Kind == "drill").MaxBy(r => r.RequestedAt), recoveries.MaxBy(r => r.RequestedAt)));
        }
        Rows = rows;
    }
}
