using System.Reflection;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Access;
using OpenSvc.Workflows.Reports;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.WebConsole;

/// <summary>
/// The operator console served by every agent at <c>/</c>: Razor Pages rendered on the server, its stylesheet and one small
/// script embedded in the assembly (no CDN, no front-end build), the same identities as the API (viewers read, operators
/// act), and the same use cases: every page reads and every form acts through <see cref="IClusterClient"/>, which the API
/// serves too.
/// </summary>
public static class ConsoleSetup
{
    /// <summary>The console's own assets: <c>/console/assets/console.css</c>, <c>console.js</c>.</summary>
    public const string AssetsPath = "/console/assets";

    static readonly Lock MenuGate = new();
    static bool _menuAdded;

    public static IServiceCollection AddOpenSvcConsole(this IServiceCollection services)
    {
        services.AddRazorPages(o =>
            {
                o.RootDirectory = "/WebConsole/Pages";
                o.Conventions.AuthorizeFolder("/", AccessPolicy.Viewer);
            })
            // The pages are compiled into this assembly; the entry assembly may be a test host.
            .AddApplicationPart(typeof(ConsoleSetup).Assembly);
        services.AddSingleton<HangfireJobs>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, SignInRedirect>();
        return services;
    }

    /// <summary>After <see cref="AccessSetup.UseOpenSvcAccess"/>: the pages, the assets, the report's exports, and the dashboard's link back here.</summary>
    public static void MapOpenSvcConsole(this WebApplication app)
    {
        app.MapGet(AssetsPath + "/{name}", (string name) => Asset(name)).AllowAnonymous().ExcludeFromDescription();
        // Browsers ask for it on every page, the sign-in form's too: a missing one is an error in their console.
        app.MapGet("/favicon.ico", () => Asset("favicon.svg")).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/reports/recoveries.csv", async (IClusterClient c, string? service, string? period, CancellationToken ct) =>
                Results.Text(RecoveryReport.Csv(await c.RecoveryReportAsync(new GetRecoveryReport(NullIfEmpty(service), Periods.Since(period, DateTimeOffset.UtcNow), 10_000), ct)),
                    "text/csv; charset=utf-8"))
            .RequireAuthorization(AccessPolicy.Viewer).ExcludeFromDescription();
        app.MapGet("/reports/recoveries.json", async (IClusterClient c, string? service, string? period, CancellationToken ct) =>
                Results.Json(await c.RecoveryReportAsync(new GetRecoveryReport(NullIfEmpty(service), Periods.Since(period, DateTimeOffset.UtcNow), 10_000), ct)))
            .RequireAuthorization(AccessPolicy.Viewer).ExcludeFromDescription();
        app.MapRazorPages();
        lock (MenuGate)
        {
            // Hangfire's navigation menu is process-wide: one entry, however many agents a process hosts (tests).
            if (!_menuAdded)
            {
                NavigationMenu.Items.Add(page => new MenuItem("OpenSvc console", page.Context.Options.AppPath ?? "/"));
                _menuAdded = true;
            }
        }
    }

    static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();


    static readonly Assembly Self = typeof(ConsoleSetup).Assembly;

    static IResult Asset(string name)
    {
        var type = Path.GetExtension(name) switch
        {
            ".css" => "text/css; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".svg" => "image/svg+xml",
            _ => null,
        };
        var stream = type is null ? null : Self.GetManifestResourceStream("OpenSvc.Host.WebConsole.Assets." + name);
        return stream is null ? Results.NotFound() : Results.Stream(stream, type);
    }
}

/// <summary>
/// A console page that a browser opens without being signed in sends it to the sign-in form (which comes back to the
/// page) instead of the API's 401 problem; everything else (the API, POSTs, a signed-in viewer's 403) is answered as usual.
/// </summary>
public sealed class SignInRedirect : IAuthorizationMiddlewareResultHandler
{
    readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Challenged && HttpMethods.IsGet(context.Request.Method)
            && context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Mvc.RazorPages.PageActionDescriptor>() is not null)
        {
            context.Response.Redirect(SignIn.PathTo(context.Request.PathBase + context.Request.Path + context.Request.QueryString));
            return Task.CompletedTask;
        }
        return _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
