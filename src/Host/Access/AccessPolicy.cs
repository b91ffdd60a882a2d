using System.Security.Claims;
using System.Text.Encodings.Web;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace OpenSvc.Host.Access;

/// <summary>
/// Who a request acts for, decided in one place for the API, the dashboard and any page: the local socket's caller
/// (<c>user@local</c>, operator), else the named token in <c>Authorization: Bearer</c>, else the one in the sign-in
/// cookie. Nothing else: not the address a request comes from, not a token in the URL, not a header naming a user.
/// </summary>
public sealed class AccessPolicy(TokenStore tokens)
{
    public const string Scheme = "opensvc";

    /// <summary>Authorization policies: <see cref="Viewer"/> reads, <see cref="Operator"/> acts.</summary>
    public const string Viewer = "viewer";

    public const string Operator = "operator";

    public TokenStore Tokens { get; } = tokens;

    public static AccessPolicy FromEnvironment() => new(TokenStore.FromEnvironment());

    /// <summary>The caller, or null with why when the request proves no identity.</summary>
    public (Caller? Caller, string? Problem) Authenticate(HttpContext context)
    {
        if (LocalSocket.PeerUid(context) is { } uid)
            return (new Caller($"{LocalSocket.UserName(uid)}@local", Role.Operator), null);
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                return (null, "the Authorization header must be 'Bearer <token>'");
            return Tokens.Find(header["Bearer ".Length..].Trim()) is { } bearer ? (bearer, null) : (null, "this token is not valid (unknown, or removed)");
        }
        if (context.Request.Cookies.TryGetValue(SignIn.CookieName, out var cookie))
            return Tokens.Find(cookie) is { } signedIn ? (signedIn, null) : (null, "the sign-in has expired (the token was removed): sign in again at /signin");
        return (null, null);
    }

    public static ClaimsPrincipal Principal(Caller caller) => new(new ClaimsIdentity(
        [new Claim(ClaimTypes.Name, caller.Name), new Claim(ClaimTypes.NameIdentifier, caller.Name), new Claim(ClaimTypes.Role, TokenFile.RoleName(caller.Role))],
        Scheme, ClaimTypes.Name, ClaimTypes.Role));

    /// <summary>The audit's "who" of an authenticated request: the token's name, or <c>user@local</c>.</summary>
    public static string Who(HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name
            : throw new InvalidOperationException("an endpoint that records who asked ran for an unauthenticated request");

    public static bool IsOperator(HttpContext context) => context.User.IsInRole(Operator);

    public static bool IsViewer(HttpContext context) => context.User.IsInRole(Viewer) || IsOperator(context);
}

/// <summary>ASP.NET Core's view of <see cref="AccessPolicy"/>: authentication, 401 and 403 as problem details.</summary>
public sealed class AccessAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AccessPolicy policy)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var (caller, problem) = policy.Authenticate(Context);
        if (caller is not null)
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(AccessPolicy.Principal(caller), AccessPolicy.Scheme)));
        return Task.FromResult(problem is null ? AuthenticateResult.NoResult() : AuthenticateResult.Fail(problem));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false)).Failure?.Message;
        await Results.Problem(title: "unauthorized", statusCode: StatusCodes.Status401Unauthorized,
                detail: failure ?? "this request needs a token: Authorization: Bearer <token> (opensvc token add NAME --role viewer|operator), " +
                    "or the agent's local socket (the CLI on the agent's machine, as root)")
            .ExecuteAsync(Context).ConfigureAwait(false);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Results.Problem(title: "forbidden", statusCode: StatusCodes.Status403Forbidden,
                detail: $"{Context.User.Identity?.Name} is a viewer: it may read, not act; use an operator token")
            .ExecuteAsync(Context);
}

/// <summary>The dashboard follows the same identities: viewers get the read-only dashboard (Hangfire then refuses its commands).</summary>
public sealed class DashboardAccessFilter : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) => AccessPolicy.IsViewer(context.GetHttpContext());

    public static bool IsReadOnly(DashboardContext context) => !AccessPolicy.IsOperator(context.GetHttpContext());
}

/// <summary>Wiring: one call for the services, one for the pipeline; any page (the dashboard, an operator console) reuses them.</summary>
public static class AccessSetup
{
    public static IServiceCollection AddOpenSvcAccess(this IServiceCollection services, AccessPolicy policy)
    {
        services.AddSingleton(policy);
        services.AddAuthentication(AccessPolicy.Scheme).AddScheme<AuthenticationSchemeOptions, AccessAuthenticationHandler>(AccessPolicy.Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(AccessPolicy.Viewer, p => p.RequireRole(AccessPolicy.Viewer, AccessPolicy.Operator))
            .AddPolicy(AccessPolicy.Operator, p => p.RequireRole(AccessPolicy.Operator));
        // Antiforgery tokens are bound to the signed-in identity; their keys live in memory (a restart only asks for a reload).
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "opensvc_antiforgery";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        return services;
    }

    /// <summary>
    /// The request guard (Host, Origin, JSON bodies, no token in URLs, no framing), then authentication, authorization,
    /// antiforgery for form endpoints, the sign-in pages, and the dashboard's sign-in redirect.
    /// </summary>
    public static void UseOpenSvcAccess(this WebApplication app, RequestGuard guard)
    {
        app.Use(guard.InvokeAsync);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        SignIn.Map(app);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/hangfire") && !AccessPolicy.IsViewer(context))
            {
                if (HttpMethods.IsGet(context.Request.Method))
                    context.Response.Redirect(SignIn.PathTo(context.Request.PathBase + context.Request.Path + context.Request.QueryString));
                else
                    await context.ChallengeAsync(AccessPolicy.Scheme).ConfigureAwait(false);
                return;
            }
            await next(context).ConfigureAwait(false);
        });
    }
}
