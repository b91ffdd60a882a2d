using System.Security.Cryptography;
using System.Text;
using JasperFx;
using JasperFx.Events;
using Marten;
using MediatR;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Services;

/// <summary>
/// Freeze (or thaw) a service, or its instance on one node: OpenSVC's freeze, which stops the orchestrator from
/// starting it by itself there. Recorded on the service's stream (who, when, why), folded into its ServiceActivity.
/// Manual actions are not blocked.
/// </summary>
public sealed record FreezeService(string Service, NodeName? Node, bool Freeze, string By, string? Reason) : IRequest<FreezeResult>;

/// <summary>Freeze (or thaw) a node: the orchestrator starts no service there by itself until a thaw.</summary>
public sealed record FreezeNode(NodeName Node, bool Freeze, string By, string? Reason) : IRequest<FreezeResult>;

/// <summary>What became of a freeze or thaw. Callers and HTTP statuses go by this, never by the message.</summary>
public enum FreezeOutcome { Done, Unchanged, NotFound, NotAPeer }

public sealed record FreezeResult(FreezeOutcome Outcome, string Message)
{
    public bool Accepted => Outcome is FreezeOutcome.Done or FreezeOutcome.Unchanged;
}

/// <summary>A frozen node (the document exists while it is frozen); its history is the node's freeze stream.</summary>
public sealed record NodeFreeze(string Id, string By, DateTimeOffset At, string? Reason)
{
    public FreezeMark Mark => new(By, At, Reason);
}

/// <param name="Node">The node frozen.</param>
public sealed record NodeFrozen(string Node, string By, string? Reason, DateTimeOffset At);

public sealed record NodeThawed(string Node, string By, string? Reason, DateTimeOffset At);

/// <summary>Each node's freeze history: one stream per node (name-based id), beside the current state's document.</summary>
public static class NodeFreezes
{
    public static readonly IReadOnlyDictionary<Type, string> EventNames = new Dictionary<Type, string>
    {
        [typeof(NodeFrozen)] = "node_frozen",
        [typeof(NodeThawed)] = "node_thawed",
    };

    public static Guid StreamId(NodeName node)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes("opensvc-node-freeze:" + node.Value)).AsSpan(0, 16).ToArray();
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }
}

public sealed class FreezeServiceHandler(IDocumentStore store, TimeProvider time) : IRequestHandler<FreezeService, FreezeResult>
{
    public async Task<FreezeResult> Handle(FreezeService request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var session = store.LightweightSession();
        var stream = await session.Events.FetchForWriting<ServiceActivity>(ServiceActivity.StreamId(request.Service), cancellationToken).ConfigureAwait(false);
        if (stream.Aggregate is not { Exists: true, ConfigText: not null } current)
            return new FreezeResult(FreezeOutcome.NotFound, $"service {request.Service} does not exist");
        var what = request.Node is { } n ? $"{request.Service} on {n}" : request.Service;
        if (request.Node is { } node)
        {
            var (view, _) = ServiceViewBuilder.From(ConfigParser.Parse(current.ConfigText, request.Service + ".conf"), request.Service);
            if (view is null || !view.Peers.Contains(node))
                return new FreezeResult(FreezeOutcome.NotAPeer, $"{node} is not a node of {request.Service} (nodes, drpnodes)");
        }
        var mark = request.Node is { } at ? current.FrozenNodes?.GetValueOrDefault(at.Value) : current.Frozen;
        if (request.Freeze == mark is not null)
            return new FreezeResult(FreezeOutcome.Unchanged, request.Freeze ? $"{what} is already {mark!.Describe()}" : $"{what} is not frozen");
        var now = time.GetUtcNow();
        stream.AppendOne(request.Freeze
            ? new ServiceFrozen(request.Service, request.Node, request.By, request.Reason, now)
            : new ServiceThawed(request.Service, request.Node, request.By, request.Reason, now));
        try
        {
            await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ConcurrencyException or EventStreamUnexpectedMaxEventIdException)
        {
            // A run or a config change moved the stream meanwhile: read it again once.
            return await Handle(request, cancellationToken).ConfigureAwait(false);
        }
        return new FreezeResult(FreezeOutcome.Done, request.Freeze
            ? $"{what} frozen by {request.By}: the orchestrator starts nothing there by itself (manual actions still run)"
            : $"{what} thawed by {request.By}");
    }
}

public sealed class FreezeNodeHandler(IDocumentStore store, TimeProvider time) : IRequestHandler<FreezeNode, FreezeResult>
{
    public async Task<FreezeResult> Handle(FreezeNode request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var session = store.LightweightSession();
        var current = await session.LoadAsync<NodeFreeze>(request.Node.Value, cancellationToken).ConfigureAwait(false);
        if (request.Freeze == current is not null)
            return new FreezeResult(FreezeOutcome.Unchanged, request.Freeze ? $"node {request.Node} is already {current!.Mark.Describe()}" : $"node {request.Node} is not frozen");
        var now = time.GetUtcNow();
        if (request.Freeze)
        {
            session.Store(new NodeFreeze(request.Node.Value, request.By, now, request.Reason));
            session.Events.Append(NodeFreezes.StreamId(request.Node), new NodeFrozen(request.Node.Value, request.By, request.Reason, now));
        }
        else
        {
            session.Delete<NodeFreeze>(request.Node.Value);
            session.Events.Append(NodeFreezes.StreamId(request.Node), new NodeThawed(request.Node.Value, request.By, request.Reason, now));
        }
        await session.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        return new FreezeResult(FreezeOutcome.Done, request.Freeze
            ? $"node {request.Node} frozen by {request.By}: the orchestrator starts no service there by itself (manual actions still run)"
            : $"node {request.Node} thawed by {request.By}");
    }
}
