using Marten;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Runs;

public sealed record RunFilter(string? Service = null, DateTimeOffset? Since = null, ServiceAction? Action = null, RunStatus? Status = null, int Limit = 50);

/// <summary>Audit queries over the inline run projection (never Hangfire's job history, which expires).</summary>
public static class RunQueries
{
    public static async Task<IReadOnlyList<WorkflowRun>> ListAsync(IQuerySession session, RunFilter filter, CancellationToken ct)
    {
        IQueryable<WorkflowRun> q = session.Query<WorkflowRun>();
        if (filter.Service is { } s)
            q = q.Where(r => r.Service == s);
        if (filter.Since is { } since)
            q = q.Where(r => r.RequestedAt >= since);
        if (filter.Action is { } a)
            q = q.Where(r => r.Action == a);
        if (filter.Status is { } st)
            q = q.Where(r => r.Status == st);
        return await q.OrderByDescending(r => r.RequestedAt).Take(filter.Limit).ToListAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Finds a run by full id, or by a unique tail (the short form printed) or head of it.</summary>
    public static async Task<(WorkflowRun? Run, string? Problem)> FindAsync(IQuerySession session, string idOrPrefix, CancellationToken ct)
    {
        if (Guid.TryParse(idOrPrefix, out var id))
        {
            var run = await session.LoadAsync<WorkflowRun>(id, ct).ConfigureAwait(false);
            return run is null ? (null, $"no run {id}") : (run, null);
        }
        var prefix = idOrPrefix.Trim().ToLowerInvariant();
        if (prefix.Length < 4 || !prefix.All(c => char.IsAsciiHexDigit(c) || c == '-'))
            return (null, $"'{idOrPrefix}' is not a run id (give the id or at least its first 4 characters)");
        var matches = await session.QueryAsync<WorkflowRun>("where id::text like ? or id::text like ? limit 2", ct, "%" + prefix, prefix + "%").ConfigureAwait(false);
        return matches.Count switch
        {
            0 => (null, $"no run id starts or ends with {prefix}"),
            1 => (matches[0], null),
            _ => (null, $"more than one run id starts or ends with {prefix}: give more characters"),
        };
    }
}
