using System.Runtime.InteropServices;

namespace OpenSvc.Infrastructure.Execution;

/// <summary>
/// The system call a drill makes on its way to its first container by itself rather than through a process it spawns
/// (<c>btrfs subvolume snapshot</c>): each spawn is milliseconds of the drill's recovery time, and the tool adds nothing to
/// the one ioctl it makes. Paths are arguments of the call, never parsed as options. Linux only; a failure throws
/// <see cref="IOException"/> with the system's message.
/// <para>
/// The clone's bind mount stays <c>mount --bind --make-private</c>: made by the agent's own mount(2) calls, the same two
/// calls, it left the clone's deleted subvolume uncleaned after drill-cleanup on the lab (btrfs subvolume sync waited
/// past 3 minutes, twice in two bench runs; never with mount(8)), for a reason not found yet.
/// </para>
/// </summary>
public static partial class LinuxCalls
{
    const int ORdOnlyCloExec = 0x80000; // O_RDONLY | O_CLOEXEC: the same values on every Linux architecture .NET runs on

    /// <summary>_IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2): the struct is 4096 bytes (fd, transid, flags, 4 x u64, name[4040]).</summary>
    const nuint BtrfsIocSnapCreateV2 = 0x50009417;
    const int VolArgsV2Size = 4096;
    const int VolArgsV2NameOffset = 56;
    const int SubvolNameMax = 4039;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, byte[] argument);

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
