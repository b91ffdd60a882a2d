using Marten;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Monitoring;

namespace OpenSvc.Infrastructure.Engine;

/// <summary>
/// Notices a stored config version this agent has not probed yet (a service created, updated or deleted on
/// any agent) and asks for that service's status at once, instead of at the next periodic refresh.
/// </summary>
public sealed class ConfigWatchService(IDocumentStore store, IStatusSignal status, TimeProvider time, ILogger<ConfigWatchService> log) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seen = new Dictionary<string, (int Version, bool Deleted)>();
        using var timer = new PeriodicTimer(Every, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await using var query = store.QuerySession();
                var services = await query.Query<ServiceActivity>().Where(s => s.ConfigVersion > 0).ToListAsync(stoppingToken).ConfigureAwait(false);
                foreach (var s in services)
                {
                    var now = (s.ConfigVersion, s.Deleted);
                    if (seen.TryGetValue(s.Service, out var before) && before == now)
                        continue;
                    seen[s.Service] = now;
                    status.Request(s.Service);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogDebug("config watch pass failed: {Error}", ex.Message);
            }
        }
    }
}
