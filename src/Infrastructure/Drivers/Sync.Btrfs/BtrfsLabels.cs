namespace OpenSvc.Infrastructure.Drivers.Sync.Btrfs;

/// <summary>
/// The label of a mounted btrfs, read where the kernel publishes it (<c>/sys/fs/btrfs/&lt;fsid&gt;/label</c>, the filesystem's
/// devices under <c>devices/</c>) instead of spawning <c>btrfs filesystem label</c>: on a drill's way to its first
/// container, each spawn is milliseconds of the recovery time. A device the kernel lists under no mounted btrfs gives
/// null, and the caller asks <c>btrfs filesystem label</c> as before.
/// </summary>
public static class BtrfsLabels
{
    /// <summary>The label of the mounted btrfs <paramref name="dev"/> belongs to ("" when it has none), or null when not known here.</summary>
    public static string? OfMounted(string dev, string sysRoot = "/sys/fs/btrfs")
    {
        ArgumentNullException.ThrowIfNull(dev);
        try
        {
            // /dev/mapper/x and /dev/disk/by-*/y are links to the kernel's name (dm-0, sdb): sysfs lists devices by that name.
            var kernelName = Path.GetFileName(Fs.FsDriver.CanonicalDevice(dev));
            if (kernelName.Length == 0 || !Directory.Exists(sysRoot))
                return null;
            foreach (var fs in Directory.EnumerateDirectories(sysRoot))
            {
                if (!Path.Exists(Path.Combine(fs, "devices", kernelName)))
                    continue;
                var label = Path.Combine(fs, "label");
                return File.Exists(label) ? File.ReadAllText(label).TrimEnd('\n') : null;
            }
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
