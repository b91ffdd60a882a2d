namespace OpenSvc.Domain.Config;

/// <summary>Ships the images of the service's docker containers.</summary>
public sealed record DockerSync : SyncResource
{
    /// <summary>
    /// The catalog entry: before each send the target's own agent starts the service's private dockerd (when it has
    /// one). No keywords of its own; its <see cref="DstFs"/> is set once every fs is known (<c>ResourceContext.Finish</c>).
    /// </summary>
    public static DriverKind Kind { get; } = new DriverKind(DriverCatalog.SyncGroup, "docker", "sync.docker", ["docker"], Policy, PreparesTarget: true)
    {
        DrillFeeds = "container",
        Keywords = GroupKeywords,
    }.Builds(Build);

    /// <summary>The deepest fs mount holding the container data dir (path prefix), or null.</summary>
    public required string? DstFs { get; init; }

    static DockerSync Build(ResourceContext context, ConfigSection section, ResourceCommon c) =>
        Build(context, section, c, s => new DockerSync
        {
            Id = s.Id, Driver = s.Driver, Line = s.Line, Standby = s.Standby, Disabled = s.Disabled, Optional = s.Optional,
            Tags = s.Tags, Keywords = s.Keywords, TargetTokens = s.TargetTokens, Targets = s.Targets, Schedule = s.Schedule,
            SyncMaxDelaySeconds = s.SyncMaxDelaySeconds,
            DstFs = null, // set in Finish, once every fs is known
        });
}
