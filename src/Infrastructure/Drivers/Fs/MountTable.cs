using System.Text;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;

namespace OpenSvc.Infrastructure.Drivers.Fs;

/// <summary>One line of <c>/proc/self/mountinfo</c>.</summary>
public sealed record MountEntry(string Root, string MountPoint, string Options, string FsType, string Source, string SuperOptions)
{
    public bool ReadOnly => Options.Split(',').Contains("ro");
}

/// <summary>
/// Parses <c>/proc/self/mountinfo</c> and answers questions on it: pure, table-tested. Read locally it describes this
/// node's mount namespace; read over SSH it describes a target's (sshd runs in the node), the only trustworthy answer
/// to "is it mounted there". The one mountinfo parser of the agent.
/// </summary>
public static class MountTable
{
    /// <summary>Parses <c>/proc/PID/mountinfo</c> (proc(5)): fields, optional fields up to "-", octal escapes.</summary>
    public static IReadOnlyList<MountEntry> Parse(string text)
    {
        var entries = new List<MountEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ');
            var dash = Array.IndexOf(f, "-", 6);
            if (f.Length < 7 || dash < 0 || dash + 2 >= f.Length)
                continue;
            entries.Add(new MountEntry(
                Root: Unescape(f[3]), MountPoint: Unescape(f[4]), Options: f[5],
                FsType: f[dash + 1], Source: Unescape(f[dash + 2]), SuperOptions: dash + 3 < f.Length ? f[dash + 3] : ""));
        }
        return entries;
    }

    /// <summary>
    /// The state of <paramref name="fs"/>: up when its mount point's topmost mount comes from its dev (and subvol),
    /// warn when something else is mounted there or it is read-only, down when nothing is.
    /// <paramref name="canonical"/> resolves device symlinks (/dev/mapper/x → /dev/dm-0) on both sides.
    /// </summary>
    public static (Status Status, string Message, MountEntry? Entry) Evaluate(FsResource fs, IReadOnlyList<MountEntry> table, Func<string, string> canonical)
    {
        var (status, message, top) = Holds(fs, table, canonical);
        if (status != Status.Up)
            return (status, message, top);
        if (top!.ReadOnly && !(fs.MntOpt ?? "").Split(',').Contains("ro"))
            return (Status.Warn, $"{Normalize(fs.Mnt!)} is mounted read-only", top);
        return (status, message, top);
    }

    /// <summary>Whether <paramref name="fs"/>'s own filesystem (its dev, its subvolume) is what is mounted on its mount point, read-only or not.</summary>
    public static (Status Status, string Message, MountEntry? Entry) Holds(FsResource fs, IReadOnlyList<MountEntry> table, Func<string, string> canonical)
    {
        var mnt = Normalize(fs.Mnt!);
        var top = At(table, mnt);
        if (top is null)
            return (Status.Down, $"{mnt} is not mounted", null);
        var dev = fs.Dev is null ? null : canonical(fs.Dev);
        if (dev is null || canonical(top.Source) != dev)
            return (Status.Warn, $"{mnt} is mounted from {top.Source}, not {fs.Dev ?? "(no dev)"}", top);
        var subvol = FsCommands.Subvolume(fs.MntOpt);
        if (subvol is not null && top.FsType == "btrfs" && top.Root.Trim('/') != subvol)
            return (Status.Warn, $"{mnt} is mounted from {top.Source} subvolume {top.Root}, not {subvol}", top);
        return (Status.Up, $"{fs.Dev} mounted on {mnt}", top);
    }

    /// <summary>The topmost mount at exactly <paramref name="path"/> (trailing slashes ignored), or null.</summary>
    public static MountEntry? At(IReadOnlyList<MountEntry> mounts, string path)
    {
        var wanted = Normalize(path);
        return mounts.LastOrDefault(m => Normalize(m.MountPoint) == wanted);
    }

    /// <summary>A path as mountinfo writes it (space, tab, newline and backslash as \ooo octal), to compare with its fields in a script.</summary>
    public static string Escape(string path)
    {
        var sb = new StringBuilder(path.Length);
        foreach (var c in path)
        {
            if (c is ' ' or '\t' or '\n' or '\\')
                sb.Append('\\').Append(Convert.ToString(c, 8).PadLeft(3, '0'));
            else
                sb.Append(c);
        }
        return sb.ToString();
    }

    static string Normalize(string path) => path.Length > 1 ? path.TrimEnd('/') : path;

    static string Unescape(string field)
    {
        if (!field.Contains('\\'))
            return field;
        var sb = new StringBuilder();
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && field.Substring(i + 1, 3).All(c => c is >= '0' and <= '7'))
            {
                sb.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(field[i]);
            }
        }
        return sb.ToString();
    }
}
