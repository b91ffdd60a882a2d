namespace OpenSvc.Domain.Config;

/// <summary>One <c>key = value</c> line (plus its continuation lines) as written.</summary>
/// <param name="Key">The key as written, scope included (<c>dev@nodes</c>).</param>
/// <param name="Keyword">The key without its scope (<c>dev</c>).</param>
/// <param name="Scope">The text after '@', or null when the key is not scoped.</param>
/// <param name="Line">1-based line of the key.</param>
public sealed record ConfigEntry(string Key, string Keyword, string? Scope, string Value, int Line)
{
    public static (string Keyword, string? Scope) SplitKey(string key)
    {
        var at = key.IndexOf('@');
        return at < 0 ? (key, null) : (key[..at], key[(at + 1)..]);
    }
}

/// <summary>
/// A section after merging repeated headers. Keys are case-sensitive; for a repeated key the
/// last line wins, and <see cref="Entries"/> keeps the winning entry in first-seen order.
/// </summary>
public sealed class ConfigSection
{
    readonly Dictionary<string, ConfigEntry> _byKey = new(StringComparer.Ordinal);
    readonly List<string> _order = [];

    public ConfigSection(string name, int line)
    {
        Name = name;
        Line = line;
    }

    public string Name { get; }

    /// <summary>Line of the first header of this section (0 for an implicit DEFAULT).</summary>
    public int Line { get; private set; }

    /// <summary>A header for a section created before it was seen (DEFAULT always exists): its line is the header's.</summary>
    internal void HeaderAt(int line)
    {
        if (Line == 0)
            Line = line;
    }

    /// <summary>The text before '#' (<c>fs</c> for <c>fs#0</c>), or the whole name.</summary>
    public string Group => Name.IndexOf('#') is var i and > 0 ? Name[..i] : Name;

    /// <summary>The text after '#', or null.</summary>
    public string? Index => Name.IndexOf('#') is var i and > 0 && i < Name.Length - 1 ? Name[(i + 1)..] : null;

    public IEnumerable<ConfigEntry> Entries => _order.Select(k => _byKey[k]);

    public ConfigEntry? Get(string key) => _byKey.GetValueOrDefault(key);

    internal void Set(ConfigEntry entry)
    {
        if (!_byKey.ContainsKey(entry.Key))
            _order.Add(entry.Key);
        _byKey[entry.Key] = entry;
    }
}

/// <summary>A parsed configuration file: merged sections plus the problems met while reading it.</summary>
public sealed class ConfigDocument
{
    public const string DefaultSection = "DEFAULT";

    readonly Dictionary<string, ConfigSection> _sections;

    internal ConfigDocument(string file, IReadOnlyList<ConfigSection> sections, IReadOnlyList<ConfigProblem> problems)
    {
        File = file;
        Sections = sections;
        Problems = problems;
        _sections = sections.ToDictionary(s => s.Name, StringComparer.Ordinal);
    }

    public string File { get; }

    /// <summary>Sections in first-seen order. DEFAULT is always present.</summary>
    public IReadOnlyList<ConfigSection> Sections { get; }

    /// <summary>Problems found while reading the text (not semantic ones; see ConfigValidator).</summary>
    public IReadOnlyList<ConfigProblem> Problems { get; }

    public ConfigSection Default => _sections[DefaultSection];

    public ConfigSection? Section(string name) => _sections.GetValueOrDefault(name);
}
