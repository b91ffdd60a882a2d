using System.Threading.Channels;
using MediatR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenSvc.Workflows.Monitoring;

namespace OpenSvc.Infrastructure.Engine;

/// <summary>
/// Keeps this node's instance status current: every <see cref="EngineOptions.StatusEvery"/> for all services,
/// and right after any step of a service ran here.
/// </summary>
public sealed class StatusRefreshService(IMediator mediator, EngineOptions options, TimeProvider time, ILogger<StatusRefreshService> log)
    : BackgroundService, IStatusSignal
{
    const int MaxBatch = 64;
    readonly Channel<string> _requests = Channel.CreateBounded<string>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest });

    public void Request(string service) => _requests.Writer.TryWrite(service);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var next = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            string? one = null;
            var wait = next - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(wait);
                try
                {
                    one = await _requests.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
            }
            // Steps that ended while the previous refresh ran are refreshed together: one read and one write for
            // all of their services rather than a transaction per step.
            HashSet<string>? some = null;
            if (one is not null)
            {
                some = [one];
                while (some.Count < MaxBatch && _requests.Reader.TryRead(out var more))
                    some.Add(more);
            }
            try
            {
                await mediator.Send(new RefreshStatus(some), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning("status refresh failed: {Error}", ex.Message);
            }
            if (one is null)
                next = time.GetUtcNow() + options.StatusEvery;
        }
    }
}
