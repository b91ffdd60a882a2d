namespace OpenSvc.Domain.Planning;

/// <summary>
/// The direction of a service's protection while it is reversed: after a takeover onto the DR node <see cref="From"/>,
/// a reprotect run (<see cref="RunId"/>) made it the sender and <see cref="To"/> (the preferred primary) the receiver.
/// Recorded on the service's stream, it holds until a giveback restores the normal direction.
/// "A DR node never sends over production" is the rule this explicit, audited change lifts for that one pair.
/// </summary>
public sealed record ProtectionReversal(NodeName From, IReadOnlyList<NodeName> To, DateTimeOffset Since, Guid RunId, string By)
{
    /// <summary>"n3 → n1".</summary>
    public string Direction => $"{From} → {string.Join(", ", To)}";
}
