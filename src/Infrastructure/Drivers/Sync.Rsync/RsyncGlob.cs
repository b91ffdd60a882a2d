using System.Text;
using System.Text.RegularExpressions;

namespace OpenSvc.Infrastructure.Drivers.Sync.Rsync;

/// <summary>
/// OpenSVC expands each rsync <c>src</c> word as a shell glob (Python's glob): <c>/data/*.log</c> is every .log file of
/// /data, sorted here; a word without <c>*</c>, <c>?</c> or <c>[</c> is itself when it exists. '*' and '?' do not match
/// a leading '.' (hidden files) unless the pattern segment starts with one, as in Python's glob. Nothing matching:
/// the word contributes nothing ("no files to sync").
/// </summary>
public static class RsyncGlob
{
    public static IReadOnlyList<string> Expand(IEnumerable<string> src)
    {
        ArgumentNullException.ThrowIfNull(src);
        var result = new List<string>();
        foreach (var word in src)
        {
            if (word.IndexOfAny(['*', '?', '[']) < 0)
            {
                var path = word.TrimEnd('/').Length == 0 ? "/" : word.TrimEnd('/');
                if (File.Exists(path) || Directory.Exists(path))
                    result.Add(word);
                continue;
            }
            var trailing = word.EndsWith('/');
            foreach (var match in Match(word.TrimEnd('/')))
                if (!result.Contains(match))
                    result.Add(trailing && Directory.Exists(match) ? match + "/" : match);
        }
        return result;
    }

    static IEnumerable<string> Match(string pattern)
    {
        var absolute = pattern.StartsWith('/');
        var segments = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        IEnumerable<string> current = [absolute ? "/" : "."];
        foreach (var segment in segments)
        {
            if (segment.IndexOfAny(['*', '?', '[']) < 0)
            {
                current = current.Select(dir => Path.Combine(dir, segment)).Where(p => File.Exists(p) || Directory.Exists(p)).ToList();
                continue;
            }
            var regex = new Regex(ToRegex(segment), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            current = current.Where(Directory.Exists)
                .SelectMany(dir => Directory.EnumerateFileSystemEntries(dir)
                    .Select(Path.GetFileName)
                    .OfType<string>()
                    .Where(name => regex.IsMatch(name) && (!name.StartsWith('.') || segment.StartsWith('.')))
                    .Order(StringComparer.Ordinal)
                    .Select(name => Path.Combine(dir, name)))
                .ToList();
        }
        return current.Select(p => absolute ? p : Path.GetRelativePath(".", p));
    }

    /// <summary>fnmatch: '*' any run, '?' one character, '[...]' a class ('[!...]' negated), anything else literal.</summary>
    static string ToRegex(string segment)
    {
        var builder = new StringBuilder("^");
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            switch (c)
            {
                case '*':
                    builder.Append(".*");
                    break;
                case '?':
                    builder.Append('.');
                    break;
                case '[':
                    var close = segment.IndexOf(']', i + 2 <= segment.Length ? i + 2 : i + 1);
                    if (close < 0)
                    {
                        builder.Append(@"\[");
                        break;
                    }
                    var body = segment[(i + 1)..close];
                    var negate = body.StartsWith('!');
                    if (negate)
                        body = body[1..];
                    builder.Append('[').Append(negate ? "^" : "").Append(body.Replace(@"\", @"\\", StringComparison.Ordinal).Replace("^", @"\^", StringComparison.Ordinal)).Append(']');
                    i = close;
                    break;
                default:
                    builder.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return builder.Append('$').ToString();
    }
}
