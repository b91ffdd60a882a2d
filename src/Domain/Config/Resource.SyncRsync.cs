namespace OpenSvc.Domain.Config;

/// <summary>Ships files with rsync.</summary>
public sealed record RsyncSync : SyncResource
{
    /// <summary>The catalog entry, its keywords (after every sync's), its builder.</summary>
    public static DriverKind Kind { get; } = new DriverKind(DriverCatalog.SyncGroup, "rsync", "sync.rsync", ["rsync"], Policy)
    {
        Keywords =
        [
            .. GroupKeywords,
            new("src", "sync", "rsync", ValueKind.List, Scopable: true, Inheritance: Inheritance.Leaf, Required: true),
            new("dst", "sync", "rsync", ValueKind.String, Scopable: true, Inheritance: Inheritance.Leaf, Required: true),
            new("dstfs", "sync", "rsync", ValueKind.String, Scopable: true, Inheritance: Inheritance.Leaf),
            new("options", "sync", "rsync", ValueKind.Shlex, Scopable: true, Inheritance: Inheritance.Leaf),
            new("reset_options", "sync", "rsync", ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Leaf, Default: "false"),
            new("snap", "sync", "rsync", ValueKind.Bool, Scopable: true, Inheritance: Inheritance.Leaf, Default: "false"),
            new("bwlimit", "sync", "rsync", ValueKind.Speed, Scopable: true),
            new("timeout", "sync", "rsync", ValueKind.Duration, Scopable: true, Inheritance: Inheritance.Leaf, Default: "3600"),
        ],
    }.Builds(Build);

    public required IReadOnlyList<string> Src { get; init; }
    public required string? Dst { get; init; }
    public required string? DstFs { get; init; }
    public required IReadOnlyList<string> Options { get; init; }
    public required bool ResetOptions { get; init; }

    /// <summary>The resource's bwlimit, else DEFAULT's (KB/s).</summary>
    public required long? BwLimitKbps { get; init; }

    public required bool Snap { get; init; }
    public required long TimeoutSeconds { get; init; }

    static RsyncSync Build(ResourceContext context, ConfigSection section, ResourceCommon c)
    {
        var src = context.Values.List(section, "src");
        var options = context.Values.Shlex(section, "options");
        CheckExcludes(context, section, src, options);
        if (RsyncTransport.Override(options) is { } transport)
            context.Values.Error(section, "options",
                $"'{ValueReader.Shorten(transport)}' would replace the agent's ssh transport (host keys checked against known_hosts, its key, batch mode) or the command run on the target",
                $"remove {ValueReader.Shorten(transport)}: the agent runs rsync over its own ssh settings (OPENSVC_SSH_KEY, OPENSVC_SSH_KNOWN_HOSTS, OPENSVC_SSH_USER)");
        var timeout = context.Values.Duration(section, "timeout") ?? 3600;
        return Build(context, section, c, s => new RsyncSync
        {
            Id = s.Id, Driver = s.Driver, Line = s.Line, Standby = s.Standby, Disabled = s.Disabled, Optional = s.Optional,
            Tags = s.Tags, Keywords = s.Keywords, TargetTokens = s.TargetTokens, Targets = s.Targets, Schedule = s.Schedule,
            SyncMaxDelaySeconds = s.SyncMaxDelaySeconds,
            Src = src,
            Dst = context.Values.String(section, "dst"),
            DstFs = context.Values.String(section, "dstfs"),
            Options = options,
            ResetOptions = context.Values.Bool(section, "reset_options") ?? false,
            BwLimitKbps = context.Values.Speed(section, "bwlimit"),
            Snap = context.Values.Bool(section, "snap") ?? false,
            TimeoutSeconds = timeout,
        });
    }

    static void CheckExcludes(ResourceContext context, ConfigSection section, IReadOnlyList<string> src, IReadOnlyList<string> options)
    {
        var entry = context.Values.Get(section, "options")?.Entry;
        for (var i = 0; i < options.Count; i++)
        {
            string? pattern = null;
            if (options[i].StartsWith("--exclude=", StringComparison.Ordinal))
                pattern = options[i]["--exclude=".Length..];
            else if (options[i] == "--exclude" && i + 1 < options.Count)
                pattern = options[i + 1];
            if (pattern is null)
                continue;
            foreach (var s in src)
            {
                var dir = s.TrimEnd('/');
                if (dir.Length == 0 || !pattern.StartsWith(dir + "/", StringComparison.Ordinal))
                    continue;
                var relative = s.EndsWith('/') ? pattern[dir.Length..] : "/" + ResourceContext.LastSegment(dir) + pattern[dir.Length..];
                context.Add(section, entry, "options", Severity.Warning,
                    $"exclude pattern '{pattern}' starts with the src path {s}: rsync anchors it at the transfer root, so it matches nothing",
                    $"--exclude={relative}");
            }
        }
    }
}
