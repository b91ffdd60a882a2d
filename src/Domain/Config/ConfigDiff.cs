using System.Text;

namespace OpenSvc.Domain.Config;

/// <summary>A line diff between two config texts, for the audit trail of config changes ("-old" / "+new" lines).</summary>
public static class ConfigDiff
{
    const int MaxLines = 5000;

    public static string Lines(string? before, string after)
    {
        var a = Split(before ?? "");
        var b = Split(after);
        if (a.Length > MaxLines || b.Length > MaxLines)
            return $"(config of {a.Length} lines replaced by one of {b.Length} lines; too large to diff)";
        // Longest common subsequence table, then walk it to emit removals and additions in order.
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
            for (var j = b.Length - 1; j >= 0; j--)
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
        var sb = new StringBuilder();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                x++;
                y++;
            }
            else if (y < b.Length && (x == a.Length || lcs[x, y + 1] >= lcs[x + 1, y]))
                sb.Append('+').Append(b[y++]).Append('\n');
            else
                sb.Append('-').Append(a[x++]).Append('\n');
        }
        return sb.ToString();
    }

    static string[] Split(string text) => text.Length == 0 ? [] : text.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
}
