using System.Text;

namespace OpenSvc.Infrastructure.Drivers.Sync.Common;

/// <summary>One line of /proc/self/mountinfo: what is mounted where, in the reading process's mount namespace.</summary>
public sealed record MountEntry(string Root, string MountPoint, string FsType, string Source, string SuperOptions);

/// <summary>
/// Parses /proc/self/mountinfo. Read locally it describes this node's mount namespace; read over SSH it
/// describes the target's (sshd runs in the node), which is the only trustworthy answer to "is it mounted there".
/// </summary>
public static class MountInfo
{
    public static IReadOnlyList<MountEntry> Parse(string text)
    {
        var result = new List<MountEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-", 6);
            if (fields.Length < 10 || dash < 0 || dash + 3 > fields.Length)
                continue;
            result.Add(new MountEntry(Unescape(fields[3]), Unescape(fields[4]), fields[dash + 1], Unescape(fields[dash + 2]),
                dash + 3 < fields.Length ? fields[dash + 3] : ""));
        }
        return result;
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

    /// <summary>mountinfo escapes space, tab, newline and backslash as \ooo octal.</summary>
    static string Unescape(string field)
    {
        if (!field.Contains('\\'))
            return field;
        var sb = new StringBuilder();
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length
                && field.Substring(i + 1, 3).All(c => c is >= '0' and <= '7'))
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
