using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;

namespace OpenSvc.Host.Api;

/// <summary>
/// The REST API: services, status, plans, actions, runs and nodes. Every error is an RFC 7807 problem whose
/// detail is the same plain reason the CLI prints.
/// </summary>
public static class ApiEndpoints
{
    public static void Map(WebApplication app)
    {
        var api = app.MapGroup("/api");
        var services = api.MapGroup("/services").WithTags("services");

        services.MapGet("/", (IClusterClient c, CancellationToken ct) => c.ServicesAsync(ct)).WithSummary("List services");
        services.MapGet("/{name}", async (string name, IClusterClient c, CancellationToken ct) =>
            await c.ServiceAsync(name, ct) is { } s ? Results.Ok(s) : NotFound($"service {name} does not exist")).WithSummary("Show a service and its current config");
        services.MapPost("/{name}", (string name, HttpContext http, IClusterClient c, CancellationToken ct) => Configure(name, http, c, create: true, ct))
            .WithSummary("Create a service from OpenSVC INI text (request body, text/plain)");
        services.MapPut("/{name}", (string name, HttpContext http, IClusterClient c, CancellationToken ct) => Configure(name, http, c, create: false, ct))
            .WithSummary("Store a new version of a service's config (INI text body)");
        services.MapDelete("/{name}", async (string name, HttpContext http, IClusterClient c, CancellationToken ct) =>
            await c.DeleteServiceAsync(new DeleteService(name, AccessPolicy.Caller(http)), ct) is { } problem
                ? Problem(problem, problem.Contains("does not exist", StringComparison.Ordinal) ? 404 : 409)
                : Results.NoContent()).WithSummary("Delete a service's config (history stays)");
        services.MapGet("/{name}/history", async (string name, IClusterClient c, CancellationToken ct) =>
            await c.ConfigHistoryAsync(name, ct) is { Count: > 0 } h ? Results.Ok(h) : NotFound($"service {name} has no config history")).WithSummary("Config versions with who, when and the diff");
        services.MapGet("/{name}/status", async (string name, IClusterClient c, CancellationToken ct) =>
            await c.StatusAsync(name, ct) is { } s ? Results.Ok(s) : NotFound($"service {name} does not exist")).WithSummary("Status on every node and cluster-wide");
        services.MapPost("/{name}/plan/{action}", async (string name, string action, ActionBody body, HttpContext http, IClusterClient c, CancellationToken ct) =>
        {
            var (request, error) = Request(name, action, body, http);
            if (request is null)
                return error!;
            var result = await c.PlanAsync(request, ct);
            return result.NotFound ? NotFound(result.Refusal!) : Results.Ok(result);
        }).WithSummary("Dry run: the plan of an action against the cluster's current state");
        services.MapPost("/{name}/actions/{action}", async (string name, string action, ActionBody body, HttpContext http, IClusterClient c, CancellationToken ct) =>
        {
            var (request, error) = Request(name, action, body, http);
            if (request is null)
                return error!;
            var result = await c.RequestActionAsync(request, ct);
            if (result.NotFound)
                return NotFound(result.Refusal!);
            if (!result.Accepted)
                return Results.Problem(title: "refused", detail: result.Refusal, statusCode: 409,
                    extensions: new Dictionary<string, object?> { ["runId"] = result.RunId, ["runInFlight"] = result.RunInFlight });
            return Results.Accepted($"/api/runs/{result.RunId}", result);
        }).WithSummary("Run start, stop, startstandby, switch, takeover (force + reason) or sync as a workflow");

        api.MapPost("/validate", async (HttpContext http, [FromQuery] string? service, CancellationToken ct) =>
        {
            var text = await new StreamReader(http.Request.Body).ReadToEndAsync(ct);
            var name = string.IsNullOrWhiteSpace(service) ? "svc" : service;
            return Results.Ok(ConfigValidator.Validate(ConfigParser.Parse(text, name + ".conf"), name));
        }).WithTags("services").WithSummary("Validate OpenSVC INI text without storing it");

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
                if (ParseAction(action) is not { } parsed)
                    return Problem($"action '{action}' is not one of start, stop, startstandby, switch, takeover, sync", 400);
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
            var result = await c.CancelAsync(new CancelRun(run.Id, AccessPolicy.Caller(http), body?.Reason), ct);
            return result.Accepted ? Results.Ok(result) : Problem(result.Message, 409);
        }).WithSummary("Cancel a run at the next step boundary");

        api.MapGet("/nodes", (IClusterClient c, CancellationToken ct) => c.AgentsAsync(ct)).WithTags("nodes").WithSummary("Node agents with their last heartbeat and queues");
    }

    static async Task<IResult> Configure(string name, HttpContext http, IClusterClient c, bool create, CancellationToken ct)
    {
        var text = await new StreamReader(http.Request.Body).ReadToEndAsync(ct);
        var result = await c.ConfigureAsync(new ConfigureService(name, text, AccessPolicy.Caller(http), MustExist: !create, MustNotExist: create), ct);
        if (!result.Accepted)
            return Results.Problem(title: "config refused", detail: result.Refusal,
                statusCode: result.Refusal!.Contains("does not exist", StringComparison.Ordinal) ? 404 : result.Problems.Any(p => p.Severity == Severity.Error && p.Node is null) ? 400 : 409,
                extensions: new Dictionary<string, object?> { ["problems"] = result.Problems.Select(p => p.ToString()).ToList() });
        return create ? Results.Created($"/api/services/{name}", result) : Results.Ok(result);
    }

    static (ActionRequest? Request, IResult? Error) Request(string name, string action, ActionBody body, HttpContext http)
    {
        if (ParseAction(action) is not { } a)
            return (null, Problem($"action '{action}' is not one of start, stop, startstandby, switch, takeover, sync", 400));
        if (!NodeName.TryParse(body.Node, out var node))
            return (null, Problem($"node '{body.Node}' is not a valid node name", 400));
        NodeName? to = null;
        if (body.To is not null)
        {
            if (!NodeName.TryParse(body.To, out var t))
                return (null, Problem($"to '{body.To}' is not a valid node name", 400));
            to = t;
        }
        if (a == ServiceAction.Switch && to is null)
            return (null, Problem("switch needs a destination node ('to')", 400));
        ResourceId? rid = null;
        if (body.Rid is not null)
        {
            if (!ResourceId.TryParse(body.Rid, out var r) || r.Group != "sync")
                return (null, Problem($"rid '{body.Rid}' is not a sync resource id (sync#N)", 400));
            rid = r;
        }
        SyncTargets? targets = body.Target switch
        {
            null or "all" => SyncTargets.All,
            "nodes" => SyncTargets.Nodes,
            "drpnodes" or "drp" => SyncTargets.DrpNodes,
            _ => null,
        };
        if (targets is null)
            return (null, Problem($"target '{body.Target}' is not one of nodes, drpnodes, all", 400));
        if (body.Force && string.IsNullOrWhiteSpace(body.Reason))
            return (null, Problem("force needs a reason: a forced action is recorded with why it was forced", 400));
        return (new ActionRequest(name, a, node, AccessPolicy.Caller(http), to, rid, targets.Value, body.Force, body.Reason), null);
    }

    static ServiceAction? ParseAction(string text) => RunDecider.ParseAction(text);

    static IResult NotFound(string detail) => Problem(detail, 404);

    static IResult Problem(string detail, int status) =>
        Results.Problem(title: status switch { 400 => "bad request", 404 => "not found", 409 => "conflict", _ => "error" }, detail: detail, statusCode: status);
}
