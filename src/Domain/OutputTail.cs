namespace OpenSvc.Domain;

/// <summary>The end of a command's output, bounded: what messages and events keep of it.</summary>
public static class OutputTail
{
    /// <summary>What a step's event keeps of its output.</summary>
    public const int EventLimit = 4000;

    /// <summary>The last <paramref name="maxChars"/> characters of <paramref name="text"/>, trailing whitespace trimmed.</summary>
    public static string Of(string? text, int maxChars = EventLimit)
    {
        var trimmed = (text ?? "").TrimEnd();
        return trimmed.Length <= maxChars ? trimmed : trimmed[^maxChars..];
    }

    /// <summary>The tail of stderr, or of stdout when stderr says nothing: where a failed command explains itself.</summary>
    public static string Of(string? stdout, string? stderr, int maxChars) =>
        Of(string.IsNullOrWhiteSpace(stderr) ? stdout : stderr, maxChars);
}
