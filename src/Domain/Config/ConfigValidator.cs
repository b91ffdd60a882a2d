namespace OpenSvc.Domain.Config;

/// <summary>
/// Reports every problem of a configuration at once: reading problems, keyword problems, and the
/// problems of resolving it on each node of <c>nodes</c> ∪ <c>drpnodes</c>. A problem found on every
/// node is reported once without a node.
/// </summary>
public static class ConfigValidator
{
    static readonly string[] ReservedScopes = ["nodes", "drpnodes", "encapnodes", "flex_primary", "drp_flex_primary"];

    public static IReadOnlyList<ConfigProblem> Validate(
        ConfigDocument doc,
        string serviceName,
        IReadOnlyDictionary<string, string>? environment = null,
        ConfigBudget? budget = null)
    {
        budget ??= new ConfigBudget();
        var problems = new List<ConfigProblem>(doc.Problems);
        problems.AddRange(DocumentProblems(doc));

        var path = ServicePath.Parse(serviceName);
        var declared = DeclaredNodes(doc);
        // No node: DocumentProblems reports it (NoNodes). Still resolve, as OpenSVC would on the host reading the file,
        // to report every other problem at once.
        if (declared.Count == 0)
            declared = [new NodeName("localhost")];
        // Past the cap (reported by DocumentProblems), the nodes beyond it are not resolved.
        if (declared.Count > ConfigBudget.MaxNodes)
            declared = declared.Take(ConfigBudget.MaxNodes).ToList();

        // Nodes that read the document alike are resolved once: validation costs one resolution per kind of node,
        // not per node (each class's problems hold for each of its members).
        var perNode = new List<(NodeName Node, ConfigProblem Problem)>();
        foreach (var members in NodeClasses(doc, declared))
        {
            var found = new List<ConfigProblem>();
            ServiceResolver.ResolveForNode(doc, path, members[0], environment, found, budget);
            foreach (var problem in found.Distinct())
                perNode.AddRange(members.Select(m => (m, problem.Node is null ? problem : problem with { Node = m })));
        }
        // A document that spent its budget is refused as a whole, wherever it ran out.
        if (budget.SpentAt is var (spentSection, spentEntry))
            problems.Add(new ConfigProblem(doc.File, spentEntry?.Line ?? spentSection.Line, spentSection.Name, spentEntry?.Key, Severity.Error,
                $"expanding references stopped here: {budget.Describe()} (over every node); the values past this point stay unexpanded",
                "reference fewer values, or values that do not reference each other repeatedly", null));

        // A finding every node shares is a finding about the file, not about a node.
        // A value the document check already reports as written is not reported again per node.
        var documentLevel = problems.ToHashSet();
        foreach (var group in perNode.GroupBy(x => x.Problem with { Node = null }))
        {
            if (documentLevel.Contains(group.Key))
                continue;
            var nodes = group.Select(x => x.Node).Distinct().ToList();
            if (nodes.Count == declared.Count)
                problems.Add(group.Key);
            else
                problems.AddRange(nodes.Select(n => group.Key with { Node = n }));
        }
        return problems.Distinct().ToList();
    }

    /// <summary>
    /// Nodes resolved one by one when the document's values depend on the node's name: the others are checked through
    /// a node of the same membership (what makes cost linear in the node count, whatever the document says).
    /// </summary>
    internal const int MaxIndividualNodes = 64;

    /// <summary>
    /// Groups the declared nodes by what they see of the document: membership of nodes, drpnodes and encapnodes,
    /// being flex_primary or drp_flex_primary. A node the document names anywhere else (a scope, always_on, a value),
    /// or (up to <see cref="MaxIndividualNodes"/>) every node when a value references the node's own name or when the
    /// membership lists hold references, is a class of its own. The first node of a class stands for it.
    /// </summary>
    internal static List<List<NodeName>> NodeClasses(ConfigDocument doc, IReadOnlyList<NodeName> declared)
    {
        var def = doc.Default;
        string[] membershipKeys = ["nodes", "drpnodes", "drpnode", "encapnodes", "flex_primary", "drp_flex_primary"];
        var perNode = declared.Count <= 1
            || membershipKeys.Any(k => def.Entries.Any(e => e.Keyword == k && e.Value.Contains('{')));
        var named = new HashSet<string>(StringComparer.Ordinal);
        if (!perNode)
        {
            foreach (var section in doc.Sections)
            {
                foreach (var entry in section.Entries)
                {
                    if (entry.Scope is not null)
                        named.Add(entry.Scope);
                    if (section == def && membershipKeys.Contains(entry.Keyword) && entry.Keyword is not ("flex_primary" or "drp_flex_primary"))
                        continue;
                    if (entry.Value.Contains("nodename", StringComparison.Ordinal))
                    {
                        perNode = true;
                        break;
                    }
                    foreach (var token in Converters.List(entry.Value))
                        named.Add(token.ToLowerInvariant());
                }
                if (perNode)
                    break;
            }
        }
        var nodes = Converters.List(def.Get("nodes")?.Value).ToHashSet(StringComparer.Ordinal);
        var drpnodes = Converters.List(def.Get("drpnodes")?.Value).Select(n => n.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        if (def.Get("drpnode")?.Value.Trim().ToLowerInvariant() is { Length: > 0 } drpnode)
            drpnodes.Add(drpnode);
        var encap = Converters.List(def.Get("encapnodes")?.Value).ToHashSet(StringComparer.Ordinal);
        var firstNode = Converters.List(def.Get("nodes")?.Value).FirstOrDefault();
        var firstDrp = def.Get("drpnode")?.Value.Trim().ToLowerInvariant() is { Length: > 0 } d ? d
            : Converters.List(def.Get("drpnodes")?.Value).FirstOrDefault()?.ToLowerInvariant();
        var classes = new Dictionary<string, List<NodeName>>(StringComparer.Ordinal);
        var result = new List<List<NodeName>>();
        var individual = 0;
        foreach (var node in declared)
        {
            var name = node.Value;
            // flex_primary and drp_flex_primary default to the first node of their list: those are named too.
            var key = named.Contains(name) || name == firstNode || name == firstDrp || (perNode && individual++ < MaxIndividualNodes)
                ? "node:" + name
                : $"{nodes.Contains(name)}|{drpnodes.Contains(name)}|{encap.Contains(name)}";
            if (!classes.TryGetValue(key, out var members))
            {
                classes[key] = members = [];
                result.Add(members);
            }
            members.Add(node);
        }
        return result;
    }

    /// <summary>
    /// The error for a config whose DEFAULT names no node. OpenSVC then runs the service on the host reading the file,
    /// which works when each host has its own copy; here the config is stored once for the whole cluster, so every
    /// agent would take itself for the service's only node (a failover service up everywhere), and the planner had no
    /// node to plan on. Validate, svc create and plan all refuse it with this message.
    /// </summary>
    public static ConfigProblem NoNodes(ConfigDocument doc) =>
        new(doc.File, doc.Default.Get("nodes")?.Line ?? doc.Default.Line, ConfigDocument.DefaultSection, "nodes", Severity.Error,
            "no node declared: OpenSVC's default (the host reading the file) cannot work for a config every agent of the cluster shares",
            "add nodes = <node names> to [DEFAULT]", null);

    /// <summary>Nodes the service declares, in order: nodes, then drpnodes (drpnode at their head).</summary>
    internal static IReadOnlyList<NodeName> DeclaredNodes(ConfigDocument doc)
    {
        var names = Converters.List(doc.Default.Get("nodes")?.Value).ToList();
        var drp = Converters.List(doc.Default.Get("drpnodes")?.Value).Select(n => n.ToLowerInvariant()).ToList();
        var drpnode = doc.Default.Get("drpnode")?.Value.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(drpnode) && !drp.Contains(drpnode))
            drp.Insert(0, drpnode);
        var result = new List<NodeName>();
        var seen = new HashSet<NodeName>();
        foreach (var name in names.Concat(drp))
            if (NodeName.TryParse(name, out var node) && seen.Add(node))
                result.Add(node);
        return result;
    }

    /// <summary>Problems that do not depend on the node: sections, keywords, scopes, aliases, candidates, topology.</summary>
    internal static IEnumerable<ConfigProblem> DocumentProblems(ConfigDocument doc)
    {
        var problems = new List<ConfigProblem>();
        var declared = DeclaredNodes(doc).Select(n => n.Value).ToHashSet(StringComparer.Ordinal);
        void Add(ConfigSection s, ConfigEntry? e, Severity severity, string reason, string? fix) =>
            problems.Add(new ConfigProblem(doc.File, e?.Line ?? s.Line, s.Name, e?.Key, severity, reason, fix, null));

        foreach (var section in doc.Sections)
        {
            if (KeywordTable.FreeFormSections.Contains(section.Name) || section.Group == "subset")
                continue;
            if (section.Name == ConfigSync.Section)
            {
                Add(section, null, Severity.Info, $"accepted and not run: {ConfigSync.Why}", null);
                foreach (var entry in section.Entries)
                    Add(section, entry, Severity.Info, ConfigSync.Ignored(entry.Keyword), null);
                continue;
            }
            var isDefault = section.Name == ConfigDocument.DefaultSection;
            if (!isDefault && (section.Index is null || !KeywordTable.ResourceGroups.Contains(section.Group)))
            {
                Add(section, null, Severity.Warning, $"ignored section: '{section.Group}' is not a resource group",
                    $"use one of: {string.Join(", ", KeywordTable.ResourceGroups.Select(g => g + "#<index>"))}");
                continue;
            }
            var (group, type) = ConfigReader.SectionType(section);
            if (!isDefault && !(DriverCatalog.Find(group, type) is not null))
            {
                // A resource this agent cannot run would silently be missing from every action: an error, unless the
                // section is disabled anyway.
                var disabled = Converters.TryBool(section.Get("disable")?.Value, out var off) && off;
                var written = section.Get("type")?.Value.Trim();
                Add(section, section.Get("type"), disabled ? Severity.Warning : Severity.Error,
                    $"{(disabled ? "ignored section" : "unsupported resource")}: driver {group}.{written ?? type ?? "(none)"} is not supported by this agent"
                    + (disabled ? "" : $", the service would run without {section.Name}"),
                    disabled ? null : UnsupportedTypeFix(group, written));
                continue;
            }

            foreach (var entry in section.Entries)
                CheckEntry(section, entry, group, type, isDefault, declared, Add);
            if (!isDefault)
                CheckAlwaysOn(section, declared, Add);
        }
        CheckMountPoints(doc, Add);
        CheckNodesAndDrpnodes(doc, Add);
        if (declared.Count > ConfigBudget.MaxNodes)
            Add(doc.Default, doc.Default.Get("nodes") ?? doc.Default.Get("drpnodes"), Severity.Error,
                $"{declared.Count} nodes declared: more than the {ConfigBudget.MaxNodes} a service may have (the nodes past it are not checked)",
                "list the nodes the service runs on, not every host");
        if (!Converters.List(doc.Default.Get("nodes")?.Value).Any(n => NodeName.TryParse(n, out _)))
            problems.Add(NoNodes(doc));

        var def = doc.Default;
        if (def.Get("autostart_node") is { } autostart)
            Add(def, autostart, Severity.Warning,
                "autostart_node is deprecated (OpenSVC 2015; removed in 2017): read here as orchestrate = start, the service starting by itself on these nodes only",
                $"orchestrate = start, with nodes ordered {autostart.Value.Trim()} first");
        if (def.Get("orchestrate") is { } orchestrateEntry && orchestrateEntry.Value.Trim().Equals("ha", StringComparison.OrdinalIgnoreCase))
            Add(def, orchestrateEntry, Severity.Warning,
                "orchestrate = ha: automatic failover after a node loss is not acted on yet; the service starts by itself when an agent starts (as with orchestrate = start), and a lost node needs an operator's takeover",
                "opensvc svc takeover SVC --node N --reason ... after a node loss");
        var flexPrimary = def.Get("flex_primary");
        var topology = (def.Get("topology") ?? def.Get("cluster_type"))?.Value.Trim().ToLowerInvariant();
        if (flexPrimary is not null && topology != "flex")
            Add(def, flexPrimary, Severity.Warning,
                "flex_primary is set but topology is not flex: the service behaves as failover and flex_primary only acts as a scope",
                "topology = flex");
        foreach (var key in new[] { "flex_primary", "drp_flex_primary" })
        {
            var entry = def.Get(key);
            var value = entry?.Value.Trim().ToLowerInvariant();
            if (entry is not null && value!.Length > 0 && !value.Contains('{') && declared.Count > 0 && !declared.Contains(value))
                Add(def, entry, Severity.Error, $"node '{value}' is not declared in nodes or drpnodes",
                    $"add {value} to nodes or drpnodes, or name a declared node");
        }
        return problems;
    }

    static string UnsupportedTypeFix(string group, string? written)
    {
        var types = DriverCatalog.WritableTypes(group);
        if (types.Count == 0)
            return $"remove the section or add disable = true: this agent has no {group} driver";
        if (types.Count == 1)
            return $"type = {types[0]}";
        if (written is not null)
        {
            var near = types.Where(t => Spelling.Distance(t, written.ToLowerInvariant()) <= 2).ToList();
            if (near.Count == 1)
                return $"type = {near[0]}";
        }
        return $"set {string.Join(" or ", types.Select(t => $"type = {t}"))}, or add disable = true";
    }

    /// <summary>always_on names node sets or declared nodes; anything else would quietly leave the resource not standby.</summary>
    static void CheckAlwaysOn(ConfigSection section, HashSet<string> declared, Action<ConfigSection, ConfigEntry?, Severity, string, string?> add)
    {
        var entry = section.Get("always_on");
        if (entry is null || entry.Value.Contains('{'))
            return;
        foreach (var token in Converters.List(entry.Value))
        {
            if (token is "nodes" or "drpnodes" || declared.Contains(token))
                continue;
            var lower = token.ToLowerInvariant();
            var fix = lower is "nodes" or "drpnodes" || declared.Contains(lower) ? $"write {lower} in lower case"
                : lower is "drpnode" or "drp" ? "always_on = drpnodes"
                : "use nodes, drpnodes or a node declared in nodes or drpnodes";
            add(section, entry, Severity.Error, $"always_on: '{ValueReader.Shorten(token)}' is neither nodes, drpnodes nor a declared node", fix);
        }
    }

    /// <summary>Every fs mounts on an absolute path of its own (a relative one would land in the agent's working directory).</summary>
    static void CheckMountPoints(ConfigDocument doc, Action<ConfigSection, ConfigEntry?, Severity, string, string?> add)
    {
        var seen = new Dictionary<(string? Scope, string Path), string>();
        foreach (var section in doc.Sections.Where(s => s.Group == "fs" && s.Index is not null))
        {
            foreach (var entry in section.Entries.Where(e => e.Keyword == "mnt"))
            {
                var value = entry.Value.Trim();
                if (value.Length == 0 || value.Contains('{'))
                    continue;
                if (!value.StartsWith('/'))
                {
                    add(section, entry, Severity.Error, $"mount point '{ValueReader.Shorten(value)}' is not an absolute path", $"{entry.Key} = /{value.TrimStart('.', '/')}");
                    continue;
                }
                var path = value.Length > 1 ? value.TrimEnd('/') : value;
                if (seen.TryGetValue((entry.Scope, path), out var other))
                    add(section, entry, Severity.Error, $"{section.Name} and {other} both mount on {path}", "give each fs its own mnt");
                else
                    seen[(entry.Scope, path)] = section.Name;
            }
        }
    }

    /// <summary>
    /// A node is production or DR, never both: the planner refuses every action on such a service. Node names are
    /// lower case (agents name themselves after their lower-cased host name): nodes is compared as written, as in
    /// OpenSVC, so a capital makes a node nobody is; drpnodes and drpnode are lower-cased, so a scope written with the
    /// capital would not match.
    /// </summary>
    static void CheckNodesAndDrpnodes(ConfigDocument doc, Action<ConfigSection, ConfigEntry?, Severity, string, string?> add)
    {
        var def = doc.Default;
        foreach (var key in new[] { "nodes", "drpnodes", "drpnode" })
        {
            var entry = def.Get(key);
            if (entry is null || entry.Value.Contains('{'))
                continue;
            var names = Converters.List(entry.Value);
            var capitalised = names.Where(n => n.Any(char.IsUpper)).Distinct().ToList();
            if (capitalised.Count == 0)
                continue;
            var reason = key == "nodes"
                ? "compared as written, while node names are lower case: no agent would recognise itself"
                : $"read in lower case: a scope or always_on written {(capitalised.Count == 1 ? "so" : "with capitals")} would not match";
            add(def, entry, Severity.Warning, $"node name{(capitalised.Count == 1 ? "" : "s")} {string.Join(", ", capitalised.Select(n => $"'{ValueReader.Shorten(n)}'"))} {(capitalised.Count == 1 ? "has" : "have")} capitals, {reason}",
                $"{key} = {ValueReader.Shorten(string.Join(' ', names.Select(n => n.ToLowerInvariant())))}");
        }
        var nodes = Converters.List(def.Get("nodes")?.Value).Select(n => n.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        foreach (var key in new[] { "drpnodes", "drpnode" })
        {
            var entry = def.Get(key);
            if (entry is null || entry.Value.Contains('{'))
                continue;
            foreach (var node in Converters.List(entry.Value).Select(n => n.ToLowerInvariant()).Where(nodes.Contains).Distinct())
                add(def, entry, Severity.Error, $"{node} is listed in both nodes and {key}: a node is either a production or a DR node",
                    $"remove {node} from nodes or from {key}");
        }
    }

    static void CheckEntry(ConfigSection section, ConfigEntry entry, string group, string? type, bool isDefault,
        HashSet<string> declared, Action<ConfigSection, ConfigEntry?, Severity, string, string?> add)
    {
        var name = entry.Keyword;
        if (KeywordTable.FindRemoved(group, type, name) is { } removed)
        {
            add(section, entry, Severity.Warning, removed.Reason, removed.Fix);
            return;
        }
        var keyword = KeywordTable.Find(group, type, name);
        if (keyword is null && KeywordTable.FindByAlias(group, type, name) is { } modern)
        {
            keyword = modern;
            add(section, entry, Severity.Warning, $"deprecated keyword: use {modern.Name}", $"rename {name} to {modern.Name}");
        }
        if (keyword is null && isDefault && KeywordTable.FindInheritableFromDefault(name) is { } inherited)
            keyword = inherited;
        if (keyword is null && KeywordTable.IsHookKeyword(name))
        {
            // Deliberately refused: a fencing or preparation hook the user relies on must not be skipped silently.
            var (what, fix) = name.EndsWith("_requires", StringComparison.Ordinal)
                ? ($"OpenSVC makes {(isDefault ? "the service" : section.Name)} wait for the resources' states it names before the action; this agent does not, its order is OpenSVC's driver order (ip, disk, fs, container, ...)",
                    $"remove {entry.Key}, and rely on the driver order (containers after filesystems, ips with their container)")
                : ($"OpenSVC runs this command {(name.StartsWith("blocking_", StringComparison.Ordinal) ? "and stops the action when it fails" : "around the action")}; this agent runs no triggers, so the service would run without it",
                    $"remove {entry.Key} and run the command outside the agent (fencing before a takeover included), or keep this service on OpenSVC");
            add(section, entry, Severity.Error, $"{name} is refused: {what}", fix);
            return;
        }
        if (keyword is null)
        {
            add(section, entry, Severity.Warning, $"ignored option {section.Name}.{name}", null);
            return;
        }

        if (entry.Scope is not null)
        {
            if (!keyword.Scopable)
            {
                add(section, entry, Severity.Error, $"keyword {name} does not support scoping: {entry.Key} is ignored",
                    $"remove the @{entry.Scope} suffix");
                return;
            }
            if (!ReservedScopes.Contains(entry.Scope) && declared.Count > 0 && !declared.Contains(entry.Scope))
                add(section, entry, Severity.Error, $"scope '@{entry.Scope}' names a node not declared in nodes or drpnodes",
                    $"add {entry.Scope} to nodes or drpnodes, or use @nodes / @drpnodes");
        }

        if (entry.Value.Contains('{'))
            return; // References expand per node: the resolver checks the expanded value.
        if (ValueReader.Unreadable(keyword, entry.Key, entry.Value) is { } unreadable)
            add(section, entry, Severity.Error, unreadable.Reason, unreadable.Fix);
        if (keyword.Candidates is { } candidates)
        {
            var tokens = keyword.Kind == ValueKind.List ? Converters.List(entry.Value) : [entry.Value.Trim().ToLowerInvariant()];
            foreach (var token in tokens.Where(t => !candidates.Contains(t)))
                add(section, entry, Severity.Error, $"'{ValueReader.Shorten(token)}' is not in valid candidates: {string.Join(", ", candidates)}",
                    name == "target" && token == "both" ? "target = nodes drpnodes" : $"use one of: {string.Join(", ", candidates)}");
        }
    }
}
