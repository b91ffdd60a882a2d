using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;

namespace OpenSvc.Host.Api;

public enum AccessLevel { None, Viewer, Operator }

/// <summary>
/// Who may do what: requests from this machine (loopback) are operators, as Hangfire's dashboard assumes;
/// any other request needs a bearer token configured on the agent: OPENSVC_TOKEN (operator) or
/// OPENSVC_VIEWER_TOKEN (read-only). One rule for the API and the dashboard.
/// </summary>
public sealed class AccessPolicy(string? operatorToken, string? viewerToken)
{
    public const string CookieName = "opensvc_token";

    public static AccessPolicy FromEnvironment() => new(
        Environment.GetEnvironmentVariable("OPENSVC_TOKEN") is { Length: > 0 } t ? t : null,
        Environment.GetEnvironmentVariable("OPENSVC_VIEWER_TOKEN") is { Length: > 0 } v ? v : null);

    public AccessLevel Of(HttpContext context)
    {
        if (context.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip))
            return AccessLevel.Operator;
        var presented = Presented(context);
        if (presented is null)
            return AccessLevel.None;
        if (Matches(presented, operatorToken))
            return AccessLevel.Operator;
        if (Matches(presented, viewerToken))
            return AccessLevel.Viewer;
        return AccessLevel.None;
    }

    /// <summary>A token from the Authorization header, the access_token query (first dashboard visit), or the cookie set then.</summary>
    static string? Presented(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return header["Bearer ".Length..].Trim();
        if (context.Request.Query.TryGetValue("access_token", out var q) && q.Count > 0)
            return q[0];
        return context.Request.Cookies.TryGetValue(CookieName, out var c) ? c : null;
    }

    static bool Matches(string presented, string? expected) =>
        expected is not null &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));

    /// <summary>Enforces the policy on the API and the dashboard; health stays open for probes.</summary>
    public async Task EnforceAsync(HttpContext context, Func<Task> next)
    {
        var path = context.Request.Path;
        var guarded = path.StartsWithSegments("/api") || path.StartsWithSegments("/hangfire") || path.StartsWithSegments("/openapi") || path.StartsWithSegments("/scalar")
            || path.StartsWithSegments("/metrics");
        if (!guarded)
        {
            await next().ConfigureAwait(false);
            return;
        }
        var level = Of(context);
        context.Items[nameof(AccessLevel)] = level;
        if (level == AccessLevel.None)
        {
            await Results.Problem(title: "unauthorized",
                detail: "requests from other machines need a token: Authorization: Bearer <token> (configure OPENSVC_TOKEN or OPENSVC_VIEWER_TOKEN on the agent)",
                statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        if (level == AccessLevel.Viewer && path.StartsWithSegments("/api") && !HttpMethods.IsGet(context.Request.Method))
        {
            await Results.Problem(title: "forbidden", detail: "a viewer token may read, not act: use an operator token", statusCode: StatusCodes.Status403Forbidden)
                .ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        if (context.Request.Query.TryGetValue("access_token", out var q) && q.Count > 0 && path.StartsWithSegments("/hangfire"))
            context.Response.Cookies.Append(CookieName, q[0]!, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/hangfire" });
        await next().ConfigureAwait(false);
    }

    public static AccessLevel Level(HttpContext context) =>
        context.Items.TryGetValue(nameof(AccessLevel), out var v) && v is AccessLevel l ? l : AccessLevel.None;

    /// <summary>Who the audit trail names: the user the CLI reports, qualified by how the request was trusted.</summary>
    public static string Caller(HttpContext context)
    {
        var user = context.Request.Headers["X-OpenSvc-User"].ToString();
        if (string.IsNullOrWhiteSpace(user) || user.Length > 64)
            user = "api";
        var how = context.Connection.RemoteIpAddress is { } ip && IPAddress.IsLoopback(ip) ? "local" : "token";
        return $"{user}@{how}";
    }
}

/// <summary>The dashboard follows the same policy: operators get the full dashboard.</summary>
public sealed class DashboardAccessFilter : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) =>
        AccessPolicy.Level(context.GetHttpContext()) is AccessLevel.Operator or AccessLevel.Viewer;

    public static bool IsReadOnly(DashboardContext context) => AccessPolicy.Level(context.GetHttpContext()) != AccessLevel.Operator;
}
