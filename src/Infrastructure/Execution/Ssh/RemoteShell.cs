using System.Text;

namespace OpenSvc.Infrastructure.Execution.Ssh;

/// <summary>
/// An SSH exec request is one string that the remote user's shell parses. This is the one place where argv
/// elements become that string: every element is quoted so the remote shell sees exactly the element,
/// whatever characters a config value holds.
/// </summary>
public static class RemoteShell
{
    /// <summary>Quotes one argv element for a POSIX shell; plain words stay readable. <c>=</c> is always quoted: a leading <c>a=b</c> would be an assignment.</summary>
    public static string Quote(string element)
    {
        ArgumentNullException.ThrowIfNull(element);
        if (element.Length > 0 && element.All(IsSafe))
            return element;
        // Inside single quotes nothing is special except the quote itself: close, escape it, reopen.
        return "'" + element.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>One command line from argv elements.</summary>
    public static string Join(IEnumerable<string> argv)
    {
        var sb = new StringBuilder();
        foreach (var a in argv)
        {
            if (sb.Length > 0)
                sb.Append(' ');
            sb.Append(Quote(a));
        }
        if (sb.Length == 0)
            throw new ArgumentException("an empty command line", nameof(argv));
        return sb.ToString();
    }

    /// <summary>Several commands run in order, stopping at the first failure (<c>a &amp;&amp; b</c>).</summary>
    public static string AndThen(params IReadOnlyList<string>[] commands) =>
        string.Join(" && ", commands.Select(Join));

    static bool IsSafe(char c) =>
        c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9')
            or '-' or '_' or '.' or '/' or ':' or ',' or '+' or '@' or '%';
}
