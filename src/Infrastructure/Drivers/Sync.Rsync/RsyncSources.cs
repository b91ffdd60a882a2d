using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers.Fs;

namespace OpenSvc.Infrastructure.Drivers.Sync.Rsync;

/// <summary>
/// Whether a source may be sent. rsync with <c>--delete</c> (OpenSVC's default) makes the copy look like the source: a
/// source whose filesystem is not mounted (an empty directory on the parent filesystem) or a freshly mounted empty
/// filesystem would empty the DR copy. So a source inside one of the service's fs resources must be on that resource's
/// own filesystem, mounted from its dev; and with --delete, a source that is an empty mount point is refused. Pure.
/// </summary>
public static class RsyncSources
{
    /// <summary>True when the transfer deletes on the target what the source lacks: the defaults, or any --del* option.</summary>
    public static bool Deletes(RsyncSync sync) =>
        !sync.ResetOptions || sync.Options.Any(o => o.StartsWith("--del", StringComparison.Ordinal));

    /// <param name="source">The src path as configured (a trailing slash is ignored here).</param>
    /// <param name="fs">The service's fs resources on this node.</param>
    /// <param name="mounts">This node's mountinfo.</param>
    /// <param name="canonical">Device symlinks resolved (<see cref="FsDriver.CanonicalDevice"/>).</param>
    /// <param name="isEmptyDirectory">True for a directory holding nothing but lost+found.</param>
    public static string? Problem(string source, bool deletes, IEnumerable<FsResource> fs, IReadOnlyList<MountEntry> mounts,
        Func<string, string> canonical, Func<string, bool> isEmptyDirectory)
    {
        var path = source.Length > 1 ? source.TrimEnd('/') : source;
        var owner = fs.Where(f => !f.Disabled && f.Mnt is not null && PosixPath.IsUnder(path, f.Mnt))
            .OrderByDescending(f => PosixPath.Depth(f.Mnt!)).FirstOrDefault();
        if (owner is not null)
        {
            var (status, message, _) = MountTable.Holds(owner, mounts, canonical);
            if (status != Status.Up)
                return $"src {source} belongs on {owner.Id}'s filesystem, but {message}: sending it would {(deletes ? "empty or replace" : "overwrite")} the copy with what lies beneath; start {owner.Id} first";
        }
        var mountPoint = mounts.Where(m => PosixPath.IsUnder(path, m.MountPoint)).MaxBy(m => PosixPath.Depth(m.MountPoint));
        var isMountPoint = mountPoint is not null && (mountPoint.MountPoint.Length > 1 ? mountPoint.MountPoint.TrimEnd('/') : mountPoint.MountPoint) == path;
        if (deletes && (isMountPoint || owner?.Mnt?.TrimEnd('/') == path) && isEmptyDirectory(path))
            return $"src {source} is an empty filesystem ({mountPoint?.Source} mounted there): with --delete the copy would be emptied; " +
                   "check that the right device is mounted, or sync once without --delete (reset_options) if it is truly empty";
        return null;
    }

    /// <summary>A directory with nothing in it but lost+found (what mkfs leaves).</summary>
    public static bool IsEmptyDirectory(string path) =>
        Directory.Exists(path) && !Directory.EnumerateFileSystemEntries(path).Any(e => Path.GetFileName(e) != "lost+found");
}
