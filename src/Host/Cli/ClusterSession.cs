using Microsoft.Extensions.DependencyInjection;
using OpenSvc.Domain;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.Cli;

/// <summary>A short-lived connection to the cluster for one CLI command: the client interface and nothing else.</summary>
public sealed class ClusterSession : IAsyncDisposable
{
    readonly ServiceProvider _services;

    ClusterSession(ServiceProvider services) => _services = services;

    public IClusterClient Client => _services.GetRequiredService<IClusterClient>();

    public IServiceProvider Services => _services;

    public static async Task<ClusterSession> OpenAsync(string? connectionOption, CancellationToken ct)
    {
        var connection = Database.ForClient(connectionOption);
        await Database.CheckReachableAsync(connection, ct).ConfigureAwait(false);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddOpenSvcEngine(new EngineOptions(connection, new NodeName(LocalNodeName())) { RunAgent = false });
        return new ClusterSession(services.BuildServiceProvider());
    }

    public static string LocalNodeName()
    {
        var host = Environment.GetEnvironmentVariable("OPENSVC_NODENAME") is { Length: > 0 } n ? n : Environment.MachineName;
        return host.Split('.')[0].ToLowerInvariant();
    }

    public async ValueTask DisposeAsync() => await _services.DisposeAsync().ConfigureAwait(false);
}
