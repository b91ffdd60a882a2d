using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain.Config;

/// <summary>A filesystem. <see cref="Type"/> null mounts without <c>-t</c>; <see cref="Dev"/> null means not buildable here.</summary>
public sealed record FsResource : ServiceResource
{
    /// <summary>The catalog entry: no type (the <c>type</c> keyword is the filesystem's), its keywords, its builder.</summary>
    public static DriverKind Kind { get; } = new DriverKind("fs", null, "fs", [], new StepPolicy(TimeSpan.FromMinutes(2), 3, TimeSpan.FromSeconds(5)))
    {
        Keywords =
        [
            new("dev", "fs", null, ValueKind.String, Scopable: true, Required: true),
            new("mnt", "fs", null, ValueKind.String, Scopable: true, Required: true),
            new("mnt_opt", "fs", null, ValueKind.String, Scopable: true),
            new("stat_timeout", "fs", null, ValueKind.Duration, Scopable: true, Default: "5"),
            new("snap_size", "fs", null, ValueKind.Int, Scopable: true),
            new("user", "fs", null, ValueKind.String, Scopable: true),
            new("group", "fs", null, ValueKind.String, Scopable: true),
            new("perm", "fs", null, ValueKind.String, Scopable: true),
        ],
    }.Builds(Build);

    public required string? Type { get; init; }
    public required string? Dev { get; init; }
    public required string? Mnt { get; init; }
    public required string? MntOpt { get; init; }

    static FsResource Build(ResourceContext context, ConfigSection section, ResourceCommon c)
    {
        var type = context.Values.String(section, "type");
        var mntOpt = context.Values.String(section, "mnt_opt");
        if (type is null)
        {
            var guess = mntOpt?.Contains("subvol=", StringComparison.Ordinal) == true ? "btrfs" : "<fs type>";
            context.Add(section, null, "type", Severity.Warning,
                "no type: the filesystem is mounted without -t (the kernel guesses the type)", $"add type = {guess}");
        }
        return new FsResource
        {
            Id = c.Id, Driver = c.Driver, Line = c.Line, Standby = c.Standby, Disabled = c.Disabled, Optional = c.Optional,
            Tags = c.Tags, Keywords = c.Keywords,
            Type = type,
            Dev = context.Values.String(section, "dev"),
            Mnt = ExpandedMountPoint(context, section),
            MntOpt = mntOpt,
        };
    }

    /// <summary>
    /// The mount point on this node. A value written as is was checked by the document check
    /// (<see cref="ConfigValidator"/>); one written with references (<c>mnt = {env.base}/data</c>) can only be checked
    /// once expanded, here: it must be an absolute path too (a relative one lands in the agent's working directory, one
    /// starting with '-' would reach mount as an option).
    /// </summary>
    static string? ExpandedMountPoint(ResourceContext context, ConfigSection section)
    {
        var read = context.Values.Get(section, "mnt");
        var mnt = ResourceContext.NullIfBlank(read?.Value);
        if (mnt is null || read!.Entry is not { } entry || !entry.Value.Contains('{') || read.Unresolved.Count > 0 || mnt.StartsWith('/'))
            return mnt is null ? null : read!.Value;
        var written = entry.Value.Trim();
        context.Values.Error(section, "mnt",
            $"mount point '{ValueReader.Shorten(written)}' expands to '{ValueReader.Shorten(mnt)}', which is not an absolute path"
            + (mnt.StartsWith('-') ? " (mount would read it as an option)" : ""),
            $"{entry.Key} = /{written.TrimStart('.', '/', '-')}, or make the references expand to an absolute path");
        return read.Value;
    }
}
