using System.Security.Cryptography;
using System.Text;

namespace OpenSvc.Domain.Runs;

/// <summary>
/// A service's own stream: which mutating run holds it. Its version is the optimistic lock that lets
/// only one start/stop/switch/takeover/sync of a service be in flight at a time.
/// </summary>
public sealed record ServiceActivity(
    Guid Id, string Service, Guid? ActiveRun, Planning.ServiceAction? ActiveAction, DateTimeOffset? Since,
    int ConfigVersion = 0, string? ConfigText = null, string? ConfigHash = null, DateTimeOffset? ConfiguredAt = null, string? ConfiguredBy = null,
    bool Deleted = false, Guid? LastRun = null, Planning.ProtectionReversal? Reversal = null,
    FreezeMark? Frozen = null, IReadOnlyDictionary<string, FreezeMark>? FrozenNodes = null)
{
    public static ServiceActivity From(ServiceRunStarted e) => new(StreamId(e.Service), e.Service, e.RunId, e.Action, e.At);

    public static ServiceActivity From(ServiceConfigured e) => new ServiceActivity(StreamId(e.Service), e.Service, null, null, null).Then(e);

    /// <summary>A configured, not deleted service.</summary>
    public bool Exists => ConfigVersion > 0 && !Deleted;

    /// <summary>The service's own freeze or its instance's on <paramref name="node"/>, if any (the service's first).</summary>
    public FreezeMark? FrozenOn(NodeName node) => Frozen ?? (FrozenNodes is { } f && f.TryGetValue(node.Value, out var m) ? m : null);

    /// <summary>"v3 (1a2b3c4d5e6f)": what a run records as the config it was planned from.</summary>
    public string VersionLabel => $"v{ConfigVersion} ({ConfigHash})";

    public ServiceActivity Then(object @event) => @event switch
    {
        ServiceConfigured e => this with
        {
            ConfigVersion = e.Version, ConfigText = e.ConfigText, ConfigHash = e.ConfigHash, ConfiguredAt = e.At, ConfiguredBy = e.By, Deleted = false,
        },
        ServiceDeleted e => this with { Deleted = true, ConfiguredAt = e.At, ConfiguredBy = e.By },
        ServiceRunStarted e => this with { ActiveRun = e.RunId, ActiveAction = e.Action, Since = e.At },
        ServiceRunEnded e when e.RunId == ActiveRun => this with { ActiveRun = null, ActiveAction = null, Since = null, LastRun = e.RunId },
        ProtectionReversed e => this with { Reversal = new Planning.ProtectionReversal(e.From, e.To, e.At, e.RunId, e.By) },
        ProtectionRestored => this with { Reversal = null },
        ServiceFrozen { Node: null } e => this with { Frozen = new FreezeMark(e.By, e.At, e.Reason) },
        ServiceFrozen { Node: { } n } e => this with
        {
            FrozenNodes = new Dictionary<string, FreezeMark>(FrozenNodes ?? new Dictionary<string, FreezeMark>(), StringComparer.Ordinal) { [n.Value] = new FreezeMark(e.By, e.At, e.Reason) },
        },
        ServiceThawed { Node: null } => this with { Frozen = null },
        ServiceThawed { Node: { } n } => this with
        {
            FrozenNodes = (FrozenNodes ?? new Dictionary<string, FreezeMark>()).Where(f => f.Key != n.Value).ToDictionary(StringComparer.Ordinal),
        },
        _ => this,
    };

    /// <summary>A stable stream id per service name (name-based, so every agent derives the same one).</summary>
    public static Guid StreamId(string service)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("opensvc-service:" + service));
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x50); // version-5-like marker: name based
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }
}
