using System.Text;
using OpenSvc.Infrastructure.Drivers.Fs;

namespace OpenSvc.Infrastructure.Drivers.Sync.Common;

/// <summary>
/// Parses /proc/self/mountinfo. Read locally it describes this node's mount namespace; read over SSH it
/// describes the target's (sshd runs in the node), which is the only trustworthy answer to "is it mounted there".
/// </summary>
public static class MountInfo
{
    public static IReadOnlyList<MountEntry> Parse(string text) => MountTable.Parse(text);

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
}
