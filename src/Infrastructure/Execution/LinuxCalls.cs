using System.Runtime.InteropServices;

namespace OpenSvc.Infrastructure.Execution;

/// <summary>
/// The few system calls a drill makes on its way to its first container, made by the agent itself rather than by a
/// process it spawns (<c>mount --bind</c>, <c>btrfs subvolume snapshot</c>): each spawn is milliseconds of the drill's
/// recovery time, and these tools add nothing to the one call they make. Paths are arguments of the call, never parsed
/// as options. Linux only; a failure throws <see cref="IOException"/> with the system's message.
/// </summary>
public static partial class LinuxCalls
{
    const nuint MsBind = 0x1000;
    const nuint MsPrivate = 0x40000;
    const int MntDetach = 2;
    const int ORdOnlyCloExec = 0x80000; // O_RDONLY | O_CLOEXEC: the same values on every Linux architecture .NET runs on

    /// <summary>_IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2): the struct is 4096 bytes (fd, transid, flags, 4 x u64, name[4040]).</summary>
    const nuint BtrfsIocSnapCreateV2 = 0x50009417;
    const int VolArgsV2Size = 4096;
    const int VolArgsV2NameOffset = 56;
    const int SubvolNameMax = 4039;

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Mount(string? source, string target, string? fsType, nuint flags, nint data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, byte[] argument);

    /// <summary>
    /// <c>mount --bind --make-private SOURCE TARGET</c> as its two calls: the bind, then the private propagation (so
    /// nothing mounted under the drill's view propagates back). If the second call fails the bind is undone.
    /// </summary>
    public static void BindPrivate(string source, string target)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(target);
        if (Mount(source, target, null, MsBind, 0) != 0)
            throw new IOException($"mount --bind {source} {target}: {Marshal.GetLastPInvokeErrorMessage()}");
        if (Mount(null, target, null, MsPrivate, 0) != 0)
        {
            var error = Marshal.GetLastPInvokeErrorMessage();
            _ = Umount2(target, MntDetach);
            throw new IOException($"mount --make-private {target}: {error} (the bind was undone)");
        }
    }

    /// <summary>
    /// <c>btrfs subvolume snapshot SOURCE DESTINATION</c> (writable): the BTRFS_IOC_SNAP_CREATE_V2 ioctl on the
    /// destination's parent directory, which returns once the transaction that creates the snapshot is committed.
    /// </summary>
    public static void BtrfsSnapshot(string source, string destination)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        var parent = Path.GetDirectoryName(destination.TrimEnd('/'));
        var name = Path.GetFileName(destination.TrimEnd('/'));
        var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        if (string.IsNullOrEmpty(parent) || nameBytes.Length == 0 || nameBytes.Length > SubvolNameMax || name is "." or "..")
            throw new IOException($"btrfs snapshot {source} {destination}: not a name a subvolume can take");
        var src = Open(source, ORdOnlyCloExec);
        if (src < 0)
            throw new IOException($"btrfs snapshot: cannot open {source}: {Marshal.GetLastPInvokeErrorMessage()}");
        try
        {
            var dir = Open(parent, ORdOnlyCloExec);
            if (dir < 0)
                throw new IOException($"btrfs snapshot: cannot open {parent}: {Marshal.GetLastPInvokeErrorMessage()}");
            try
            {
                var args = new byte[VolArgsV2Size];
                BitConverter.TryWriteBytes(args.AsSpan(0, 8), (long)src);
                nameBytes.CopyTo(args, VolArgsV2NameOffset);
                if (Ioctl(dir, BtrfsIocSnapCreateV2, args) != 0)
                    throw new IOException($"btrfs snapshot {source} {destination}: {Marshal.GetLastPInvokeErrorMessage()}");
            }
            finally
            {
                _ = Close(dir);
            }
        }
        finally
        {
            _ = Close(src);
        }
    }
}
