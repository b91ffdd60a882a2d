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

    /// <summary>
    /// A read value: where it came from (null entry for a keyword default), its expanded text, and the references
    /// that could not be expanded (left as written).
    /// </summary>
    public sealed record Read(string Value, ConfigEntry? Entry, ConfigSection? From)
    {
        public IReadOnlyList<UnresolvedReference> Unresolved { get; init; } = [];
    }

    /// <summary>A <c>{reference}</c> left as written: why it has no value, and how to write it.</summary>
    public sealed record UnresolvedReference(string Reference, string Reason, string Fix);

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
        var budget = new Budget();
        return new Read(Expand(value, context, 0, budget), entry, from) { Unresolved = budget.Unresolved.Distinct().ToList() };
    }

    /// <summary>What one read may still expand, and the references it could not.</summary>
    sealed class Budget
    {
        public int Left = ReferenceBudget;
        public readonly List<UnresolvedReference> Unresolved = [];
    }

    public string Expand(string value, ConfigSection context) => Expand(value, context, 0, new Budget());

    string Expand(string value, ConfigSection context, int depth, Budget budget)
    {
        if (value.IndexOf('{') < 0)
            return value;
        if (depth >= MaxReferenceDepth)
        {
            if (ReferencePattern().Matches(value).FirstOrDefault(m => IsReference(value, m)) is { } first)
                budget.Unresolved.Add(new UnresolvedReference(first.Value,
                    $"references nest deeper than {MaxReferenceDepth}: a reference loop",
                    "make the chain of references end in a value"));
            return value;
        }
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
                if (replacement is null && IsReference(value, match))
                    budget.Unresolved.Add(Unresolvable(match.Groups[1].Value, context, depth + 1, budget));
            }
            else if (IsReference(value, match))
                budget.Unresolved.Add(new UnresolvedReference(match.Value,
                    $"expanding it would take more than {ReferenceBudget} references or {MaxExpandedLength} characters",
                    "reference fewer values, or values that do not reference each other repeatedly"));
            builder.Append(replacement ?? match.Value);
        }
        builder.Append(value, last, value.Length - last);
        return builder.ToString();
    }

    /// <summary>
    /// Whether braces that did not resolve were meant as a reference: OpenSVC's reference syntax (word characters,
    /// '#', '.', '[', ']', ':', '/'), and not a shell variable (<c>${HOME}</c>), which is left to the shell.
    /// Anything else in braces (<c>awk '{print $1}'</c>) is plain text, as in OpenSVC.
    /// </summary>
    static bool IsReference(string value, Match match) =>
        ReferenceNamePattern().IsMatch(match.Groups[1].Value) && (match.Index == 0 || value[match.Index - 1] != '$');

    /// <summary>OpenSVC references this agent does not resolve: they depend on the cluster's or the agent's own setup.</summary>
    static readonly string[] UnsupportedBuiltIns =
    [
        "id", "scaler_name", "scaler_short_name", "scaler_svcname", "scaler_short_svcname", "clusterid", "clustername",
        "fqdn", "domain", "clusternodes", "clusterdrpnodes", "dns", "dnsnodes", "dnsuxsock", "dnsuxsockd", "collector_api",
        "svcmgr", "nodemgr", "etc", "var", "private_var", "initd",
    ];

    /// <summary>The references this agent resolves without a section, for messages and did-you-mean.</summary>
    public static IReadOnlyList<string> BuiltIns { get; } =
        ["nodename", "short_nodename", "name", "svcname", "short_name", "short_svcname", "namespace", "path", "svcpath", "kind", "rid", "rindex"];

    /// <summary>Why <c>{name}</c> has no value here, and the fix.</summary>
    UnresolvedReference Unresolvable(string name, ConfigSection context, int depth, Budget budget)
    {
        var reference = "{" + name + "}";
        UnresolvedReference Problem(string reason, string fix) => new(reference, reason, fix);

        if (name.StartsWith('#'))
        {
            var counted = Unresolvable(name[1..], context, depth, budget);
            return counted with { Reference = reference, Fix = counted.Fix.Replace("write {", "write {#", StringComparison.Ordinal) };
        }
        var indexed = IndexedPattern().Match(name);
        if (indexed.Success)
        {
            var inner = Resolve(indexed.Groups[1].Value, context, depth, new Budget());
            if (inner is null)
                return Unresolvable(indexed.Groups[1].Value, context, depth, budget) with { Reference = reference };
            var count = Converters.List(inner).Count;
            return Problem($"{{{indexed.Groups[1].Value}}} has {count} word{(count == 1 ? "" : "s")}",
                count == 0 ? $"give {indexed.Groups[1].Value} a value" : $"use an index from 0 to {count - 1}");
        }
        var modifier = name.IndexOf(':');
        if (modifier > 0 && name[..modifier] is "upper" or "lower" or "capitalize" or "title" or "swapcase" or "uri_ip" or "safe")
            return Problem($"OpenSVC's {name[..(modifier + 1)]} references are not supported by this agent", "write the value instead");
        if (UnsupportedBuiltIns.Contains(name))
            return Problem("this OpenSVC reference depends on the cluster's or the agent's own setup, which this agent does not expose",
                "write the value instead");
        if (name is "rid" or "rindex")
            return Problem($"{{{name}}} names the resource section it is written in, and DEFAULT is none",
                "use it in a resource section, or write the value");

        var dot = name.IndexOf('.');
        if (dot > 0)
        {
            var sectionName = name[..dot];
            var keyName = name[(dot + 1)..];
            if (sectionName == "env" && _doc.Section("env") is { } env && ScopedElsewhere(env, keyName))
                return Problem($"[env] sets {keyName} for other nodes only", $"add {keyName}@{Node} = ... to [env]");
            if (sectionName == "env")
                return Problem($"[env] has no {keyName} (and the agent's environment has no {keyName.ToUpperInvariant()})",
                    $"add {keyName} = ... to [env]");
            if (sectionName == "node")
                return Problem("node.conf references are not supported by this agent: there is no node.conf", "write the value instead");
            if (_doc.Section(sectionName) is null)
            {
                // Not the section the reference is written in: that one is referenced without a section name.
                var sections = _doc.Sections.Where(s => s != context).Select(s => s.Name).ToList();
                return Problem($"there is no section [{sectionName}]",
                    Spelling.Nearest(sectionName, sections) is { } near ? $"write {{{near}.{keyName}}}" : $"use one of: {string.Join(", ", sections)}");
            }
            var target = _doc.Section(sectionName)!;
            if (ScopedElsewhere(target, keyName))
                return Problem($"[{sectionName}] sets {keyName} for other nodes only", $"add {keyName}@{Node} = ... to [{sectionName}]");
            return Problem($"[{sectionName}] has no value for {keyName}",
                Spelling.Nearest(keyName, KeysOf(target)) is { } key ? $"write {{{sectionName}.{key}}}" : $"set {keyName} in [{sectionName}]");
        }

        foreach (var section in new[] { context, _doc.Default }.Distinct())
            if (ScopedElsewhere(section, name))
                return Problem($"[{section.Name}] sets {name} for other nodes only", $"add {name}@{Node} = ... to [{section.Name}]");
        var known = BuiltIns.Concat(KeysOf(context)).Concat(KeysOf(_doc.Default)).Distinct().ToList();
        var where = context == _doc.Default ? "DEFAULT" : $"[{context.Name}] or DEFAULT";
        return Problem($"no keyword {name} has a value in {where}, and it is not a built-in reference",
            Spelling.Nearest(name, known) is { } nearest ? $"write {{{nearest}}}"
            : $"use a keyword set in {where}, {{env.<key>}}, {{<section>.<keyword>}} or one of {string.Join(" ", BuiltIns.Select(b => "{" + b + "}"))}");
    }

    /// <summary>The section sets <paramref name="name"/> only under scopes that do not apply to this node.</summary>
    static bool ScopedElsewhere(ConfigSection section, string name) =>
        section.Get(name) is null && section.Entries.Any(e => e.Keyword == name && e.Scope is not null);

    /// <summary>The keywords a section sets (scopes and aliases as their keyword), plus the defaults its keywords have.</summary>
    static IEnumerable<string> KeysOf(ConfigSection section)
    {
        var (group, type) = SectionType(section);
        return section.Entries.Select(e => e.Keyword)
            .Concat(KeywordTable.For(group, type).Where(k => k.Default is not null).Select(k => k.Name));
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
            case "short_name" or "short_svcname":
                return Service.Name.Split('.')[0];
            case "namespace":
                return Service.Namespace ?? "root";
            case "path" or "svcpath":
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
        return (group, DriverCatalog.Canonical(group, type));
    }

    [GeneratedRegex(@"\{([^{}]+)\}")]
    private static partial Regex ReferencePattern();

    /// <summary>OpenSVC's reference syntax (extconfig's <c>{\w*[\w#][\w\.\[\]:\/]*}</c>).</summary>
    [GeneratedRegex(@"^\w*[\w#][\w.\[\]:/]*$")]
    private static partial Regex ReferenceNamePattern();

    [GeneratedRegex(@"^(.+)\[([0-9]{1,9})\]$")]
    private static partial Regex IndexedPattern();
}
