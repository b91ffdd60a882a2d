using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Host.Access;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;

namespace OpenSvc.Host.Api;

/// <summary>
/// The REST API: services, status, plans, actions, runs and nodes. Every error is an RFC 7807 problem whose
/// detail is the same plain reason the CLI prints. Viewers read, plan and validate; operators also act. Bodies are JSON.
/// </summary>
public static class ApiEndpoints
{
    public static void Map(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // Prometheus scrapes any agent with a viewer token: the cluster's DR metrics, computed from the database at scrape time.
        app.MapGet("/metrics", async (MediatR.IMediator mediator, CancellationToken ct) =>
            Results.Text(PrometheusText.Write(await mediator.Send(new GetMetrics(), ct)), PrometheusText.ContentType))
            .RequireAuthorization(AccessPolicy.Viewer).WithTags("nodes").WithSummary("DR metrics in Prometheus' text format (copy ages, readiness, runs, agents)");

        var api = app.MapGroup("/api").RequireAuthorization(AccessPolicy.Viewer);
        var services = api.MapGroup("/services").WithTags("services");

        services.MapGet("/", (IClusterClient c, CancellationToken ct) => c.ServicesAsync(ct)).WithSummary("List services");
        services.MapGet("/{name}", async (string name, IClusterClient c, CancellationToken ct) =>
            await c.ServiceAsync(name, ct) is { } s ? Results.Ok(s) : NotFound($"service {name} does not exist")).WithSummary("Show a service and its current config");
        services.MapPost("/{name}", (string name, ConfigBody body, HttpContext http, IClusterClient c, CancellationToken ct) => Configure(name, body, http, c, create: true, ct))
            .RequireAuthorization(AccessPolicy.Operator).WithSummary("Create a service from OpenSVC INI text: {\"config\": \"<INI text>\"}");
        services.MapPut("/{name}", (string name, ConfigBody body, HttpContext http, IClusterClient c, CancellationToken ct) => Configure(name, body, http, c, create: false, ct))
            .RequireAuthorization(AccessPolicy.Operator).WithSummary("Store a new version of a service's config: {\"config\": \"<INI text>\"}");
        services.MapDelete("/{name}", async (string name, HttpContext http, IClusterClient c, CancellationToken ct) =>
            await c.DeleteServiceAsync(new DeleteService(name, AccessPolicy.Who(http)), ct) switch
            {
                { Outcome: DeleteOutcome.Deleted } => Results.NoContent(),
                { Outcome: DeleteOutcome.NotFound } missing => NotFound(missing.Message),
                var busy => Problem(busy.Message, 409),
            }).RequireAuthorization(AccessPolicy.Operator).WithSummary("Delete a service's config (history stays)");
        services.MapGet("/{name}/history", async (string name, IClusterClient c, CancellationToken ct) =>
            await c.ConfigHistoryAsync(name, ct) is { Count: > 0 } h ? Results.Ok(h) : NotFound($"service {name} has no config history")).WithSummary("Config versions with who, when and the diff");
        services.MapGet("/{name}/status", async (string name, IClusterClient c, CancellationToken ct) =>
            await c.StatusAsync(name, ct) is { } s ? Results.Ok(s) : NotFound($"service {name} does not exist")).WithSummary("Status on every node and cluster-wide");
        services.MapGet("/{name}/readiness", async (string name, string? node, IClusterClient c, CancellationToken ct) =>
        {
            NodeName? at = null;
            if (node is not null)
            {
                if (!NodeName.TryParse(node, out var n))
                    return Problem($"node '{node}' is not a valid node name", 400);
                at = n;
            }
            return await c.ReadinessAsync(new GetReadiness(name, at), ct) is { } r ? Results.Ok(r) : NotFound($"service {name} does not exist");
        }).WithSummary("Whether the service can be activated on a node now (default: its first DR node), check by check");
        services.MapPost("/{name}/plan/{action}", async (string name, string action, ActionBody body, HttpContext http, IClusterClient c, CancellationToken ct) =>
        {
            var (request, problem) = Parse(name, action, body, http);
            if (request is null)
                return Problem(problem!, 400);
            return await c.PlanAsync(request, ct) switch
            {
                ServiceNotFound missing => NotFound(missing.Message),
                var result => Results.Ok(result),
            };
        }).WithSummary("Dry run: the plan of an action against the cluster's current state (accepted or refused, with the plan)");
        services.MapPost("/{name}/actions/{action}", async (string name, string action, ActionBody body, HttpContext http, IClusterClient c, CancellationToken ct) =>
        {
            var (request, problem) = Parse(name, action, body, http);
            if (request is null)
                return Problem(problem!, 400);
            return await c.RequestActionAsync(request, ct) switch
            {
                ServiceNotFound missing => NotFound(missing.Message),
                ActionRefused refused => Results.Problem(title: "refused", detail: refused.Refusal, statusCode: 409,
                    extensions: new Dictionary<string, object?> { ["runId"] = refused.RunId, ["runInFlight"] = refused.RunInFlight }),
                ActionAccepted accepted => Results.Accepted($"/api/runs/{accepted.RunId}", (OpenSvc.Workflows.Runs.ActionResult)accepted),
                _ => throw new InvalidOperationException("unknown action result"),
            };
        }).RequireAuthorization(AccessPolicy.Operator).WithSummary("Run start, stop, startstandby, switch, takeover (force + reason), sync, reprotect or giveback as a workflow");

        foreach (var freeze in new[] { true, false })
        {
            services.MapPost($"/{{name}}/{(freeze ? "freeze" : "thaw")}", async (string name, FreezeBody? body, HttpContext http, IClusterClient c, CancellationToken ct) =>
            {
                NodeName? at = null;
                if (body?.Node is { } node)
                {
                    if (!NodeName.TryParse(node, out var n))
                        return Problem($"node '{node}' is not a valid node name", 400);
                    at = n;
                }
                return FreezeResponse(await c.FreezeAsync(new FreezeService(name, at, freeze, AccessPolicy.Who(http), body?.Reason), ct));
            }).RequireAuthorization(AccessPolicy.Operator).WithSummary(freeze
                ? "Freeze a service, or its instance on one node ({\"node\": ..., \"reason\": ...}): no automatic start by the orchestrator"
                : "Thaw a service, or its instance on one node ({\"node\": ..., \"reason\": ...})");
            api.MapPost($"/nodes/{{node}}/{(freeze ? "freeze" : "thaw")}", async (string node, FreezeBody? body, HttpContext http, IClusterClient c, CancellationToken ct) =>
                NodeName.TryParse(node, out var n)
                    ? FreezeResponse(await c.FreezeNodeAsync(new FreezeNode(n, freeze, AccessPolicy.Who(http), body?.Reason), ct))
                    : Problem($"node '{node}' is not a valid node name", 400))
                .RequireAuthorization(AccessPolicy.Operator).WithTags("nodes").WithSummary(freeze
                    ? "Freeze a node ({\"reason\": ...}): the orchestrator starts no service there by itself"
                    : "Thaw a node ({\"reason\": ...})");
        }

        api.MapPost("/validate", (ConfigBody body, [FromQuery] string? service, CancellationToken ct) =>
        {
            if (body.Config is null)
                return Problem(ConfigBody.Missing, 400);
            var name = string.IsNullOrWhiteSpace(service) ? "svc" : service;
            // One budget for the request, cancelled with it: a client that gives up stops the work.
            return Results.Ok(ConfigValidator.Validate(ConfigParser.Parse(body.Config, name + ".conf"), name, null, new ConfigBudget(ct)));
        }).WithTags("services").WithSummary("Validate OpenSVC INI text without storing it: {\"config\": \"<INI text>\"}");

        var runs = api.MapGroup("/runs").WithTags("runs");
        runs.MapGet("/", async (IClusterClient c, CancellationToken ct, string? service, string? since, string? action, string? status, int? limit) =>
        {
            DateTimeOffset? from = null;
            if (since is not null)
            {
                if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                    return Problem($"since '{since}' is not a time (ISO 8601)", 400);
                from = at;
            }
            ServiceAction? a = null;
            if (action is not null)
            {
                if (ActionWords.ParseServiceAction(action) is not { } parsed)
                    return Problem($"action '{action}' is not one of {string.Join(", ", ActionWords.ServiceActions)}", 400);
                a = parsed;
            }
            RunStatus? st = null;
            if (status is not null)
            {
                if (!Enum.TryParse<RunStatus>(status, true, out var parsedStatus))
                    return Problem($"status '{status}' is not one of running, completed, failed, cancelled, refused", 400);
                st = parsedStatus;
            }
            return Results.Ok(await c.ListRunsAsync(new RunFilter(service, from, a, st, Math.Clamp(limit ?? 50, 1, 10_000)), ct));
        }).WithSummary("List runs, newest first (filters: service, since, action, status, limit)");
        runs.MapGet("/{id}", async (string id, IClusterClient c, CancellationToken ct) =>
            await c.FindRunAsync(id, ct) is ({ } run, _) ? Results.Ok(run) : NotFound((await c.FindRunAsync(id, ct)).Problem ?? $"no run {id}"))
            .WithSummary("A run with its timeline (by id or a unique prefix)");
        runs.MapPost("/{id}/cancel", async (string id, CancelBody? body, HttpContext http, IClusterClient c, CancellationToken ct) =>
        {
            var (run, problem) = await c.FindRunAsync(id, ct);
            if (run is null)
                return NotFound(problem!);
            var result = await c.CancelAsync(new CancelRun(run.Id, AccessPolicy.Who(http), body?.Reason), ct);
            return result.Accepted ? Results.Ok(result) : Problem(result.Message, 409);
        }).RequireAuthorization(AccessPolicy.Operator).WithSummary("Cancel a run at the next step boundary");

        api.MapGet("/reports/recoveries", async (IClusterClient c, CancellationToken ct, string? service, string? since, int? limit) =>
        {
            DateTimeOffset? from = null;
            if (since is not null)
            {
                if (!DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
                    return Problem($"since '{since}' is not a time (ISO 8601)", 400);
                from = at;
            }
            return Results.Ok(await c.RecoveryReportAsync(new Workflows.Reports.GetRecoveryReport(service, from, limit ?? 500), ct));
        }).WithTags("runs").WithSummary("Takeovers, switches and drills with who, when, result, RTO and RPO (filters: service, since)");

        api.MapGet("/nodes", (IClusterClient c, CancellationToken ct) => c.AgentsAsync(ct)).WithTags("nodes").WithSummary("Node agents with their last heartbeat and queues");
    }

    static async Task<IResult> Configure(string name, ConfigBody body, HttpContext http, IClusterClient c, bool create, CancellationToken ct)
    {
        if (body.Config is null)
            return Problem(ConfigBody.Missing, 400);
        var result = await c.ConfigureAsync(new ConfigureService(name, body.Config, AccessPolicy.Who(http), MustExist: !create, MustNotExist: create), ct);
        if (!result.Accepted)
            return Results.Problem(title: "config refused", detail: result.Refusal,
                statusCode: result.Outcome switch
                {
                    ConfigureOutcome.NotFound => 404,
                    ConfigureOutcome.Invalid or ConfigureOutcome.InvalidName => 400,
                    _ => 409,
                },
                extensions: new Dictionary<string, object?> { ["problems"] = result.Problems.Select(p => p.ToString()).ToList() });
        return create ? Results.Created($"/api/services/{name}", result) : Results.Ok(result);
    }

    /// <summary>The request an API body describes, by the domain's one parser: who is the caller the access policy proved.</summary>
    static (ActionRequest? Request, string? Problem) Parse(string name, string action, ActionBody body, HttpContext http) =>
        ActionRequest.Parse(name, action, body.Node, AccessPolicy.Who(http), body.To, body.Rid, body.Target, body.Force, body.Reason, body.Keep);

    static IResult FreezeResponse(FreezeResult result) => result.Outcome switch
    {
        FreezeOutcome.NotFound => NotFound(result.Message),
        FreezeOutcome.NotAPeer => Problem(result.Message, 400),
        _ => Results.Ok(result),
    };

    static IResult NotFound(string detail) => Problem(detail, 404);

    static IResult Problem(string detail, int status) =>
        Results.Problem(title: status switch { 400 => "bad request", 404 => "not found", 409 => "conflict", _ => "error" }, detail: detail, statusCode: status);
}
