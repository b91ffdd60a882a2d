using System.Text.RegularExpressions;

namespace OpenSvc.Domain.Config;

/// <summary>Where a keyword's value may come from when the section does not set it.</summary>
public enum Inheritance
{
    /// <summary>Only the section itself.</summary>
    Leaf,
    /// <summary>Only DEFAULT.</summary>
    Head,
    /// <summary>The section, then DEFAULT (OpenSVC's <c>leaf &gt; head</c>, the usual case).</summary>
    LeafThenHead,
}

/// <summary>How a keyword's text is converted.</summary>
public enum ValueKind
{
    String,
    /// <summary>Whitespace separated words (newlines count as whitespace).</summary>
    List,
    Bool,
    Int,
    /// <summary>A duration in seconds; a bare number counts seconds.</summary>
    Duration,
    /// <summary>A duration in seconds; a bare number counts minutes (<c>sync_max_delay</c>).</summary>
    DurationMinutes,
    /// <summary>A speed in KB/s (<c>3 mb/s</c> = 3072).</summary>
    Speed,
    /// <summary>Shell-like words (argv).</summary>
    Shlex,
}

/// <summary>
/// One keyword a section accepts. <see cref="Group"/> is <c>DEFAULT</c>, a resource group (<c>fs</c>), or
/// <c>*</c> for every resource section; <see cref="Type"/> narrows it to one driver type, null means every type.
/// </summary>
public sealed record Keyword(
    string Name,
    string Group,
    string? Type,
    ValueKind Kind,
    bool Scopable = false,
    Inheritance Inheritance = Inheritance.LeafThenHead,
    bool Required = false,
    string? Default = null,
    IReadOnlyList<string>? Aliases = null,
    IReadOnlyList<string>? Candidates = null,
    bool Lowercase = false,
    string? DefaultKeyword = null)
{
    public IReadOnlyList<string> DeprecatedAliases => Aliases ?? [];

    /// <summary>The name looked up in DEFAULT when the keyword inherits.</summary>
    public string HeadName => DefaultKeyword ?? Name;
}

/// <summary>A keyword that is recognised but no longer has any effect.</summary>
public sealed record RemovedKeyword(string Name, string Group, string? Type, string Reason, string Fix);

/// <summary>
/// The single source of truth on keywords: which sections accept them, scoping, inheritance,
/// requirement, default, converter, candidates and deprecated aliases. Used by the resolver and the validator.
/// DEFAULT's and every resource's are here; each resource type's come from its <see cref="DriverCatalog"/> entry.
/// </summary>
public static partial class KeywordTable
{
    public const string AnyResource = "*";
    const string D = ConfigDocument.DefaultSection;

    public static IReadOnlyList<Keyword> All { get; } =
    [
        // DEFAULT: topology and orchestration.
        new("nodes", D, null, ValueKind.List, Inheritance: Inheritance.Head),
        new("drpnodes", D, null, ValueKind.List, Inheritance: Inheritance.Head, Lowercase: true),
        new("drpnode", D, null, ValueKind.String, Inheritance: Inheritance.Head, Lowercase: true),
        new("encapnodes", D, null, ValueKind.List, Inheritance: Inheritance.Head),
        new("topology", D, null, ValueKind.String, Inheritance: Inheritance.Head, Default: "failover",
            Aliases: ["cluster_type"], Candidates: ["failover", "flex"]),
        new("flex_primary", D, null, ValueKind.String, Inheritance: Inheritance.Head, Lowercase: true),
        new("drp_flex_primary", D, null, ValueKind.String, Inheritance: Inheritance.Head, Lowercase: true),
        new("flex_min", D, null, ValueKind.Int, Inheritance: Inheritance.Head, Default: "1", Aliases: ["flex_min_nodes"]),
        new("flex_max", D, null, ValueKind.Int, Inheritance: Inheritance.Head, Aliases: ["flex_max_nodes"]),
        new("flex_target", D, null, ValueKind.Int, Inheritance: Inheritance.Head),
        new("orchestrate", D, null, ValueKind.String, Scopable: true, Inheritance: Inheritance.Head, Default: "no",
            Candidates: ["no", "start", "ha"]),
        // 2015: the nodes where the service starts by itself. Read as orchestrate = start on those nodes (a warning names the modern form).
        new("autostart_node", D, null, ValueKind.List, Inheritance: Inheritance.Head),
        new("placement", D, null, ValueKind.String, Inheritance: Inheritance.Head, Default: "nodes order",
            Candidates: ["none", "nodes order", "load avg", "shift", "spread", "score"]),
        new("rollback", D, null, ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Head, Default: "true"),
        // Set in DEFAULT, the whole service is disabled (OpenSVC): every resource reads as disabled, start and stop do nothing.
        new("disable", D, null, ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Head, Default: "false"),
        new("container_data_dir", D, null, ValueKind.String, Scopable: true, Inheritance: Inheritance.Head,
            Aliases: ["docker_data_dir"]),
        new("docker_daemon_private", D, null, ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Head),
        new("bwlimit", D, null, ValueKind.Speed, Scopable: true, Inheritance: Inheritance.Head),
        new("sync_schedule", D, null, ValueKind.String, Scopable: true, Inheritance: Inheritance.Head, Default: "04:00-06:00@121"),
        new("sync_max_delay", D, null, ValueKind.DurationMinutes, Scopable: true, Inheritance: Inheritance.Head, Default: "1d3h"),
        new("sync_interval", D, null, ValueKind.Int, Inheritance: Inheritance.Head, Default: "121"),
        new("presnap_trigger", D, null, ValueKind.Shlex, Scopable: true, Inheritance: Inheritance.Head),
        new("postsnap_trigger", D, null, ValueKind.Shlex, Scopable: true, Inheritance: Inheritance.Head),
        new("env", D, null, ValueKind.String, Inheritance: Inheritance.Head),
        new("app", D, null, ValueKind.String, Inheritance: Inheritance.Head),
        new("id", D, null, ValueKind.String, Inheritance: Inheritance.Head),
        new("comment", D, null, ValueKind.String, Inheritance: Inheritance.Head),

        // Every resource section.
        new("type", AnyResource, null, ValueKind.String, Inheritance: Inheritance.Leaf),
        new("tags", AnyResource, null, ValueKind.List, Inheritance: Inheritance.Leaf),
        new("subset", AnyResource, null, ValueKind.String, Inheritance: Inheritance.Leaf),
        new("disable", AnyResource, null, ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Leaf, Default: "false"),
        new("optional", AnyResource, null, ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Leaf),
        new("standby", AnyResource, null, ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Leaf),
        new("always_on", AnyResource, null, ValueKind.List, Inheritance: Inheritance.Leaf),
        new("restart", AnyResource, null, ValueKind.Int, Scopable: true, Inheritance: Inheritance.Leaf, Default: "0"),
        new("restart_delay", AnyResource, null, ValueKind.Duration, Scopable: true, Inheritance: Inheritance.Leaf),
        new("monitor", AnyResource, null, ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Leaf, Default: "false"),
        new("encap", AnyResource, null, ValueKind.Bool, Inheritance: Inheritance.Leaf, Default: "false"),
        new("shared", AnyResource, null, ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Leaf, Default: "false"),
        new("provision", AnyResource, null, ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Leaf, Default: "true"),
        new("comment", AnyResource, null, ValueKind.String, Inheritance: Inheritance.Leaf),

        // Each resource type's, from its catalog entry (a group's shared keywords once).
        .. DriverCatalog.All.SelectMany(kind => kind.Keywords).Distinct(),
    ];

    public static IReadOnlyList<RemovedKeyword> Removed { get; } =
    [
        new("exclude", "sync", "rsync", "ignored option (removed; excludes belong in options)", "options = --exclude=..."),
    ];

    /// <summary>Groups OpenSVC builds resources for, in build order.</summary>
    public static IReadOnlyList<string> ResourceGroups { get; } =
        ["volume", "container", "ip", "disk", "fs", "share", "app", "sync", "task"];

    /// <summary>Sections with free-form keys.</summary>
    public static IReadOnlyList<string> FreeFormSections { get; } = ["env", "labels", "data"];

    /// <summary>The <c>type</c> used when a section sets none. fs has none: it mounts without <c>-t</c>.</summary>
    public static string? DefaultType(string group) => group switch
    {
        "sync" => "rsync",
        "ip" => "host",
        // OpenSVC picks oci, then podman, then docker; docker is the only engine here.
        "container" => "docker",
        "app" => "forking",
        "disk" => "vg",
        "task" => "host",
        _ => null,
    };

    static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Group, string? Type), IReadOnlyList<Keyword>> ForCache = new();

    /// <summary>Keywords a section of this group and (canonical) type accepts; a group keyword hides a generic one of the same name.</summary>
    public static IReadOnlyList<Keyword> For(string group, string? type) =>
        group == D || (ResourceGroups.Contains(group) && (type is null || type.Length <= 32))
            ? ForCache.GetOrAdd((group, type), Compute)
            : Compute((group, type)); // do not grow the cache with arbitrary names from bad input

    static IReadOnlyList<Keyword> Compute((string Group, string? Type) key)
    {
        if (key.Group == D)
            return All.Where(k => k.Group == D).ToList();
        var specific = All.Where(k => k.Group == key.Group && (k.Type is null || k.Type == key.Type)).ToList();
        return specific
            .Concat(All.Where(k => k.Group == AnyResource && !specific.Any(o => o.Name == k.Name)))
            .ToList();
    }

    /// <summary>The keyword named <paramref name="name"/> (modern name) for a section.</summary>
    public static Keyword? Find(string group, string? type, string name) =>
        For(group, type).FirstOrDefault(k => k.Name == name);

    /// <summary>The keyword that has <paramref name="alias"/> as a deprecated alias.</summary>
    public static Keyword? FindByAlias(string group, string? type, string alias) =>
        For(group, type).FirstOrDefault(k => k.DeprecatedAliases.Contains(alias));

    public static RemovedKeyword? FindRemoved(string group, string? type, string name) =>
        Removed.FirstOrDefault(r => r.Name == name && r.Group == group && (r.Type is null || r.Type == type));

    /// <summary>Resource keywords that may be set in DEFAULT for every resource to inherit.</summary>
    public static Keyword? FindInheritableFromDefault(string name) =>
        All.FirstOrDefault(k => k.Group != D && k.Inheritance == Inheritance.LeafThenHead && k.HeadName == name);

    /// <summary>Trigger and requirement keywords (<c>pre_start</c>, <c>blocking_post_stop</c>, <c>start_requires</c>).</summary>
    public static bool IsHookKeyword(string name) => HookPattern().IsMatch(name);

    [GeneratedRegex("^((blocking_)?(pre|post)_[a-z_]+|[a-z_]+_requires)$")]
    private static partial Regex HookPattern();
}
