using JasperFx.Events.Projections;
using JasperFx.Events;
using Marten;
using Marten.Events.Aggregation;
using Marten.Events.Projections;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using Weasel.Core;

namespace OpenSvc.Workflows.Engine;

/// <summary>How runs are stored in Marten: event names registered explicitly, inline projections for queries.</summary>
public static class WorkflowStore
{
    public const string DefaultSchema = "opensvc";

    /// <summary>
    /// Marten's sessions open a pooled connection for each fetch and each SaveChanges. Npgsql resets a pooled
    /// connection when it is taken again (DISCARD ALL: one more statement, about ten per step); Marten leaves no
    /// session state behind (no SET, LISTEN, temporary table or session advisory lock on these connections: the
    /// schema lock is taken on an unpooled connection of its own), so there is nothing to reset.
    /// </summary>
    public static string ConnectionString(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true }.ConnectionString;

    public static void Configure(StoreOptions options, string connectionString, string schema = DefaultSchema)
    {
        if (PrimaryDataSource.IsMultiHost(connectionString))
            options.Connection(PrimaryDataSource.Create(ConnectionString(connectionString)));
        else
            options.Connection(ConnectionString(connectionString));
        options.DatabaseSchemaName = schema;
        options.UseSystemTextJsonForSerialization(EnumStorage.AsString, Casing.CamelCase);
        options.Events.StreamIdentity = StreamIdentity.AsGuid;
        foreach (var (type, name) in RunEventNames.All)
            options.Events.MapEventType(type, name);
        foreach (var (type, name) in ControlPlaneHistory.EventNames)
            options.Events.MapEventType(type, name);
        foreach (var (type, name) in Services.NodeFreezes.EventNames)
            options.Events.MapEventType(type, name);
        // The run and service aggregates are immutable records (every event yields a new one), so the aggregate
        // FetchForWriting loaded is the one the inline projection applies the new events to: no second load of the
        // document inside SaveChanges (one round trip and one deserialization less per step transaction).
        options.Events.UseIdentityMapForAggregates = true;
        // Inline: the read models commit with the events, so audit queries never lag or skip.
        options.Projections.Add(new WorkflowRunProjection(), ProjectionLifecycle.Inline);
        options.Projections.Add(new ServiceActivityProjection(), ProjectionLifecycle.Inline);
        options.Schema.For<WorkflowRun>().Index(x => x.Service).Index(x => x.RequestedAt);
        options.Schema.For<AgentHeartbeat>();
        options.Schema.For<Services.NodeFreeze>();
    }
}

/// <summary>Keeps the WorkflowRun document of each run stream, folded by the pure domain Apply.</summary>
public sealed class WorkflowRunProjection : SingleStreamProjection<WorkflowRun, Guid>
{
    /// <summary>
    /// Only run events: with an untyped Evolve Marten cannot tell which events this projection takes, and
    /// otherwise loads a WorkflowRun document for every service stream a transaction appends to (and the other
    /// projection a ServiceActivity for every run stream: one more query in each step's two transactions).
    /// </summary>
    public WorkflowRunProjection()
    {
        foreach (var type in RunEventNames.All.Keys.Where(t => !ServiceActivityProjection.EventTypes.Contains(t)))
            IncludeType(type);
    }

    public override WorkflowRun? Evolve(WorkflowRun? snapshot, Guid id, IEvent e) => (snapshot, e.Data) switch
    {
        (null, RunRequested r) => WorkflowRun.From(r),
        (null, RunRefused r) => WorkflowRun.From(r),
        ({ } run, var data) => run.Then(data),
        _ => snapshot,
    };
}

/// <summary>Keeps each service's activity (the run holding it) from the service stream.</summary>
public sealed class ServiceActivityProjection : SingleStreamProjection<ServiceActivity, Guid>
{
    /// <summary>The events of a service stream (every other event belongs to a run stream).</summary>
    public static readonly IReadOnlySet<Type> EventTypes = new HashSet<Type>
    {
        typeof(ServiceConfigured), typeof(ServiceDeleted), typeof(ServiceRunStarted), typeof(ServiceRunEnded),
        typeof(ProtectionReversed), typeof(ProtectionRestored), typeof(ServiceFrozen), typeof(ServiceThawed),
    };

    public ServiceActivityProjection()
    {
        foreach (var type in EventTypes)
            IncludeType(type);
    }

    public override ServiceActivity? Evolve(ServiceActivity? snapshot, Guid id, IEvent e) => (snapshot, e.Data) switch
    {
        (null, ServiceRunStarted s) => ServiceActivity.From(s),
        (null, ServiceConfigured c) => ServiceActivity.From(c),
        ({ } activity, var data) => activity.Then(data),
        _ => snapshot,
    };
}
