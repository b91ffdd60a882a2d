namespace OpenSvc.Domain.Config;

/// <summary>Typed reads over <see cref="ConfigReader"/>: converts and reports unreadable values as problems.</summary>
internal sealed class ValueReader(ConfigReader reader, List<ConfigProblem> problems)
{
    public ConfigReader Reader => reader;
    ConfigDocument Doc => reader.Document;

    public static Keyword? KeywordOf(ConfigSection section, string name)
    {
        var (group, type) = ConfigReader.SectionType(section);
        return KeywordTable.Find(group, type, name);
    }

    public ConfigReader.Read? Get(ConfigSection section, string name) =>
        KeywordOf(section, name) is { } keyword ? Get(section, keyword) : null;

    /// <summary>Reads a keyword; a reference it could not expand (left as written) is an error at the keyword's line.</summary>
    public ConfigReader.Read? Get(ConfigSection section, Keyword keyword)
    {
        var read = reader.Get(section, keyword);
        foreach (var unresolved in read?.Unresolved ?? [])
            Report(section, keyword.Name, read!, $"{unresolved.Label} {unresolved.Reference}: {unresolved.Reason}", unresolved.Fix);
        return read;
    }

    public string? String(ConfigSection section, string name) => NullIfBlank(Get(section, name)?.Value);

    public IReadOnlyList<string> List(ConfigSection section, string name) => Converters.List(Get(section, name)?.Value);

    public IReadOnlyList<string> Shlex(ConfigSection section, string name)
    {
        var read = Get(section, name);
        if (read is null)
            return [];
        Config.Shlex.TrySplit(read.Value, out var words, out _);
        ReportUnreadable(section, name, read);
        return words;
    }

    public bool? Bool(ConfigSection section, string name)
    {
        var read = Get(section, name);
        if (read is null)
            return null;
        if (Converters.TryBool(read.Value, out var value))
            return value;
        ReportUnreadable(section, name, read);
        return DefaultOf(section, name, v => Converters.TryBool(v, out var b) ? b : (bool?)null);
    }

    public int? Int(ConfigSection section, string name)
    {
        var read = Get(section, name);
        if (read is null)
            return null;
        if (Converters.TryInt(read.Value, out var value))
            return value;
        ReportUnreadable(section, name, read);
        return DefaultOf(section, name, v => Converters.TryInt(v, out var i) ? i : (int?)null);
    }

    public long? Duration(ConfigSection section, string name)
    {
        var read = Get(section, name);
        if (read is null)
            return null;
        var unit = KeywordOf(section, name)!.Kind == ValueKind.DurationMinutes ? 60 : 1;
        if (Converters.TryDuration(read.Value, out var seconds, unit))
            return seconds;
        ReportUnreadable(section, name, read);
        return DefaultOf(section, name, v => Converters.TryDuration(v, out var s, unit) ? s : (long?)null);
    }

    public long? Speed(ConfigSection section, string name)
    {
        var read = Get(section, name);
        if (read is null)
            return null;
        if (Converters.TrySpeedKbps(read.Value, out var kbps))
            return kbps;
        ReportUnreadable(section, name, read);
        return null;
    }

    /// <summary>
    /// Why <paramref name="value"/> cannot be converted as <paramref name="keyword"/>'s kind, with the fix; null when it can.
    /// The one wording of these problems: validation checks every entry with it, typed reads report with it, and
    /// identical findings merge into one.
    /// </summary>
    public static (string Reason, string Fix)? Unreadable(Keyword keyword, string key, string value)
    {
        switch (keyword.Kind)
        {
            case ValueKind.Bool when !Converters.TryBool(value, out _):
                return ($"'{Shorten(value)}' is not a boolean", $"{key} = true or {key} = false");
            case ValueKind.Int when !Converters.TryInt(value, out _):
                return ($"'{Shorten(value)}' is not an integer", $"write a whole number, e.g. {key} = {keyword.Default ?? "1"}");
            case ValueKind.Duration or ValueKind.DurationMinutes
                when !Converters.TryDuration(value, out _, keyword.Kind == ValueKind.DurationMinutes ? 60 : 1):
                var bare = keyword.Kind == ValueKind.DurationMinutes ? "minutes" : "seconds";
                return ($"'{Shorten(value)}' is not a duration",
                    DurationSpelledOut(value) is { } written ? $"{key} = {written}"
                    : $"write a number of {bare} or units s, m, h, d, w: e.g. {key} = {(keyword.Kind == ValueKind.DurationMinutes ? "90 or 1d3h" : "300 or 1h30m")}");
            case ValueKind.Speed when !Converters.TrySpeedKbps(value, out _):
                return ($"'{Shorten(value)}' is not a speed", "write e.g. 3 mb/s or 512 (KB/s)");
            case ValueKind.Shlex when !Config.Shlex.TrySplit(value, out _, out var error):
                return ($"cannot split '{Shorten(value)}' into words: {error}", "close the quote or escape it");
            default:
                return null;
        }
    }

    /// <summary>"5 minutes" → "5m": a duration written in words, in the units OpenSVC reads.</summary>
    static string? DurationSpelledOut(string value)
    {
        var words = Converters.List(value.ToLowerInvariant());
        if (words.Count == 0 || words.Count % 2 != 0)
            return null;
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < words.Count; i += 2)
        {
            if (!long.TryParse(words[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                return null;
            var unit = words[i + 1].TrimEnd(',') switch
            {
                "s" or "sec" or "secs" or "second" or "seconds" => "s",
                "min" or "mins" or "minute" or "minutes" => "m",
                "h" or "hr" or "hrs" or "hour" or "hours" => "h",
                "d" or "day" or "days" => "d",
                "w" or "week" or "weeks" => "w",
                _ => null,
            };
            if (unit is null)
                return null;
            text.Append(words[i]).Append(unit);
        }
        return text.ToString();
    }

    /// <summary>
    /// A value written with references can only be converted once expanded, on a node (validation checks the others
    /// as written): reports it if its keyword's kind cannot convert it.
    /// </summary>
    public void CheckExpanded(ConfigSection section, Keyword keyword, ConfigReader.Read read)
    {
        if (read.Entry?.Value.Contains('{') == true && Unreadable(keyword, read.Entry.Key, read.Value) is { } problem)
            Report(section, keyword.Name, read, problem.Reason, problem.Fix);
    }

    /// <summary>Reports a read value its keyword's kind cannot convert, if it cannot.</summary>
    public void ReportUnreadable(ConfigSection section, string name, ConfigReader.Read read)
    {
        if (KeywordOf(section, name) is { } keyword && Unreadable(keyword, read.Entry?.Key ?? name, read.Value) is { } problem)
            Report(section, name, read, problem.Reason, problem.Fix);
    }

    public string? DefaultString(string name) => String(Doc.Default, name);
    public IReadOnlyList<string> DefaultList(string name) => List(Doc.Default, name);
    public int? DefaultInt(string name) => Int(Doc.Default, name);
    public bool? DefaultBool(string name) => Bool(Doc.Default, name);
    public long? DefaultDuration(string name) => Duration(Doc.Default, name);
    public long? DefaultSpeed(string name) => Speed(Doc.Default, name);

    public IReadOnlyList<NodeName> NodeNames(IEnumerable<string> names, string keyword)
    {
        var result = new List<NodeName>();
        var seen = new HashSet<NodeName>();
        foreach (var name in names)
        {
            if (NodeName.TryParse(name, out var node))
            {
                if (seen.Add(node))
                    result.Add(node);
            }
            else
            {
                var entry = Doc.Default.Get(keyword);
                Add(new ConfigProblem(Doc.File, entry?.Line ?? 0, ConfigDocument.DefaultSection, keyword, Severity.Error,
                    $"'{Shorten(name)}' is not a valid node name (letters, digits, '.', '-', '_'): ignored", null, reader.Node));
            }
        }
        return result;
    }

    static T? DefaultOf<T>(ConfigSection section, string name, Func<string, T?> convert) where T : struct =>
        KeywordOf(section, name)?.Default is { } text ? convert(text) : null;

    void Report(ConfigSection section, string name, ConfigReader.Read read, string reason, string? fix)
    {
        var at = read.From ?? section;
        Add(new ConfigProblem(Doc.File, read.Entry?.Line ?? at.Line, at.Name, read.Entry?.Key ?? name, Severity.Error,
            reason, fix, reader.Node));
    }

    /// <summary>Reports an error about keyword <paramref name="name"/> at the line its value comes from.</summary>
    public void Error(ConfigSection section, string name, string reason, string? fix)
    {
        if (Get(section, name) is { } read)
            Report(section, name, read, reason, fix);
        else
            Add(new ConfigProblem(Doc.File, section.Line, section.Name, name, Severity.Error, reason, fix, reader.Node));
    }

    public void Add(ConfigProblem problem) => problems.Add(problem);

    static string? NullIfBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    public static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
