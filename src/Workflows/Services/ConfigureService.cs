using JasperFx;
using JasperFx.Events;
using Marten;
using MediatR;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Services;

/// <summary>
/// Store a new version of a service's configuration (create or update). Validated first: a config whose
/// errors concern every node is refused; errors that concern only some nodes are stored and reported, since
/// those nodes simply cannot run the resources (the seed's DR node without `dev` is the example).
/// </summary>
public sealed record ConfigureService(string Service, string ConfigText, string By, bool MustExist, bool MustNotExist) : IRequest<ConfigureResult>;

/// <summary>What became of a config: stored (or unchanged), or why not. Callers and HTTP statuses go by this, never by the message.</summary>
public enum ConfigureOutcome { Stored, Unchanged, InvalidName, Invalid, NotFound, AlreadyExists, ChangedMeanwhile }

public sealed record ConfigureResult(ConfigureOutcome Outcome, int Version, string? Refusal, string Diff, IReadOnlyList<ConfigProblem> Problems)
{
    public bool Accepted => Outcome is ConfigureOutcome.Stored or ConfigureOutcome.Unchanged;
}

public sealed class ConfigureServiceHandler(IDocumentStore store, Syncs.SyncSchedules schedules, TimeProvider time) : IRequestHandler<ConfigureService, ConfigureResult>
{
    public async Task<ConfigureResult> Handle(ConfigureService request, CancellationToken cancellationToken)
    {
        if (ServicePath.Invalid(request.Service) is { } invalid)
            return new ConfigureResult(ConfigureOutcome.InvalidName, 0, $"not a valid service name: {invalid}", "", []);
        var doc = ConfigParser.Parse(request.ConfigText, request.Service + ".conf");
        var problems = ConfigValidator.Validate(doc, request.Service, null, new ConfigBudget(cancellationToken));
        var global = problems.Where(p => p.Severity == Severity.Error && p.Node is null).ToList();
        if (global.Count > 0)
            return new ConfigureResult(ConfigureOutcome.Invalid, 0, $"the config has {global.Count} error(s) that concern every node: fix them first", "", problems);

        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<ServiceActivity>(ServiceActivity.StreamId(request.Service), cancellationToken).ConfigureAwait(false);
        var current = stream.Aggregate;
        if (request.MustExist && current is not { Exists: true })
            return new ConfigureResult(ConfigureOutcome.NotFound, 0, $"service {request.Service} does not exist: create it first (opensvc svc create {request.Service} --config FILE)", "", problems);
        if (request.MustNotExist && current is { Exists: true })
            return new ConfigureResult(ConfigureOutcome.AlreadyExists, current.ConfigVersion, $"service {request.Service} already exists (v{current.ConfigVersion}): use opensvc svc update", "", problems);
        var hash = ConfigHash.Of(request.ConfigText);
        if (current is { Exists: true } && current.ConfigHash == hash)
            return new ConfigureResult(ConfigureOutcome.Unchanged, current.ConfigVersion, null, "", problems);

        var version = (current?.ConfigVersion ?? 0) + 1;
        var diff = ConfigDiff.Lines(current is { Exists: true } ? current.ConfigText : null, request.ConfigText);
        stream.AppendOne(new ServiceConfigured(request.Service, version, request.ConfigText, hash, request.By, time.GetUtcNow(), diff));
        try
        {
            await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ConcurrencyException or EventStreamUnexpectedMaxEventIdException)
        {
            return new ConfigureResult(ConfigureOutcome.ChangedMeanwhile, 0, $"service {request.Service} changed while this update was prepared: read it again and retry", "", problems);
        }
        // Scheduled syncs follow the config at once, on every agent (the schedule lives in shared storage).
        await schedules.ApplyAsync(request.Service, request.ConfigText, cancellationToken).ConfigureAwait(false);
        return new ConfigureResult(ConfigureOutcome.Stored, version, null, diff, problems);
    }

}

/// <summary>Delete a service's configuration (its history stays in the event store). Refused while a run holds it.</summary>
public sealed record DeleteService(string Service, string By) : IRequest<DeleteResult>;

public enum DeleteOutcome { Deleted, NotFound, Busy }

public sealed record DeleteResult(DeleteOutcome Outcome, string Message);

public sealed class DeleteServiceHandler(IDocumentStore store, Syncs.SyncSchedules schedules, TimeProvider time) : IRequestHandler<DeleteService, DeleteResult>
{
    public async Task<DeleteResult> Handle(DeleteService request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<ServiceActivity>(ServiceActivity.StreamId(request.Service), cancellationToken).ConfigureAwait(false);
        if (stream.Aggregate is not { Exists: true } current)
            return new DeleteResult(DeleteOutcome.NotFound, $"service {request.Service} does not exist");
        if (current.ActiveRun is { } run)
            return new DeleteResult(DeleteOutcome.Busy, $"service {request.Service} is busy: run {run} is in flight");
        stream.AppendOne(new ServiceDeleted(request.Service, current.ConfigVersion, request.By, time.GetUtcNow()));
        await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        await schedules.ApplyAsync(request.Service, null, cancellationToken).ConfigureAwait(false);
        return new DeleteResult(DeleteOutcome.Deleted, $"service {request.Service} deleted");
    }
}
