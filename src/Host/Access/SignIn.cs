using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace OpenSvc.Host.Access;

/// <summary>
/// Browser sign-in: <c>GET /signin</c> shows a form asking for a token, <c>POST /signin</c> (antiforgery-checked) keeps the
/// token in an HttpOnly, SameSite=Strict cookie that <see cref="AccessPolicy"/> reads on every request (so removing the
/// token signs its browsers out), then goes back where the browser was headed; <c>POST /signout</c> drops the cookie.
/// The token never appears in a URL, a page or a log.
/// </summary>
public static class SignIn
{
    public const string CookieName = "opensvc_session";
    public const string Path = "/signin";

    /// <summary>The sign-in page's URL that comes back to <paramref name="returnPath"/> afterwards.</summary>
    public static string PathTo(string returnPath) => $"{Path}?return={Uri.EscapeDataString(returnPath)}";

    public static void Map(WebApplication app)
    {
        app.MapGet(Path, (HttpContext http, IAntiforgery antiforgery, [FromQuery(Name = "return")] string? back) =>
            Page(http, antiforgery, LocalPath(back), problem: null, StatusCodes.Status200OK)).ExcludeFromDescription();

        app.MapPost(Path, (HttpContext http, IAntiforgery antiforgery, AccessPolicy policy, [FromForm] SignInForm form) =>
        {
            var back = LocalPath(form.Return);
            if (string.IsNullOrWhiteSpace(form.Token) || policy.Tokens.Find(form.Token.Trim()) is null)
                return Page(http, antiforgery, back, "this token is not valid", StatusCodes.Status401Unauthorized);
            Keep(http, form.Token.Trim());
            return Results.Redirect(back, permanent: false, preserveMethod: false);
        }).ExcludeFromDescription();

        app.MapPost("/signout", (HttpContext http) =>
        {
            Drop(http);
            return Results.Redirect(Path);
        }).WithMetadata(new RequireAntiforgeryTokenAttribute()).ExcludeFromDescription();
    }

    /// <summary>Signs the browser in with <paramref name="token"/> (already checked).</summary>
    public static void Keep(HttpContext http, string token) =>
        http.Response.Cookies.Append(CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = http.Request.IsHttps,
            Path = "/",
            IsEssential = true,
        });

    public static void Drop(HttpContext http) => http.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/", SameSite = SameSiteMode.Strict });

    /// <summary>Where to go after signing in: a path of this agent only (never another site), else the console.</summary>
    public static string LocalPath(string? back) =>
        back is { Length: > 1 } p && p[0] == '/' && p[1] != '/' && p[1] != '\\' && !p.Contains("://", StringComparison.Ordinal) ? p : "/";

    static IResult Page(HttpContext http, IAntiforgery antiforgery, string back, string? problem, int status)
    {
        var tokens = antiforgery.GetAndStoreTokens(http);
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        var html = $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="robots" content="none"><title>OpenSvc · sign in</title>
            <style>body{"{"}font-family:sans-serif;max-width:28em;margin:4em auto{"}"} input{"{"}width:100%;margin:.3em 0 1em{"}"} .problem{"{"}color:#a00{"}"}</style></head>
            <body><h1>OpenSvc</h1>
            <p>Sign in with an operator or viewer token (<code>opensvc token add NAME --role operator|viewer</code> on the agent's machine).</p>
            {(problem is null ? "" : $"<p class=\"problem\">{E(problem)}</p>")}
            <form method="post" action="{Path}">
            <input type="hidden" name="{E(tokens.FormFieldName)}" value="{E(tokens.RequestToken)}">
            <input type="hidden" name="return" value="{E(back)}">
            <label>Token <input type="password" name="token" autocomplete="current-password" autofocus required></label>
            <button type="submit">Sign in</button>
            </form></body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", statusCode: status);
    }
}

/// <summary>The sign-in form's fields.</summary>
public sealed class SignInForm
{
    public string? Token { get; set; }

    public string? Return { get; set; }
}
