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

    readonly ConfigDocument _doc;
    readonly IReadOnlyDictionary<string, string> _environment;
    readonly ConfigBudget _budget;

    /// <summary>This node's complete reference resolutions, and the reasons of the unresolvable ones, by (section, name).</summary>
    readonly Dictionary<(ConfigSection, string), (string Value, UnresolvedReference[] Unresolved)> _resolved = [];
    readonly Dictionary<(ConfigSection, string), UnresolvedReference> _unresolvable = [];

    /// <param name="environment">The agent's environment for <c>{env.x}</c> (variable X first, as OpenSVC) and the paths
    /// of <c>{var}</c> and <c>{etc}</c>; null reads the process environment.</param>
    /// <param name="budget">What reading this document may still cost (shared by every node of one validation).</param>
    public ConfigReader(ConfigDocument doc, ServicePath service, NodeName node, IReadOnlyDictionary<string, string>? environment,
        ConfigBudget? budget = null)
    {
        _doc = doc;
        Service = service;
        Node = node;
        _environment = environment ?? ProcessEnvironment.Current;
        _budget = budget ?? new ConfigBudget();
    }

    public ConfigBudget SharedBudget => _budget;

    public ServicePath Service { get; }
    public NodeName Node { get; }
    public ConfigDocument Document => _doc;

    public IReadOnlyList<string> Nodes { get; set; } = [];
    public IReadOnlyList<string> DrpNodes { get; set; } = [];
    public IReadOnlyList<string> EncapNodes { get; set; } = [];

    /// <summary>Whether this node is in nodes, drpnodes, encapnodes (set with the lists: scope lookups stay O(1)).</summary>
    public (bool InNodes, bool InDrpNodes, bool InEncapNodes) Membership { get; set; }
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
    public sealed record UnresolvedReference(string Reference, string Reason, string Fix)
    {
        /// <summary>How the problem starts: "unresolved reference" or "invalid expression".</summary>
        public string Label { get; init; } = "unresolved reference";
    }

    /// <summary>The scoped candidates for this node, most specific first (OpenSVC's conf_has_option_scoped).</summary>
    public IEnumerable<string> ScopeKeys(string name)
    {
        var node = Node.Value;
        yield return $"{name}@{node}";
        if (Membership.InNodes)
            yield return $"{name}@nodes";
        if (Membership.InDrpNodes)
            yield return $"{name}@drpnodes";
        if (Membership.InEncapNodes)
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
        var budget = new Budget(_budget);
        var expanded = ExpandValue(value, context, 0, budget);
        if (_budget.Spent && _budget.SpentAt is null)
            _budget.SpentAt = (from ?? context, entry);
        if (expanded.Length > ConfigBudget.MaxValueLength && expanded.Length > value.Length)
        {
            budget.Add(new UnresolvedReference(ValueReader.Shorten(value),
                $"the value expands to {expanded.Length} characters, more than the {ConfigBudget.MaxValueLength} a value may have",
                "reference shorter values, or fewer of them") { Label = "value too long" });
            expanded = value;
        }
        return new Read(expanded, entry, from) { Unresolved = budget.Unresolved.Distinct().ToList() };
    }

    /// <summary>One read's references that could not be expanded, over the document's shared budget.</summary>
    sealed class Budget(ConfigBudget shared)
    {
        readonly HashSet<UnresolvedReference> _seen = [];
        public ConfigBudget Shared => shared;
        public readonly List<UnresolvedReference> Unresolved = [];

        public void Add(UnresolvedReference reference)
        {
            if (_seen.Add(reference))
                Unresolved.Add(reference);
        }
    }

    public string Expand(string value, ConfigSection context) => ExpandValue(value, context, 0, new Budget(_budget));

    /// <summary>
    /// OpenSVC's handle_references: references, then the first <c>$(expression)</c>, then the references the
    /// expression's result may hold.
    /// </summary>
    string ExpandValue(string value, ConfigSection context, int depth, Budget budget)
    {
        var expanded = Expand(value, context, depth, budget);
        if (!expanded.Contains("$(", StringComparison.Ordinal))
            return expanded;
        if (!Expression.TryApply(expanded, out var evaluated, out var expression, out var error))
        {
            budget.Add(new UnresolvedReference($"$({ValueReader.Shorten(expression ?? "")})", error!,
                "write an expression OpenSVC evaluates (numbers, 'quoted strings', + - * / // % **, comparisons, and, or, not, in); OpenSVC evaluates every $(...) in a value, shell command substitutions included")
            { Label = "invalid expression" });
            return expanded;
        }
        return evaluated == expanded ? expanded : Expand(evaluated, context, depth, budget);
    }

    string Expand(string value, ConfigSection context, int depth, Budget budget)
    {
        if (value.IndexOf('{') < 0)
            return value;
        // Reading a value costs its length: a long value read over and over by a fan-out spends the budget too.
        if (!budget.Shared.TakeCharacters(value.Length))
        {
            AddSpent(ReferencePattern().Match(value) is { Success: true } first ? first.Value : value, budget);
            return value;
        }
        if (depth >= MaxReferenceDepth)
        {
            if (ReferencePattern().Matches(value).FirstOrDefault(m => IsReference(value, m)) is { } first)
                budget.Add(new UnresolvedReference(first.Value,
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
            var shell = match.Index > 0 && value[match.Index - 1] == '$';
            if (!ReferenceNamePattern().IsMatch(match.Groups[1].Value))
            {
                // Not OpenSVC's reference syntax: plain text.
            }
            else if (builder.Length > ConfigBudget.MaxValueLength)
                budget.Add(new UnresolvedReference(match.Value,
                    $"the value would expand to more than {ConfigBudget.MaxValueLength} characters",
                    "reference shorter values, or fewer of them"));
            else if (!budget.Shared.TakeReference())
            {
                if (!shell)
                    AddSpent(match.Value, budget);
            }
            else
            {
                var name = match.Groups[1].Value;
                var key = (context, name);
                if (_resolved.TryGetValue(key, out var known))
                {
                    replacement = known.Value;
                    foreach (var why in known.Unresolved)
                        budget.Add(why);
                }
                else
                {
                    var unresolvedBefore = budget.Unresolved.Count;
                    replacement = Resolve(name, context, depth + 1, budget);
                    // A resolution is the same wherever it is met again on this node (one cut by the nesting cap is an
                    // error wherever it is cut): fan-out and loops cost one resolution per name.
                    if (replacement is not null && !budget.Shared.Spent)
                        _resolved[key] = (replacement, budget.Unresolved.Skip(unresolvedBefore).ToArray());
                }
                if (replacement is not null && !budget.Shared.TakeCharacters(replacement.Length))
                {
                    AddSpent(match.Value, budget);
                    replacement = null;
                }
                else if (replacement is null && !budget.Shared.Spent && !shell)
                {
                    if (!_unresolvable.TryGetValue(key, out var why))
                        _unresolvable[key] = why = Unresolvable(name, context, depth + 1, budget);
                    budget.Add(why);
                }
            }
            builder.Append(replacement ?? match.Value);
        }
        builder.Append(value, last, value.Length - last);
        return builder.ToString();
    }

    static void AddSpent(string reference, Budget budget) =>
        budget.Add(new UnresolvedReference(ValueReader.Shorten(reference),
            $"{budget.Shared.Describe()}: the references fan out or loop",
            "reference fewer values, or values that do not reference each other repeatedly"));

    /// <summary>
    /// Whether braces that did not resolve were meant as a reference: OpenSVC's reference syntax (word characters,
    /// '#', '.', '[', ']', ':', '/'), and not a shell variable (<c>${HOME}</c>), which is left to the shell.
    /// Anything else in braces (<c>awk '{print $1}'</c>) is plain text, as in OpenSVC.
    /// </summary>
    static bool IsReference(string value, Match match) =>
        ReferenceNamePattern().IsMatch(match.Groups[1].Value) && (match.Index == 0 || value[match.Index - 1] != '$');

    /// <summary>OpenSVC references this agent does not resolve: they name OpenSVC's own commands and DNS sockets.</summary>
    static readonly string[] UnsupportedBuiltIns = ["svcmgr", "nodemgr", "dnsuxsock", "dnsuxsockd"];

    /// <summary>The references this agent resolves without a section, for messages and did-you-mean.</summary>
    public static IReadOnlyList<string> BuiltIns { get; } =
    [
        "nodename", "short_nodename", "name", "svcname", "short_name", "short_svcname", "scaler_name", "scaler_svcname",
        "scaler_short_name", "scaler_short_svcname", "namespace", "path", "svcpath", "kind", "id", "rid", "rindex",
        "clustername", "clusterid", "clusternodes", "clusterdrpnodes", "fqdn", "domain", "dns", "dnsnodes", "etc", "var",
        "private_var", "initd", "collector_api", "dns_janitor_major",
    ];

    /// <summary>Case modifiers OpenSVC applies to a reference's value (<c>{upper:nodename}</c>).</summary>
    static readonly string[] Modifiers = ["upper", "lower", "capitalize", "title", "swapcase", "uri_ip"];

    string EnvironmentOr(string variable, string fallback) =>
        _environment.TryGetValue(variable, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : fallback;

    /// <summary>OpenSVC's cluster.name (lower-cased), here OPENSVC_CLUSTER_NAME; "default" as in OpenSVC when unset.</summary>
    string ClusterName => EnvironmentOr("OPENSVC_CLUSTER_NAME", "default").ToLowerInvariant();

    string EtcDir => EnvironmentOr("OPENSVC_ETC_DIR", "/etc/opensvc");

    string VarDir => Config.VarDir.From(_environment.GetValueOrDefault(Config.VarDir.Variable));

    /// <summary>The value of a built-in reference, or null when <paramref name="name"/> is none (or has no value here).</summary>
    string? BuiltIn(string name, ConfigSection context)
    {
        var ns = Service.Namespace;
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
            case "scaler_name" or "scaler_svcname":
                return ScalerPrefix().Replace(Service.Name, "");
            case "scaler_short_name" or "scaler_short_svcname":
                return ScalerPrefix().Replace(Service.Name.Split('.')[0], "");
            case "namespace":
                return ns ?? "root";
            case "path" or "svcpath":
                return Service.ToString();
            case "kind":
                return "svc";
            case "id":
                return NullIfBlank(_doc.Default.Get("id")?.Value) ?? Service.NameBasedId();
            case "rid":
                return context.Name == ConfigDocument.DefaultSection ? null : context.Name;
            case "rindex":
                return context.Index;
            case "clustername":
                return ClusterName;
            case "clusterid":
                return _environment.TryGetValue("OPENSVC_CLUSTER_ID", out var id) && !string.IsNullOrWhiteSpace(id) ? id.Trim() : null;
            case "fqdn":
                return $"{Service.Name}.{ns ?? "root"}.svc.{ClusterName}";
            case "domain":
                return $"{ns ?? "root"}.svc.{ClusterName}";
            case "clusternodes":
                return _environment.TryGetValue("OPENSVC_CLUSTER_NODES", out var cn) && !string.IsNullOrWhiteSpace(cn) ? string.Join(' ', Converters.List(cn))
                    : Nodes.Count > 0 ? string.Join(' ', Nodes) : null;
            case "clusterdrpnodes":
                return _environment.TryGetValue("OPENSVC_CLUSTER_DRPNODES", out var cd) && !string.IsNullOrWhiteSpace(cd) ? string.Join(' ', Converters.List(cd))
                    : string.Join(' ', DrpNodes);
            case "dns":
                return string.Join(' ', Converters.List(EnvironmentOr("OPENSVC_CLUSTER_DNS", "")));
            case "dnsnodes":
                return string.Join(' ', Converters.List(EnvironmentOr("OPENSVC_CLUSTER_DNSNODES", "")));
            case "etc":
                return EtcDir;
            case "var":
                return VarDir;
            case "private_var":
                return ns is null ? $"{VarDir}/svc/{Service.Name}" : $"{VarDir}/namespaces/{ns}/svc/{Service.Name}";
            case "initd":
                return ns is null ? $"{EtcDir}/{Service.Name}.d" : $"{EtcDir}/namespaces/{ns}/svc/{Service.Name}.d";
            case "collector_api":
                return ""; // no collector: OpenSVC's value without one
            case "dns_janitor_major":
                return "1";
            default:
                return null;
        }
    }

    static string ApplyModifier(string modifier, string value) => modifier switch
    {
        "upper" => value.ToUpperInvariant(),
        "lower" => value.ToLowerInvariant(),
        "capitalize" => value.Length == 0 ? value : char.ToUpperInvariant(value[0]) + value[1..].ToLowerInvariant(),
        "title" => Title(value),
        "swapcase" => new string(value.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)).ToArray()),
        _ => value.Contains(':') ? $"[{value}]" : value, // uri_ip
    };

    /// <summary>Python's str.title: a letter after a non-letter is upper case, the others lower case.</summary>
    static string Title(string value)
    {
        var chars = value.ToCharArray();
        var previousLetter = false;
        for (var i = 0; i < chars.Length; i++)
        {
            var letter = char.IsLetter(chars[i]);
            chars[i] = letter ? (previousLetter ? char.ToLowerInvariant(chars[i]) : char.ToUpperInvariant(chars[i])) : chars[i];
            previousLetter = letter;
        }
        return new string(chars);
    }

    static string? NullIfBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

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
            var inner = Resolve(indexed.Groups[1].Value, context, depth, new Budget(budget.Shared));
            if (inner is null)
                return Unresolvable(indexed.Groups[1].Value, context, depth, budget) with { Reference = reference };
            var count = Converters.List(inner).Count;
            return Problem($"{{{indexed.Groups[1].Value}}} has {count} word{(count == 1 ? "" : "s")}",
                count == 0 ? $"give {indexed.Groups[1].Value} a value" : $"use an index from 0 to {count - 1}");
        }
        var modifier = name.IndexOf(':');
        if (modifier > 0 && name[..modifier] == "safe")
            return Problem("OpenSVC's safe:// references (its secret store) are not supported by this agent", "write the value instead");
        if (modifier > 0 && Modifiers.Contains(name[..modifier]))
            return Unresolvable(name[(modifier + 1)..], context, depth, budget) with { Reference = reference };
        if (UnsupportedBuiltIns.Contains(name))
            return Problem("this OpenSVC reference names OpenSVC's own commands or cluster DNS sockets, which this agent does not have",
                "write the value instead");
        if (name == "clusterid")
            return Problem("the cluster id is not known to this agent", "set OPENSVC_CLUSTER_ID in the agents' environment, or write the value");
        if (name == "clusternodes")
            return Problem("the cluster's node list is not known while the service's own nodes are being read",
                "set OPENSVC_CLUSTER_NODES in the agents' environment, or list the nodes");
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
            : $"use a keyword set in {where}, {{env.<key>}}, {{<section>.<keyword>}} or a built-in reference such as {{nodename}} {{name}} {{namespace}} {{id}} {{clustername}} (docs/migrating-from-opensvc.md lists them)");
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

        var colon = name.IndexOf(':');
        if (colon > 0 && Modifiers.Contains(name[..colon]))
        {
            var inner = Resolve(name[(colon + 1)..], context, depth, budget);
            return inner is null ? null : ApplyModifier(name[..colon], inner);
        }
        if (BuiltIn(name, context) is { } builtIn)
            return builtIn;
        if (BuiltIns.Contains(name))
            return null;

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
                return envEntry is null ? null : ExpandValue(envEntry.Value, envSection!, depth, budget);
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
        return raw is null ? null : ExpandValue(raw, from, depth, budget);
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

    /// <summary>OpenSVC's scaler names drop the slice prefixes (<c>[0-9]+\.</c>).</summary>
    [GeneratedRegex(@"[0-9]+\.")]
    private static partial Regex ScalerPrefix();
}
