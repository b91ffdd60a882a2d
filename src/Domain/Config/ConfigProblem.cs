namespace OpenSvc.Domain.Config;

public enum Severity
{
    Info,
    Warning,
    Error,
}

/// <summary>
/// One located finding about a configuration: where it is, how bad, why, and how to fix it.
/// <see cref="Node"/> is set when the finding only holds for that node.
/// </summary>
public sealed record ConfigProblem(
    string File,
    int Line,
    string Section,
    string? Keyword,
    Severity Severity,
    string Reason,
    string? Fix,
    NodeName? Node)
{
    public override string ToString()
    {
        var severity = Severity switch
        {
            Severity.Error => "error",
            Severity.Warning => "warning",
            _ => "info",
        };
        var keyword = Keyword is null ? "" : $" {Escape(Keyword)}:";
        var fix = Fix is null ? "" : $" (fix: {Escape(Fix)})";
        // Line 0 (a file without any header): the problem is about the file, reported at its first line.
        return $"{Escape(File)}:{Math.Max(Line, 1)}: {severity}: [{Escape(Section)}]{keyword} {Escape(Reason)}{fix}";
    }

    /// <summary>
    /// The text on one line: a value quoted in a reason (a multi-line value, a key with a control character) cannot
    /// start a line of its own that would read as another problem. Line breaks and control characters are written as
    /// C escapes (<c>\n</c>, <c>\u2028</c>).
    /// </summary>
    public static string Escape(string text)
    {
        var clean = true;
        foreach (var c in text)
            if (NeedsEscape(c)) { clean = false; break; }
        if (clean)
            return text;
        var builder = new System.Text.StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (!NeedsEscape(c))
                builder.Append(c);
            else
                builder.Append(c switch
                {
                    '\n' => "\\n",
                    '\r' => "\\r",
                    '\t' => "\\t",
                    _ => "\\u" + ((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture),
                });
        }
        return builder.ToString();
    }

    static bool NeedsEscape(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
