namespace OpenSvc.Domain.Config;

/// <summary>What every resource carries once resolved for a node.</summary>
public abstract record ServiceResource
{
    public required ResourceId Id { get; init; }

    /// <summary>"fs", "container.docker", "ip.docker", "sync.docker", "sync.btrfs" or "sync.rsync".</summary>
    public required string Driver { get; init; }

    /// <summary>Line of the section header, for messages.</summary>
    public required int Line { get; init; }

    public required bool Standby { get; init; }
    public required bool Disabled { get; init; }
    public required bool Optional { get; init; }
    public required IReadOnlyList<string> Tags { get; init; }

    /// <summary>Every keyword of the driver that has a value on this node, references expanded, by name.</summary>
    public required IReadOnlyDictionary<string, string> Keywords { get; init; }
}

/// <summary>A filesystem. <see cref="Type"/> null mounts without <c>-t</c>; <see cref="Dev"/> null means not buildable here.</summary>
public sealed record FsResource : ServiceResource
{
    public required string? Type { get; init; }
    public required string? Dev { get; init; }
    public required string? Mnt { get; init; }
    public required string? MntOpt { get; init; }
}

/// <summary>A docker container.</summary>
public sealed record DockerContainer : ServiceResource
{
    public required string? Image { get; init; }
    public required IReadOnlyList<string> Command { get; init; }
    public required IReadOnlyList<string> RunArgs { get; init; }

    /// <summary>The container name: the <c>name</c> keyword, else <c>&lt;svc&gt;.container.&lt;index&gt;</c>.</summary>
    public required string Name { get; init; }

    public required string? Hostname { get; init; }

    /// <summary>The <c>netns</c> keyword as written: a container rid, <c>host</c>, or null.</summary>
    public required string? NetNs { get; init; }

    /// <summary>
    /// The network argument the agent adds: <c>--net=container:&lt;name&gt;</c>, <c>--net=host</c>,
    /// <c>--net=none</c>, or null when <see cref="RunArgs"/> already chooses the network.
    /// </summary>
    public required string? NetworkArg { get; init; }

    /// <summary>The network that takes effect (<see cref="NetworkArg"/>, else the one in <see cref="RunArgs"/>).</summary>
    public required string? EffectiveNetwork { get; init; }

    /// <summary>The container of this service whose network this one joins, if any.</summary>
    public required ResourceId? JoinsNetworkOf { get; init; }

    /// <summary>What run_args, environment and volume_mounts ask of docker run, with what this agent refuses.</summary>
    public required DockerRunOptions RunOptions { get; init; }

    public required bool Rm { get; init; }
    public required bool Detach { get; init; }
}

/// <summary>An ip configured inside a container's network namespace (ip type <c>netns</c>, alias <c>docker</c>).</summary>
public sealed record DockerIp : ServiceResource
{
    public required string? IpName { get; init; }
    public required string? IpDev { get; init; }
    public required string? Netmask { get; init; }
    public required string? Gateway { get; init; }

    /// <summary>The container rid whose namespace holds the ip.</summary>
    public required string? NetNs { get; init; }

    public required string Mode { get; init; }
}

/// <summary>What every sync driver carries.</summary>
public abstract record SyncResource : ServiceResource
{
    /// <summary>The target tokens as written (valid or not).</summary>
    public required IReadOnlyList<string> TargetTokens { get; init; }

    /// <summary><c>nodes</c>/<c>drpnodes</c> expanded to node names. The sending node is not removed here.</summary>
    public required IReadOnlyList<NodeName> Targets { get; init; }

    /// <summary>The effective schedule: <c>schedule</c>, else an explicit DEFAULT.sync_schedule, else <c>~04:00-06:00</c>.</summary>
    public required string Schedule { get; init; }

    public required long SyncMaxDelaySeconds { get; init; }
}

/// <summary>Ships the images of the service's docker containers.</summary>
public sealed record DockerSync : SyncResource
{
    /// <summary>The deepest fs mount holding the container data dir (path prefix), or null.</summary>
    public required string? DstFs { get; init; }
}

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
    public required BtrfsVolume? Src { get; init; }
    public required BtrfsVolume? Dst { get; init; }
    public required bool Recursive { get; init; }
}

/// <summary>Ships files with rsync.</summary>
public sealed record RsyncSync : SyncResource
{
    public required IReadOnlyList<string> Src { get; init; }
    public required string? Dst { get; init; }
    public required string? DstFs { get; init; }
    public required IReadOnlyList<string> Options { get; init; }
    public required bool ResetOptions { get; init; }

    /// <summary>The resource's bwlimit, else DEFAULT's (KB/s).</summary>
    public required long? BwLimitKbps { get; init; }

    public required bool Snap { get; init; }
    public required long TimeoutSeconds { get; init; }
}
