using OpenSvc.Domain.Config;

namespace OpenSvc.Infrastructure.Drivers.Fs;

/// <summary>
/// The fs driver's command lines: pure, argv elements only, table-tested. Config values that are operands come after
/// <c>--</c> (a <c>dev</c> of <c>-oremount,exec</c> is a device name to mount, not an option); fuser has no <c>--</c>, so
/// its mount point must be absolute.
/// </summary>
public static class FsCommands
{
    /// <summary><c>mount [-t type] [-o mnt_opt] -- dev mnt</c>; no type mounts without <c>-t</c> (seed compatibility).</summary>
    public static IReadOnlyList<string> Mount(FsResource fs)
    {
        var argv = new List<string> { "mount" };
        if (!string.IsNullOrWhiteSpace(fs.Type))
            argv.AddRange(["-t", fs.Type]);
        if (!string.IsNullOrWhiteSpace(fs.MntOpt))
            argv.AddRange(["-o", fs.MntOpt]);
        argv.Add("--");
        argv.Add(Required(fs.Dev, fs, "dev"));
        argv.Add(Required(fs.Mnt, fs, "mnt"));
        return argv;
    }

    public static IReadOnlyList<string> Umount(string mnt) => ["umount", "--", mnt];

    /// <summary>Registers the btrfs device so a multi-device or freshly attached filesystem mounts.</summary>
    public static IReadOnlyList<string> BtrfsDeviceScan(string dev) => ["btrfs", "device", "scan", "--", dev];

    /// <summary>Lists the processes using the filesystem mounted on <paramref name="mnt"/> (verbose table on stderr).</summary>
    public static IReadOnlyList<string> Fuser(string mnt) =>
        mnt.StartsWith('/') ? ["fuser", "-v", "-m", mnt] : throw new ArgumentException($"fuser needs an absolute mount point, not '{mnt}'", nameof(mnt));

    /// <summary>btrfs when declared, or when no type is declared and the options name a subvolume (the seed's form).</summary>
    public static bool IsBtrfs(FsResource fs) =>
        fs.Type == "btrfs" || (fs.Type is null && Subvolume(fs.MntOpt) is not null);

    /// <summary>The <c>subvol=</c> option, without leading slashes; null when absent.</summary>
    public static string? Subvolume(string? mntOpt)
    {
        if (mntOpt is null)
            return null;
        foreach (var opt in mntOpt.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            if (opt.StartsWith("subvol=", StringComparison.Ordinal))
                return opt["subvol=".Length..].Trim('/');
        return null;
    }

    static string Required(string? value, FsResource fs, string keyword) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"{fs.Id}: {keyword} is not set") : value;
}
