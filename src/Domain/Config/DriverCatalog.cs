using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Config;

/// <summary>
/// One resource driver this agent implements: its section group, its type as the config spells it (<see cref="Type"/>
/// canonical, <see cref="WrittenTypes"/> every accepted spelling; null for fs, whose <c>type</c> keyword is the
/// filesystem's), the driver name steps and status lines carry, its default step policy, whether a sync's target
/// node must get ready before each send, and whether the resource lives in a container's network namespace (started
/// and stopped with that container). Keywords each driver accepts are in <see cref="KeywordTable"/>, by group and type.
/// </summary>
public sealed record DriverKind(string Group, string? Type, string Name, IReadOnlyList<string> WrittenTypes, StepPolicy Policy,
    bool PreparesTarget = false, bool InContainerNetns = false)
{
    public bool IsSync => Group == DriverCatalog.SyncGroup;
}

/// <summary>
/// The drivers this agent implements, in one place: what validation accepts, what the resolver builds, how the
/// planner orders and times steps, and what the engine registers (adding a resource type is one entry here, its
/// keywords in <see cref="KeywordTable"/>, its resource record, and one <c>Infrastructure/Drivers/&lt;Group&gt;.&lt;Type&gt;</c> folder).
/// </summary>
public static class DriverCatalog
{
    public const string SyncGroup = "sync";

    static readonly StepPolicy Quick = new(TimeSpan.FromMinutes(1), 3, TimeSpan.FromSeconds(2));

    public static IReadOnlyList<DriverKind> All { get; } =
    [
        new("fs", null, "fs", [], new StepPolicy(TimeSpan.FromMinutes(2), 3, TimeSpan.FromSeconds(5))),
        new("container", "docker", "container.docker", ["docker", "oci"], new StepPolicy(TimeSpan.FromMinutes(5), 3, TimeSpan.FromSeconds(10))),
        // An ip in a container's network namespace: OpenSVC's ip type "netns", written "docker" in most configs.
        new("ip", "netns", "ip.docker", ["docker", "netns"], Quick, InContainerNetns: true),
        // Before each send the target's own agent starts the service's private dockerd (when it has one).
        new(SyncGroup, "docker", "sync.docker", ["docker"], SyncPolicy, PreparesTarget: true),
        new(SyncGroup, "btrfs", "sync.btrfs", ["btrfs"], SyncPolicy),
        new(SyncGroup, "rsync", "sync.rsync", ["rsync"], SyncPolicy),
    ];

    /// <summary>A sync moves data and may take hours.</summary>
    static StepPolicy SyncPolicy => new(TimeSpan.FromHours(4), 2, TimeSpan.FromMinutes(1));

    /// <summary>Getting a sync target ready (a private dockerd start): quick or not at all.</summary>
    public static StepPolicy PrepareReceivePolicy { get; } = new(TimeSpan.FromMinutes(2), 2, TimeSpan.FromSeconds(5));

    /// <summary>
    /// OpenSVC's start order of resource groups (stop is its reverse): ip (host) → volume → disk → fs → share →
    /// container (each followed by the ips of its network namespace) → app → task. Sync resources take no part.
    /// </summary>
    public static IReadOnlyList<string> StartOrder { get; } = ["ip", "volume", "disk", "fs", "share", "container", "app", "task"];

    /// <summary>The driver of a section's group and canonical type, or null when this agent has none.</summary>
    public static DriverKind? Find(string group, string? canonicalType) =>
        All.FirstOrDefault(d => d.Group == group && (d.Type is null || d.Type == canonicalType));

    /// <summary>The driver named <paramref name="name"/> (<c>fs</c>, <c>sync.btrfs</c>), or null.</summary>
    public static DriverKind? Named(string name) => All.FirstOrDefault(d => d.Name == name);

    /// <summary>The canonical type of a spelling this agent accepts (<c>ip</c> type <c>docker</c> is <c>netns</c>), else the spelling.</summary>
    public static string? Canonical(string group, string? written) =>
        All.FirstOrDefault(d => d.Group == group && d.Type is not null && written is not null && d.WrittenTypes.Contains(written))?.Type ?? written;

    /// <summary>The types a config may write for a group (empty: any, or no driver of that group).</summary>
    public static IReadOnlyList<string> WritableTypes(string group) =>
        All.Where(d => d.Group == group).SelectMany(d => d.WrittenTypes.Take(1)).ToList();

    public static bool HasGroup(string group) => All.Any(d => d.Group == group);

    /// <summary>The default step policy of a driver; <see cref="StepPolicy.Default"/> for a name this agent does not know.</summary>
    public static StepPolicy PolicyOf(string driverName) => Named(driverName)?.Policy ?? StepPolicy.Default;

    /// <summary>Where a group's resources go in a start (-1: not started by start/stop).</summary>
    public static int StartRank(string group)
    {
        for (var i = 0; i < StartOrder.Count; i++)
            if (StartOrder[i] == group)
                return i;
        return -1;
    }
}
