using OpenSvc.Domain.Planning;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Access;
using OpenSvc.Host.Api;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;

namespace OpenSvc.Host.Cli;

/// <summary>
/// The CLI's cluster client: every call is a request to an agent's REST API, so the CLI takes the same authorization
/// path as any other client: this machine's agent on its local socket (<c>unix:/path</c>, the default), or any agent
/// over http(s) with a token. Who the request acts for is what the agent proves, never what this client says.
/// API problems become one-line errors.
/// </summary>
public sealed class ApiClusterClient : IClusterClient, IDisposable
{
    readonly HttpClient _http;
    readonly string _server;
    readonly string? _socket;

    /// <param name="server">http(s)://host:port, or unix:/path/to/agent.sock.</param>
    public ApiClusterClient(string server, string? token)
    {
        _server = server.TrimEnd('/');
        if (_server.StartsWith("unix:", StringComparison.Ordinal))
        {
            _socket = new Uri(_server).AbsolutePath;
            _http = new HttpClient(LocalSocket.ClientHandler(_socket)) { BaseAddress = new Uri("http://localhost/") };
        }
        else
            _http = new HttpClient { BaseAddress = new Uri(_server + "/") };
        _http.Timeout = TimeSpan.FromSeconds(60);
        if (token is not null)
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <summary>OPENSVC_SERVER, else this machine's agent on its local socket.</summary>
    public static string DefaultServer => Environment.GetEnvironmentVariable("OPENSVC_SERVER") is { Length: > 0 } s ? s : "unix:" + LocalSocket.DefaultPath;

    public void Dispose() => _http.Dispose();

    static string E(string segment) => Uri.EscapeDataString(segment);

    public async Task<ConfigureResult> ConfigureAsync(ConfigureService request, CancellationToken cancellationToken)
    {
        var body = new ConfigBody(request.ConfigText);
        var path = $"api/services/{E(request.Service)}";
        using var response = await SendAsync(() => request.MustNotExist
            ? _http.PostAsJsonAsync(path, body, ApiJson.Options, cancellationToken)
            : _http.PutAsJsonAsync(path, body, ApiJson.Options, cancellationToken)).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return (await response.Content.ReadFromJsonAsync<ConfigureResult>(ApiJson.Options, cancellationToken).ConfigureAwait(false))!;
        var problem = await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
        var lines = problem.Problems.Count > 0 ? "\n" + string.Join("\n", problem.Problems) : "";
        throw new UserError(problem.Detail + lines, response.StatusCode == HttpStatusCode.BadRequest ? ExitCodes.BadInput : ExitCodes.Refused);
    }

    public async Task<DeleteResult> DeleteServiceAsync(DeleteService request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.DeleteAsync($"api/services/{E(request.Service)}", cancellationToken)).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return new DeleteResult(DeleteOutcome.Deleted, $"service {request.Service} deleted");
        var problem = await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
        return new DeleteResult(response.StatusCode == HttpStatusCode.NotFound ? DeleteOutcome.NotFound : DeleteOutcome.Busy, problem.Detail);
    }

    public Task<IReadOnlyList<ServiceActivity>> ServicesAsync(CancellationToken cancellationToken) =>
        GetAsync<IReadOnlyList<ServiceActivity>>("api/services", cancellationToken)!;

    public Task<ServiceActivity?> ServiceAsync(string service, CancellationToken cancellationToken) =>
        GetOrNullAsync<ServiceActivity>($"api/services/{E(service)}", cancellationToken);

    public async Task<IReadOnlyList<ServiceConfigured>> ConfigHistoryAsync(string service, CancellationToken cancellationToken) =>
        await GetOrNullAsync<IReadOnlyList<ServiceConfigured>>($"api/services/{E(service)}/history", cancellationToken).ConfigureAwait(false) ?? [];

    public Task<ServiceStatusView?> StatusAsync(string service, CancellationToken cancellationToken) =>
        GetOrNullAsync<ServiceStatusView>($"api/services/{E(service)}/status", cancellationToken);

    public Task<Readiness?> ReadinessAsync(GetReadiness request, CancellationToken cancellationToken) =>
        GetOrNullAsync<Readiness>($"api/services/{E(request.Service)}/readiness" + (request.Node is { } n ? $"?node={E(n.Value)}" : ""), cancellationToken);

    public Task<ActionResult> PlanAsync(ActionRequest request, CancellationToken cancellationToken) => ActionAsync("plan", request, cancellationToken);

    public Task<ActionResult> RequestActionAsync(ActionRequest request, CancellationToken cancellationToken) => ActionAsync("actions", request, cancellationToken);

    async Task<ActionResult> ActionAsync(string kind, ActionRequest r, CancellationToken ct)
    {
        var body = new ActionBody(r.Node.Value, r.To?.Value, r.SyncRid?.ToString(),
            r.SyncTargets switch { SyncTargets.Nodes => "nodes", SyncTargets.DrpNodes => "drpnodes", _ => "all" },
            r.Force, r.Reason, r.Keep is { } keep ? $"{(long)keep.TotalSeconds}s" : null);
        var path = $"api/services/{E(r.Service)}/{kind}/{E(ActionWords.Of(r.Action))}";
        using var response = await SendAsync(() => _http.PostAsJsonAsync(path, body, ApiJson.Options, ct)).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return (await response.Content.ReadFromJsonAsync<ActionResult>(ApiJson.Options, ct).ConfigureAwait(false))!;
        var problem = await ProblemAsync(response, ct).ConfigureAwait(false);
        return response.StatusCode switch
        {
            HttpStatusCode.Conflict => new ActionRefused(problem.Detail, problem.RunId, problem.RunInFlight),
            HttpStatusCode.NotFound => new ServiceNotFound(problem.Detail),
            _ => throw new UserError(problem.Detail, response.StatusCode == HttpStatusCode.BadRequest ? ExitCodes.BadInput : ExitCodes.Failed),
        };
    }

    public async Task<IReadOnlyList<WorkflowRun>> ListRunsAsync(RunFilter filter, CancellationToken cancellationToken)
    {
        var q = new List<string> { $"limit={filter.Limit}" };
        if (filter.Service is { } s) q.Add($"service={E(s)}");
        if (filter.Since is { } since) q.Add($"since={E(since.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture))}");
        if (filter.Action is { } a) q.Add($"action={E(ActionWords.Of(a))}");
        if (filter.Status is { } st) q.Add($"status={E(st.ToString().ToLowerInvariant())}");
        return (await GetAsync<IReadOnlyList<WorkflowRun>>("api/runs?" + string.Join('&', q), cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<(WorkflowRun? Run, string? Problem)> FindRunAsync(string idOrPrefix, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.GetAsync($"api/runs/{E(idOrPrefix)}", cancellationToken)).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return (await response.Content.ReadFromJsonAsync<WorkflowRun>(ApiJson.Options, cancellationToken).ConfigureAwait(false), null);
        return (null, (await ProblemAsync(response, cancellationToken).ConfigureAwait(false)).Detail);
    }

    public async Task<IReadOnlyList<RecoveryReportRow>> RecoveryReportAsync(Workflows.Reports.GetRecoveryReport request, CancellationToken cancellationToken)
    {
        var q = new List<string> { $"limit={request.Limit}" };
        if (request.Service is { } s) q.Add($"service={E(s)}");
        if (request.Since is { } since) q.Add($"since={E(since.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture))}");
        return (await GetAsync<IReadOnlyList<RecoveryReportRow>>("api/reports/recoveries?" + string.Join('&', q), cancellationToken).ConfigureAwait(false))!;
    }

    public async Task<CancelResult> CancelAsync(CancelRun request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => _http.PostAsJsonAsync($"api/runs/{request.RunId}/cancel", new CancelBody(request.Reason), ApiJson.Options, cancellationToken)).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return (await response.Content.ReadFromJsonAsync<CancelResult>(ApiJson.Options, cancellationToken).ConfigureAwait(false))!;
        var problem = await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
        return new CancelResult(response.StatusCode != HttpStatusCode.NotFound, false, problem.Detail);
    }

    public async Task<IReadOnlyList<AgentStatus>> AgentsAsync(CancellationToken cancellationToken) =>
        (await GetAsync<IReadOnlyList<AgentStatus>>("api/nodes", cancellationToken).ConfigureAwait(false))!;

    public Task<FreezeResult> FreezeAsync(FreezeService request, CancellationToken cancellationToken) =>
        PostFreezeAsync($"api/services/{E(request.Service)}/{(request.Freeze ? "freeze" : "thaw")}", new FreezeBody(request.Node?.Value, request.Reason), cancellationToken);

    public Task<FreezeResult> FreezeNodeAsync(FreezeNode request, CancellationToken cancellationToken) =>
        PostFreezeAsync($"api/nodes/{E(request.Node.Value)}/{(request.Freeze ? "freeze" : "thaw")}", new FreezeBody(null, request.Reason), cancellationToken);

    async Task<FreezeResult> PostFreezeAsync(string path, FreezeBody body, CancellationToken ct)
    {
        using var response = await SendAsync(() => _http.PostAsJsonAsync(path, body, ApiJson.Options, ct)).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
            return (await response.Content.ReadFromJsonAsync<FreezeResult>(ApiJson.Options, ct).ConfigureAwait(false))!;
        var problem = await ProblemAsync(response, ct).ConfigureAwait(false);
        return new FreezeResult(response.StatusCode switch
        {
            HttpStatusCode.NotFound => FreezeOutcome.NotFound,
            _ => FreezeOutcome.NotAPeer,
        }, problem.Detail);
    }

    async Task<T?> GetAsync<T>(string path, CancellationToken ct)
    {
        using var response = await SendAsync(() => _http.GetAsync(path, ct)).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new UserError((await ProblemAsync(response, ct).ConfigureAwait(false)).Detail, ExitCodes.Failed);
        return await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, ct).ConfigureAwait(false);
    }

    async Task<T?> GetOrNullAsync<T>(string path, CancellationToken ct) where T : class
    {
        using var response = await SendAsync(() => _http.GetAsync(path, ct)).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
            return null;
        if (!response.IsSuccessStatusCode)
            throw new UserError((await ProblemAsync(response, ct).ConfigureAwait(false)).Detail, ExitCodes.Failed);
        return await response.Content.ReadFromJsonAsync<T>(ApiJson.Options, ct).ConfigureAwait(false);
    }

    async Task<HttpResponseMessage> SendAsync(Func<Task<HttpResponseMessage>> send)
    {
        HttpResponseMessage response;
        try
        {
            response = await send().ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (ex.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AccessDenied })
        {
            throw new UserError($"cannot reach the agent at {_server}: permission denied: its local socket is for root only; " +
                                "run the command as root, or talk to the agent over http with a token (--server http://HOST:7480 --token T)", ExitCodes.Refused);
        }
        catch (HttpRequestException ex)
        {
            var why = _socket is not null && !File.Exists(_socket) ? "no such socket (no agent runs here?)" : ex.InnerException?.Message ?? ex.Message;
            throw new UserError($"cannot reach the agent at {_server}: {why}. Start it (opensvc agent) or point --server at one.", ExitCodes.Failed);
        }
        catch (TaskCanceledException)
        {
            throw new UserError($"the agent at {_server} did not answer in time", ExitCodes.Failed);
        }
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            var problem = await ProblemAsync(response, CancellationToken.None).ConfigureAwait(false);
            response.Dispose();
            throw new UserError(problem.Detail, ExitCodes.Refused);
        }
        return response;
    }

    sealed record ProblemInfo(string Detail, IReadOnlyList<string> Problems, Guid? RunId, Guid? RunInFlight);

    static async Task<ProblemInfo> ProblemAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            string? Str(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            Guid? Id(string name) => Guid.TryParse(Str(name), out var g) ? g : null;
            var problems = root.TryGetProperty("problems", out var p) && p.ValueKind == JsonValueKind.Array
                ? p.EnumerateArray().Select(x => x.GetString() ?? "").ToList()
                : [];
            return new ProblemInfo(Str("detail") ?? Str("title") ?? $"HTTP {(int)response.StatusCode}", problems, Id("runId"), Id("runInFlight"));
        }
        catch (JsonException)
        {
            return new ProblemInfo($"HTTP {(int)response.StatusCode}: {text[..Math.Min(200, text.Length)]}", [], null, null);
        }
    }
}
