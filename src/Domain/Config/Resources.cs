namespace OpenSvc.Domain.Config;

/// <summary>What every resource carries once resolved for a node.</summary>
public abstract record ServiceResource
{
    public required ResourceId Id { get; init; }

    /// <summary>The name of its catalog entry (<see cref="DriverKind.Name"/>): "fs", "container.docker", "sync.rsync", ...</summary>
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

