using System.Text;
using System.Text.RegularExpressions;

namespace OpenSvc.Domain.Config;

/// <summary>
/// Reads keyword values as one node sees them: scoping, DEFAULT inheritance, keyword defaults and
/// <c>{reference}</c> expansion. Pure: the OS environment is passed in.
/// </summary>
internal sealed partial class ConfigReader
{
    /// <summary>OpenSVC's MAX_RECURSION for nested references.</summary>
    public const int MaxReferenceDepth = 20;

    /// <summary>Reference substitutions allowed per value read, so that fan-out loops stay bounded.</summary>
    const int ReferenceBudget = 256;

    /// <summary>A value grown past this by expansion is not expanded further.</summary>
    const int MaxExpandedLength = 1 << 20;

    readonly ConfigDocument _doc;
    readonly IReadOnlyDictionary<string, string> _environment;

    public ConfigReader(ConfigDocument doc, ServicePath service, NodeName node, IReadOnlyDictionary<string, string>? environment)
    {
        _doc = doc;
        Service = service;
        Node = node;
        _environment = environment ?? new Dictionary<string, string>();
    }

    public ServicePath Service { get; }
    public NodeName Node { get; }
    public ConfigDocument Document => _doc;

    public IReadOnlyList<string> Nodes { get; set; } = [];
    public IReadOnlyList<string> DrpNodes { get; set; } = [];
    public IReadOnlyList<string> EncapNodes { get; set; } = [];
    public string? FlexPrimary { get; set; }
    public string? DrpFlexPrimary { get; set; }

    /// <summary>A read value: where it came from (null entry for a keyword default) and its expanded text.</summary>
    public sealed record Read(string Value, ConfigEntry? Entry, ConfigSection? From);

    /// <summary>The scoped candidates for this node, most specific first (OpenSVC's conf_has_option_scoped).</summary>
    public IEnumerable<string> ScopeKeys(string name)
    {
        var node = Node.Value;
        yield return $"{name}@{node}";
        if (Nodes.Contains(node))
            yield return $"{name}@nodes";
        if (DrpNodes.Contains(node))
            yield return $"{name}@drpnodes";
        if (EncapNodes.Contains(node))
            yield return $"{name}@encapnodes";
        if (FlexPrimary == node)
            yield return $"{name}@flex_primary";
        if (DrpFlexPrimary == node)
            yield return $"{name}@drp_flex_primary";
    }

    /// <summary>The entry for <paramref name="name"/> in one section, honouring scopes only when allowed.</summary>
    public ConfigEntry? FindEntry(ConfigSection section, string name, bool scopable)
    {
        if (scopable)
        {
            foreach (var key in ScopeKeys(name))
                if (section.Get(key) is { } scoped)
                    return scoped;
        }
        return section.Get(name);
    }

    ConfigEntry? FindEntryOrAlias(ConfigSection section, string name, IReadOnlyList<string> aliases, bool scopable)
    {
        var entry = FindEntry(section, name, scopable);
        foreach (var alias in aliases)
            entry ??= FindEntry(section, alias, scopable);
        return entry;
    }

    /// <summary>Reads a keyword raw (unexpanded): section, then DEFAULT per inheritance, then default.</summary>
    public (string? Value, ConfigEntry? Entry, ConfigSection? From) ReadRaw(ConfigSection? section, Keyword keyword)
    {
        if (keyword.Group == ConfigDocument.DefaultSection)
        {
            var entry = FindEntryOrAlias(_doc.Default, keyword.Name, keyword.DeprecatedAliases, keyword.Scopable);
            return entry is null ? (keyword.Default, null, null) : (entry.Value, entry, _doc.Default);
        }
        if (section is not null && keyword.Inheritance != Inheritance.Head)
        {
            var entry = FindEntryOrAlias(section, keyword.Name, keyword.DeprecatedAliases, keyword.Scopable);
            if (entry is not null)
                return (entry.Value, entry, section);
        }
        if (keyword.Inheritance != Inheritance.Leaf)
        {
            var entry = FindEntry(_doc.Default, keyword.HeadName, keyword.Scopable);
            if (entry is not null)
                return (entry.Value, entry, _doc.Default);
        }
        return (keyword.Default, null, null);
    }

    /// <summary>Reads a keyword and expands its references; null when unset and without default.</summary>
    public Read? Get(ConfigSection? section, Keyword keyword)
    {
        var (value, entry, from) = ReadRaw(section, keyword);
        if (value is null)
            return null;
        var context = from ?? section ?? _doc.Default;
        return new Read(Expand(value, context, 0, new Budget()), entry, from);
    }

    sealed class Budget
    {
        public int Left = ReferenceBudget;
    }

    public string Expand(string value, ConfigSection context) => Expand(value, context, 0, new Budget());

    string Expand(string value, ConfigSection context, int depth, Budget budget)
    {
        if (depth >= MaxReferenceDepth || value.IndexOf('{') < 0)
            return value;
        var builder = new StringBuilder();
        var last = 0;
        foreach (Match match in ReferencePattern().Matches(value))
        {
            builder.Append(value, last, match.Index - last);
            last = match.Index + match.Length;
            string? replacement = null;
            if (budget.Left > 0 && builder.Length < MaxExpandedLength)
            {
                budget.Left--;
                replacement = Resolve(match.Groups[1].Value, context, depth + 1, budget);
            }
            builder.Append(replacement ?? match.Value);
        }
        builder.Append(value, last, value.Length - last);
        return builder.ToString();
    }

    /// <summary>The value of one reference name, or null to leave <c>{name}</c> as written.</summary>
    string? Resolve(string name, ConfigSection context, int depth, Budget budget)
    {
        if (name.StartsWith('#'))
        {
            var inner = Resolve(name[1..], context, depth, budget);
            return inner is null ? null : Converters.List(inner).Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var indexed = IndexedPattern().Match(name);
        if (indexed.Success)
        {
            var inner = Resolve(indexed.Groups[1].Value, context, depth, budget);
            if (inner is null || !int.TryParse(indexed.Groups[2].Value, out var i))
                return null;
            var words = Converters.List(inner);
            return i < words.Count ? words[i] : null;
        }

        switch (name)
        {
            case "nodename":
                return Node.Value;
            case "short_nodename":
                return Node.Value.Split('.')[0];
            case "name" or "svcname":
                return Service.Name;
            case "namespace":
                return Service.Namespace ?? "root";
            case "path":
                return Service.ToString();
            case "kind":
                return "svc";
            case "rid":
                return context.Name == ConfigDocument.DefaultSection ? null : context.Name;
            case "rindex":
                return context.Index;
        }

        var dot = name.IndexOf('.');
        if (dot > 0)
        {
            var sectionName = name[..dot];
            var keyName = name[(dot + 1)..];
            if (sectionName == "env")
            {
                if (_environment.TryGetValue(keyName.ToUpperInvariant(), out var fromOs))
                    return fromOs;
                var envSection = _doc.Section("env");
                var envEntry = envSection is null ? null : FindEntry(envSection, keyName, scopable: true);
                return envEntry is null ? null : Expand(envEntry.Value, envSection!, depth, budget);
            }
            var target = _doc.Section(sectionName);
            return target is null ? null : ReadForReference(target, keyName, depth, budget, fallBackToDefault: false);
        }
        return ReadForReference(context, name, depth, budget, fallBackToDefault: true);
    }

    string? ReadForReference(ConfigSection section, string name, int depth, Budget budget, bool fallBackToDefault)
    {
        var (group, type) = SectionType(section);
        var keyword = KeywordTable.Find(group, type, name);
        var scopable = keyword?.Scopable ?? true;
        var entry = FindEntry(section, name, scopable);
        var from = section;
        if (entry is null && fallBackToDefault && section != _doc.Default)
        {
            entry = FindEntry(_doc.Default, name, scopable);
            from = _doc.Default;
        }
        var raw = entry?.Value ?? keyword?.Default
            ?? (fallBackToDefault ? KeywordTable.Find(ConfigDocument.DefaultSection, null, name)?.Default : null);
        return raw is null ? null : Expand(raw, from, depth, budget);
    }

    /// <summary>The (group, canonical type) of a section, defaults applied.</summary>
    public static (string Group, string? Type) SectionType(ConfigSection section)
    {
        if (section.Name == ConfigDocument.DefaultSection)
            return (section.Name, null);
        var group = section.Group;
        var type = section.Get("type")?.Value.Trim();
        if (string.IsNullOrEmpty(type))
            type = KeywordTable.DefaultType(group);
        return (group, KeywordTable.CanonicalType(group, type));
    }

    [GeneratedRegex(@"\{([^{}]+)\}")]
    private static partial Regex ReferencePattern();

    [GeneratedRegex(@"^(.+)\[([0-9]{1,9})\]$")]
    private static partial Regex IndexedPattern();
}
