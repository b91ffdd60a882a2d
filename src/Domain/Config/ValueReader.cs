namespace OpenSvc.Domain.Config;

/// <summary>Typed reads over <see cref="ConfigReader"/>: converts and reports unreadable values as problems.</summary>
internal sealed class ValueReader(ConfigReader reader, List<ConfigProblem> problems)
{
    public ConfigReader Reader => reader;
    ConfigDocument Doc => reader.Document;

    public Keyword? KeywordOf(ConfigSection section, string name)
    {
        var (group, type) = ConfigReader.SectionType(section);
        return KeywordTable.Find(group, type, name);
    }

    public ConfigReader.Read? Get(ConfigSection section, string name) =>
        KeywordOf(section, name) is { } keyword ? reader.Get(section, keyword) : null;

    public string? String(ConfigSection section, string name) => NullIfBlank(Get(section, name)?.Value);

    public IReadOnlyList<string> List(ConfigSection section, string name) => Converters.List(Get(section, name)?.Value);

    public IReadOnlyList<string> Shlex(ConfigSection section, string name)
    {
        var read = Get(section, name);
        if (read is null)
            return [];
        if (!Config.Shlex.TrySplit(read.Value, out var words, out var error))
            Report(section, name, read, $"cannot split '{Shorten(read.Value)}' into words: {error}", "close the quote or escape it");
        return words;
    }

    public bool? Bool(ConfigSection section, string name)
    {
        var read = Get(section, name);
        if (read is null)
            return null;
        if (Converters.TryBool(read.Value, out var value))
            return value;
        Report(section, name, read, $"'{Shorten(read.Value)}' is not a boolean", "use true or false");
        return DefaultOf(section, name, v => Converters.TryBool(v, out var b) ? b : (bool?)null);
    }

    public int? Int(ConfigSection section, string name)
    {
        var read = Get(section, name);
        if (read is null)
            return null;
        if (Converters.TryInt(read.Value, out var value))
            return value;
        Report(section, name, read, $"'{Shorten(read.Value)}' is not an integer", null);
        return DefaultOf(section, name, v => Converters.TryInt(v, out var i) ? i : (int?)null);
    }

    public long? Duration(ConfigSection section, string name)
    {
        var read = Get(section, name);
        if (read is null)
            return null;
        var keyword = KeywordOf(section, name)!;
        var unit = keyword.Kind == ValueKind.DurationMinutes ? 60 : 1;
        if (Converters.TryDuration(read.Value, out var seconds, unit))
            return seconds;
        Report(section, name, read, $"'{Shorten(read.Value)}' is not a duration", "write e.g. 90 (minutes) or 1d3h");
        return DefaultOf(section, name, v => Converters.TryDuration(v, out var s, unit) ? s : (long?)null);
    }

    public long? Speed(ConfigSection section, string name)
    {
        var read = Get(section, name);
        if (read is null)
            return null;
        if (Converters.TrySpeedKbps(read.Value, out var kbps))
            return kbps;
        Report(section, name, read, $"'{Shorten(read.Value)}' is not a speed", "write e.g. 3 mb/s or 512 (KB/s)");
        return null;
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
        foreach (var name in names)
        {
            if (NodeName.TryParse(name, out var node))
            {
                if (!result.Contains(node))
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

    T? DefaultOf<T>(ConfigSection section, string name, Func<string, T?> convert) where T : struct =>
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
