using System.Net;

namespace OpenSvc.Host.Access;

/// <summary>
/// What every request must satisfy before anyone looks at its identity, so that a browser cannot be made to act for
/// its user: the Host is a name of this agent (DNS rebinding), an Origin is this agent's own (cross-site requests),
/// API bodies are JSON (a cross-site "simple" POST cannot send that without a CORS preflight, which this agent never
/// grants), no token travels in a URL; and no response may be framed. Requests on the local socket skip the Host
/// check (no browser reaches it). The rules are pure functions, table-tested.
/// </summary>
public sealed class RequestGuard(IReadOnlyCollection<string> allowedHosts)
{
    /// <summary>Extra host names (comma-separated) clients may use for this agent: a DNS name, a reverse proxy's name.</summary>
    public const string Variable = "OPENSVC_ALLOWED_HOSTS";

    /// <summary>localhost, this machine's names, the node's name and OPENSVC_ALLOWED_HOSTS. IP literals are always allowed.</summary>
    public static RequestGuard For(string node)
    {
        // No DNS lookup here: an agent must start on a node whose resolver is down.
        var hosts = new List<string> { "localhost", node, Environment.MachineName, Dns.GetHostName() };
        hosts.AddRange((Environment.GetEnvironmentVariable(Variable) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return new RequestGuard(hosts);
    }

    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var headers = context.Response.Headers;
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = "frame-ancestors 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        var request = context.Request;
        var refusal = (LocalSocket.PeerUid(context) is null ? HostProblem(request.Host.Host, allowedHosts) : null) is { } host
            ? (400, "bad host", host)
            : OriginProblem(request.Headers.Origin.ToString(), request.Headers["Sec-Fetch-Site"].ToString(), request.Host.Value, request.Method) is { } origin
                ? (403, "cross-site request", origin)
                : request.Query.ContainsKey("access_token")
                    ? (400, "token in URL", "tokens are not accepted in URLs (they end up in logs and browser history): send Authorization: Bearer <token>, or sign in at /signin")
                    : BodyProblem(request.Path, request.Method, request.ContentType) is { } body
                        ? (415, "JSON only", body)
                        : ((int, string, string)?)null;
        if (refusal is var (status, title, detail))
        {
            await Results.Problem(title: title, detail: detail, statusCode: status).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        await next().ConfigureAwait(false);
    }

    /// <summary>Why a Host is not one of this agent's names, or null. IP literals are fine: DNS rebinding needs a name.</summary>
    public static string? HostProblem(string? host, IReadOnlyCollection<string> allowed)
    {
        if (string.IsNullOrEmpty(host))
            return "the request has no Host header";
        if (IPAddress.TryParse(host.Trim('[', ']'), out _))
            return null;
        if (allowed.Any(a => string.Equals(a, host, StringComparison.OrdinalIgnoreCase)))
            return null;
        return $"Host '{host}' is not a name of this agent (a page that renamed this address, DNS rebinding, is refused): " +
               $"use its IP address or one of {string.Join(", ", allowed.Distinct(StringComparer.OrdinalIgnoreCase))}, or add the name to {Variable} on the agent";
    }

    /// <summary>
    /// Why a request with this Origin (or Sec-Fetch-Site) comes from another site, or null. No Origin (a CLI, curl, a
    /// browser's top-level GET) is fine; an Origin must be this agent's own address as the request names it.
    /// </summary>
    public static string? OriginProblem(string? origin, string? fetchSite, string? host, string method)
    {
        if (!string.IsNullOrEmpty(origin))
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var o) || o.Scheme is not ("http" or "https"))
                return $"Origin '{origin}' is not this agent: cross-site requests are refused";
            if (!string.Equals(o.Authority, host, StringComparison.OrdinalIgnoreCase))
                return $"Origin {o.Scheme}://{o.Authority} is not this agent ({host}): cross-site requests are refused";
        }
        if (fetchSite == "cross-site" && !HttpMethods.IsGet(method) && !HttpMethods.IsHead(method))
            return "a cross-site request (Sec-Fetch-Site: cross-site) may not change anything here";
        return null;
    }

    /// <summary>Why an API request's body is not acceptable, or null: POST, PUT and PATCH on /api take JSON only.</summary>
    public static string? BodyProblem(PathString path, string method, string? contentType)
    {
        if (!path.StartsWithSegments("/api") || !(HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method)))
            return null;
        if (contentType is not null && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
            && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase)))
            return null;
        return $"the API takes JSON bodies only (Content-Type: application/json), not {(string.IsNullOrEmpty(contentType) ? "a body without a type" : contentType)}: " +
               "a service's config goes in {\"config\": \"<INI text>\"}";
    }
}
