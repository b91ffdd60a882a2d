using System.CommandLine;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.Cli;

/// <summary>The CLI's connection to the cluster for one command: an agent's REST API, local unless --server says otherwise.</summary>
public sealed class ClusterSession : IAsyncDisposable
{
    readonly ApiClusterClient _client;

    ClusterSession(ApiClusterClient client) => _client = client;

    public IClusterClient Client => _client;

    public static Task<ClusterSession> OpenAsync(ParseResult p, ServerOptions server, CancellationToken ct)
    {
        _ = ct;
        var url = p.GetValue(server.Server) ?? ApiClusterClient.DefaultServer;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "unix"))
            throw new UserError($"--server '{url}' is neither an http(s) URL nor unix:/path/to/agent.sock");
        var token = p.GetValue(server.Token) ?? (Environment.GetEnvironmentVariable("OPENSVC_TOKEN") is { Length: > 0 } t ? t : null);
        return Task.FromResult(new ClusterSession(new ApiClusterClient(url, token)));
    }

    public static string LocalNodeName()
    {
        var host = Environment.GetEnvironmentVariable("OPENSVC_NODENAME") is { Length: > 0 } n ? n : Environment.MachineName;
        return host.Split('.')[0].ToLowerInvariant();
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>`--server URL --token T`, shared by every cluster command (recursive options on the root).</summary>
public sealed class ServerOptions
{
    public Option<string?> Server { get; } = new("--server")
    {
        Description = "agent API to talk to: http(s)://HOST:PORT (with a token) or unix:/path (default: OPENSVC_SERVER, else this machine's agent socket, unix:/run/opensvc/agent.sock)",
        Recursive = true,
    };

    public Option<string?> Token { get; } = new("--token") { Description = "bearer token for an agent reached over http(s) (default: OPENSVC_TOKEN)", Recursive = true };
}
