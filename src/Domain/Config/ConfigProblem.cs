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
        var keyword = Keyword is null ? "" : $" {Keyword}:";
        var fix = Fix is null ? "" : $" (fix: {Fix})";
        return $"{File}:{Line}: {severity}: [{Section}]{keyword} {Reason}{fix}";
    }
}
