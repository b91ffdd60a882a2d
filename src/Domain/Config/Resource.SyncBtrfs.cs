namespace OpenSvc.Domain.Config;

/// <summary>A btrfs subvolume location: <c>LABEL:subvol</c>.</summary>
public readonly record struct BtrfsVolume(string Label, string Subvolume)
{
    public static bool TryParse(string? text, out BtrfsVolume volume)
    {
        volume = default;
        var colon = text?.IndexOf(':') ?? -1;
        if (text is null || colon <= 0 || colon == text.Length - 1)
            return false;
        volume = new BtrfsVolume(text[..colon], text[(colon + 1)..]);
        return true;
    }

    /// <summary>
    /// Why the sync driver refuses this location, or null when it does not. The driver mounts the label's top level at
    /// <c>&lt;var&gt;/btrfs/LABEL</c> and works in <c>LABEL's top level/subvol</c>: a label that is '.', '..' or holds a
    /// '/', a subvolume path that is empty (the top level itself), has an empty, '.' or '..' segment, or reaches into the
    /// agent's own <c>.osync</c> work dirs would act outside the subvolume the config names. Validation reports it at the
    /// keyword's line; the driver checks it again before acting.
    /// </summary>
    public string? Refusal
    {
        get
        {
            if (Label is "." or ".." || Label.Contains('/', StringComparison.Ordinal) || Label.Contains('\0', StringComparison.Ordinal))
                return $"the label '{Label}' would name a directory outside the agent's btrfs mounts ('.', '..', '/' are not allowed in a label)";
            var trimmed = Subvolume.Trim('/');
            if (trimmed.Length == 0)
                return "the subvolume path is empty: it would name the filesystem's top level itself";
            foreach (var part in trimmed.Split('/'))
            {
                if (part.Length == 0)
                    return $"the subvolume path '{Subvolume}' has an empty segment ('//')";
                if (part is "." or "..")
                    return $"the subvolume path '{Subvolume}' has a '{part}' segment: it must name a subvolume inside the filesystem, without '.' or '..'";
                if (part.StartsWith(".osync", StringComparison.Ordinal))
                    return $"the subvolume path '{Subvolume}' reaches into {part}, where the agent keeps its sync snapshots";
            }
            return null;
        }
    }

    public override string ToString() => $"{Label}:{Subvolume}";
}

/// <summary>Ships btrfs subvolumes by snapshot send/receive.</summary>
public sealed record BtrfsSync : SyncResource
{
    /// <summary>The catalog entry, its keywords (after every sync's), its builder.</summary>
    public static DriverKind Kind { get; } = new DriverKind(DriverCatalog.SyncGroup, "btrfs", "sync.btrfs", ["btrfs"], Policy)
    {
        DrillFeeds = "fs",
        Keywords =
        [
            .. GroupKeywords,
            new("src", "sync", "btrfs", ValueKind.String, Scopable: true, Inheritance: Inheritance.Leaf, Required: true),
            new("dst", "sync", "btrfs", ValueKind.String, Scopable: true, Inheritance: Inheritance.Leaf, Required: true),
            new("recursive", "sync", "btrfs", ValueKind.Bool, Scopable: true, Default: "false"),
        ],
    }.Builds(Build);

    public required BtrfsVolume? Src { get; init; }
    public required BtrfsVolume? Dst { get; init; }
    public required bool Recursive { get; init; }

    static BtrfsSync Build(ResourceContext context, ConfigSection section, ResourceCommon c)
    {
        BtrfsVolume? Volume(string name)
        {
            var read = context.Values.Get(section, name);
            if (read is null || string.IsNullOrWhiteSpace(read.Value))
                return null;
            if (BtrfsVolume.TryParse(read.Value.Trim(), out var volume))
            {
                if (volume.Refusal is not { } refusal)
                    return volume;
                context.Add(section, read.Entry, name, Severity.Error, $"'{ValueReader.Shorten(read.Value.Trim())}' is refused: {refusal}",
                    $"write {name} = <fs label>:<subvolume path inside the filesystem>, e.g. {name} = {ValueReader.Shorten(volume.Label)}:data");
                return null;
            }
            context.Add(section, read.Entry, name, Severity.Error,
                $"'{ValueReader.Shorten(read.Value)}' is not LABEL:subvol (malformed {name} value)",
                $"write {name} = <fs label>:<subvolume path>, e.g. {name} = svc1:data");
            return null;
        }
        var src = Volume("src");
        var dst = Volume("dst");
        var recursive = context.Values.Bool(section, "recursive") ?? false;
        return Build(context, section, c, s => new BtrfsSync
        {
            Id = s.Id, Driver = s.Driver, Line = s.Line, Standby = s.Standby, Disabled = s.Disabled, Optional = s.Optional,
            Tags = s.Tags, Keywords = s.Keywords, TargetTokens = s.TargetTokens, Targets = s.Targets, Schedule = s.Schedule,
            SyncMaxDelaySeconds = s.SyncMaxDelaySeconds,
            Src = src,
            Dst = dst,
            Recursive = recursive,
        });
    }
}
