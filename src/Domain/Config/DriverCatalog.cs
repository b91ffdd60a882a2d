using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Config;

/// <summary>
/// One resource driver this agent implements: its section group, its type as the config spells it (<see cref="Type"/>
/// canonical, <see cref="WrittenTypes"/> every accepted spelling; null for fs, whose <c>type</c> keyword is the
/// filesystem's), the driver name steps and status lines carry, its default step policy, whether a sync's target
/// node must get ready before each send, and whether the resource lives in a container's network namespace (started
/// and stopped with that container); then the keywords it accepts beyond every resource's, and the builder of the typed
/// record its driver receives (<see cref="ResourceType"/>). Each entry stands next to its record (<c>Resource.&lt;Group&gt;&lt;Type&gt;.cs</c>).
/// </summary>
public sealed record DriverKind(string Group, string? Type, string Name, IReadOnlyList<string> WrittenTypes, StepPolicy Policy,
    bool PreparesTarget = false, bool InContainerNetns = false)
{
    public bool IsSync => Group == DriverCatalog.SyncGroup;

    /// <summary>The keywords of this type (a group's shared ones included), in the order validation and printing list them.</summary>
    public IReadOnlyList<Keyword> Keywords { get; init; } = [];

    /// <summary>
    /// A sync's drill copy is needed first by this group's drill start (sync.btrfs: its clone, by the fs that mount it;
    /// sync.docker: its images, by the containers); null: its drill start only checks, and nothing waits for it but the end.
    /// The drill starts every sync's copy at once and the start-order chain waits for each only where it is needed.
    /// </summary>
    public string? DrillFeeds { get; init; }

    /// <summary>The typed resource record the resolver builds and the driver receives.</summary>
    public Type ResourceType { get; private init; } = typeof(ServiceResource);

    /// <summary>Reads a section into the typed record, reporting what is wrong with it on this node.</summary>
    internal Func<ResourceContext, ConfigSection, ResourceCommon, ServiceResource>? Build { get; private init; }

    internal DriverKind Builds<T>(Func<ResourceContext, ConfigSection, ResourceCommon, T> build) where T : ServiceResource =>
        this with { ResourceType = typeof(T), Build = build };
}

/// <summary>
/// The drivers this agent implements, in one place: what validation accepts, what the resolver builds, how the
/// planner orders and times steps, and what the engine registers. Adding a resource type is one record file with its
/// entry (<c>Resource.&lt;Group&gt;&lt;Type&gt;.cs</c>), its line below, and one <c>Infrastructure/Drivers/&lt;Group&gt;.&lt;Type&gt;</c> folder.
/// </summary>
public static class DriverCatalog
{
    public const string SyncGroup = "sync";

    /// <summary>Every entry, in the order keywords are listed.</summary>
    public static IReadOnlyList<DriverKind> All { get; } =
        [FsResource.Kind, DockerContainer.Kind, DockerIp.Kind, DockerSync.Kind, BtrfsSync.Kind, RsyncSync.Kind];

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
