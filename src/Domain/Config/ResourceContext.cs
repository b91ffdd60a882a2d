namespace OpenSvc.Domain.Config;

/// <summary>Builds the typed resources of one service for one node and reports per-node problems.</summary>
internal sealed class ResourceContext(
    ConfigReader reader,
    ValueReader values,
    ServicePath path,
    IReadOnlyList<string> nodes,
    IReadOnlyList<string> drpnodes,
    IReadOnlyList<NodeName> nodeNames,
    IReadOnlyList<NodeName> drpNodeNames,
    List<ConfigProblem> problems)
{
    ConfigDocument Doc => reader.Document;
    NodeName Node => reader.Node;

    /// <summary>DEFAULT.disable: OpenSVC's resources are all disabled when their service is.</summary>
    public bool ServiceDisabled { get; init; }

    public ServiceResource? Build(ConfigSection section)
    {
        var (group, type) = ConfigReader.SectionType(section);
        if (!(DriverCatalog.Find(group, type) is not null) || !ResourceId.TryParse(section.Name, out var rid))
            return null;

        CheckRequired(section, group, type);

        var tags = values.List(section, "tags").Distinct().ToList();
        var explicitOptional = values.Bool(section, "optional");
        var common = new Common(
            rid,
            DriverCatalog.Find(group, type)!.Name,
            section.Line,
            Standby(section),
            ServiceDisabled || (values.Bool(section, "disable") ?? false),
            explicitOptional ?? (group is "sync" or "task" || tags.Contains("noaction")),
            tags,
            ResolvedKeywords(section, group, type));

        return (group, type) switch
        {
            ("fs", _) => BuildFs(section, common),
            ("container", _) => BuildContainer(section, common),
            ("ip", _) => BuildIp(section, common),
            ("sync", "docker") => BuildSync(section, common, s => new DockerSync
            {
                Id = s.Id, Driver = s.Driver, Line = s.Line, Standby = s.Standby, Disabled = s.Disabled, Optional = s.Optional,
                Tags = s.Tags, Keywords = s.Keywords, TargetTokens = s.TargetTokens, Targets = s.Targets, Schedule = s.Schedule,
                SyncMaxDelaySeconds = s.SyncMaxDelaySeconds,
                DstFs = null, // set in Finish, once every fs is known
            }),
            ("sync", "btrfs") => BuildBtrfs(section, common),
            ("sync", _) => BuildRsync(section, common),
            _ => null,
        };
    }

    sealed record Common(ResourceId Id, string Driver, int Line, bool Standby, bool Disabled, bool Optional,
        IReadOnlyList<string> Tags, IReadOnlyDictionary<string, string> Keywords);

    sealed record SyncCommon(ResourceId Id, string Driver, int Line, bool Standby, bool Disabled, bool Optional,
        IReadOnlyList<string> Tags, IReadOnlyDictionary<string, string> Keywords,
        IReadOnlyList<string> TargetTokens, IReadOnlyList<NodeName> Targets, string Schedule, long SyncMaxDelaySeconds);

    FsResource BuildFs(ConfigSection section, Common c)
    {
        var type = values.String(section, "type");
        var mntOpt = values.String(section, "mnt_opt");
        if (type is null)
        {
            var guess = mntOpt?.Contains("subvol=", StringComparison.Ordinal) == true ? "btrfs" : "<fs type>";
            Add(section, null, "type", Severity.Warning,
                "no type: the filesystem is mounted without -t (the kernel guesses the type)", $"add type = {guess}");
        }
        return new FsResource
        {
            Id = c.Id, Driver = c.Driver, Line = c.Line, Standby = c.Standby, Disabled = c.Disabled, Optional = c.Optional,
            Tags = c.Tags, Keywords = c.Keywords,
            Type = type,
            Dev = values.String(section, "dev"),
            Mnt = ExpandedMountPoint(section),
            MntOpt = mntOpt,
        };
    }

    /// <summary>
    /// The mount point on this node. A value written as is was checked by the document check
    /// (<see cref="ConfigValidator"/>); one written with references (<c>mnt = {env.base}/data</c>) can only be checked
    /// once expanded, here: it must be an absolute path too (a relative one lands in the agent's working directory, one
    /// starting with '-' would reach mount as an option).
    /// </summary>
    string? ExpandedMountPoint(ConfigSection section)
    {
        var read = values.Get(section, "mnt");
        var mnt = NullIfBlank(read?.Value);
        if (mnt is null || read!.Entry is not { } entry || !entry.Value.Contains('{') || read.Unresolved.Count > 0 || mnt.StartsWith('/'))
            return mnt is null ? null : read!.Value;
        var written = entry.Value.Trim();
        values.Error(section, "mnt",
            $"mount point '{ValueReader.Shorten(written)}' expands to '{ValueReader.Shorten(mnt)}', which is not an absolute path"
            + (mnt.StartsWith('-') ? " (mount would read it as an option)" : ""),
            $"{entry.Key} = /{written.TrimStart('.', '/', '-')}, or make the references expand to an absolute path");
        return read.Value;
    }

    DockerContainer BuildContainer(ConfigSection section, Common c)
    {
        var runArgs = values.Shlex(section, "run_args");
        var netnsRead = values.Get(section, "netns");
        var netns = string.IsNullOrWhiteSpace(netnsRead?.Value) ? null : netnsRead!.Value.Trim();
        string? netnsNetwork = null;
        ResourceId? joins = null;
        if (netns == "host")
            netnsNetwork = "host";
        else if (netns is not null && ContainerSection(netns) is { } other && ResourceId.TryParse(other.Name, out var otherRid))
        {
            if (other == section)
                values.Error(section, "netns", $"{section.Name} cannot join its own network namespace",
                    "remove netns (the container gets no network), or name another container or host");
            else
            {
                netnsNetwork = $"container:{ContainerName(other)}";
                joins = otherRid;
            }
        }
        else if (netns is not null)
            ReportNoContainer(section, netns);

        var hostname = values.String(section, "hostname");
        var options = DockerRunOptions.Parse(section.Name, runArgs, values.Shlex(section, "environment"), values.Shlex(section, "volume_mounts"),
            hostname?.Trim(), netnsNetwork);
        // A disabled container is never run: what its options say does not matter until it is enabled.
        if (!c.Disabled)
        {
            foreach (var problem in options.Problems)
                values.Error(section, problem.Keyword, problem.Reason, problem.Fix);
            foreach (var risk in options.HostAccess())
                Add(section, values.Get(section, risk.Keyword)?.Entry, risk.Keyword, Severity.Warning, risk.Reason, risk.Fix);
        }

        if (joins is null && options.Network.StartsWith("container:", StringComparison.Ordinal))
        {
            var name = options.Network["container:".Length..];
            var joined = Doc.Sections.FirstOrDefault(s => s.Group == "container" && s.Index is not null && ContainerName(s) == name);
            if (joined == section)
                values.Error(section, "run_args", $"--net=container:{name} is {section.Name} itself: a container cannot join its own network namespace",
                    "remove the --net option, or name another container");
            else if (joined is not null && ResourceId.TryParse(joined.Name, out var joinedRid))
                joins = joinedRid;
        }
        if (joins is { } j && !c.Disabled && Doc.Section(j.ToString()) is { } owner && (values.Bool(owner, "disable") ?? false))
            values.Error(section, netnsNetwork is not null ? "netns" : "run_args",
                $"{section.Name} joins the network namespace of {owner.Name}, which is disabled{OnNode(owner)}: docker cannot start it",
                $"enable {owner.Name}, or let {section.Name} own its network (remove {(netnsNetwork is not null ? "netns" : "--net")})");

        return new DockerContainer
        {
            Id = c.Id, Driver = c.Driver, Line = c.Line, Standby = c.Standby, Disabled = c.Disabled, Optional = c.Optional,
            Tags = c.Tags, Keywords = c.Keywords,
            Image = values.String(section, "image"),
            Command = values.Shlex(section, "command"),
            RunArgs = runArgs,
            Name = ContainerName(section),
            Hostname = hostname,
            NetNs = netns,
            NetworkArg = netnsNetwork is not null ? "--net=" + netnsNetwork : options.RunArgsNetwork is null ? "--net=none" : null,
            EffectiveNetwork = "--net=" + options.Network,
            JoinsNetworkOf = joins,
            RunOptions = options,
            Rm = values.Bool(section, "rm") ?? false,
            Detach = values.Bool(section, "detach") ?? true,
        };
    }

    DockerIp BuildIp(ConfigSection section, Common c)
    {
        var netnsRead = values.Get(section, "netns");
        var netns = string.IsNullOrWhiteSpace(netnsRead?.Value) ? null : netnsRead!.Value.Trim();
        var owner = netns is null ? null : ContainerSection(netns);
        if (netns is not null && owner is null)
            ReportNoContainer(section, netns);
        else if (owner is not null && !c.Disabled && (values.Bool(owner, "disable") ?? false))
            values.Error(section, "netns", $"the address lives in the network namespace of {owner.Name}, which is disabled{OnNode(owner)}: it cannot be plumbed",
                $"enable {owner.Name}, or disable {section.Name} too");
        var tags = c.Tags.ToList();
        foreach (var tag in new[] { "docker", netns }.OfType<string>())
            if (!tags.Contains(tag))
                tags.Add(tag);
        var ip = new DockerIp
        {
            Id = c.Id, Driver = c.Driver, Line = c.Line, Standby = c.Standby, Disabled = c.Disabled, Optional = c.Optional,
            Tags = tags, Keywords = c.Keywords,
            IpName = values.String(section, "ipname")?.Trim(),
            IpDev = values.String(section, "ipdev"),
            Netmask = values.String(section, "netmask")?.Trim(),
            Gateway = values.String(section, "gateway")?.Trim(),
            NetNs = netns,
            Mode = values.String(section, "mode")?.Trim() ?? "bridge",
        };
        // A disabled ip is never plumbed: what it says does not matter until it is enabled.
        if (!c.Disabled)
        {
            foreach (var problem in IpAddressing.Check(ip.IpName, ip.Netmask, ip.Gateway, ip.Mode))
            {
                // A value set for other nodes only: the fix names this node's scope.
                var unsetHere = values.Get(section, problem.Keyword) is null;
                var scopedElsewhere = section.Entries.Any(e => e.Keyword == problem.Keyword && e.Scope is not null);
                values.Error(section, problem.Keyword, problem.Reason,
                    unsetHere && scopedElsewhere ? $"add {problem.Keyword}@{Node} = ..." : problem.Fix);
            }
        }
        return ip;
    }

    T BuildSync<T>(ConfigSection section, Common c, Func<SyncCommon, T> create) where T : SyncResource
    {
        var tokens = values.List(section, "target");
        var targets = new List<NodeName>();
        var seen = new HashSet<NodeName>();
        foreach (var token in tokens)
        {
            var expanded = token switch
            {
                "nodes" => nodeNames,
                "drpnodes" => drpNodeNames,
                _ => [],
            };
            foreach (var n in expanded)
                if (seen.Add(n))
                    targets.Add(n);
        }
        if (tokens.Count > 0 && tokens.All(t => t is "nodes" or "drpnodes") && targets.Count == 0)
        {
            var declare = tokens.Contains("drpnodes") ? "declare drpnodes in DEFAULT" : "declare nodes in DEFAULT";
            Add(section, values.Get(section, "target")?.Entry, "target", Severity.Warning,
                $"target '{string.Join(' ', tokens)}' resolves to no node: this sync never sends anything and reports n/a",
                $"{declare}, or set target to a populated node list");
        }
        // An explicit empty value (here or in DEFAULT.sync_schedule) or @0 means never, as in OpenSVC; only an absent one defaults.
        var schedule = values.Get(section, "schedule") is { } set ? set.Value.Trim() : "~04:00-06:00";
        var scheduleRead = values.Get(section, "schedule");
        if (!Config.Schedule.TryParse(schedule, out var parsedSchedule, out var scheduleError))
            Add(scheduleRead?.From ?? section, scheduleRead?.Entry, "schedule", Severity.Error,
                $"'{ValueReader.Shorten(schedule)}' is not a schedule: {scheduleError}",
                "write e.g. ~04:00-06:00, 04:00-06:00@2h, @30 sat,sun, [\"00:00-01:00@61 mon\", \"! 00:00-23:59 * * dec\"]; empty or @0: never");
        else if (SchedulePitfall(parsedSchedule!) is { } pitfall)
            Add(scheduleRead?.From ?? section, scheduleRead?.Entry, "schedule", Severity.Warning, pitfall.Reason, pitfall.Fix);
        var delay = values.Duration(section, "sync_max_delay") ?? 97200;
        return create(new SyncCommon(c.Id, c.Driver, c.Line, c.Standby, c.Disabled, c.Optional, c.Tags, c.Keywords,
            tokens, targets, schedule, delay));
    }

    /// <summary>
    /// A day of the month on chosen weekdays (<c>sun:last</c>, <c>mon:1</c>): OpenSVC's agents require both to hold
    /// (a sunday that is the last day), while its doc reads it as the nth weekday. We run what the agents run, and say so.
    /// </summary>
    static (string Reason, string Fix)? SchedulePitfall(Schedule schedule)
    {
        foreach (var x in schedule.Expressions)
        {
            var picked = x.Days.Where(d => d.MonthDay != 0).GroupBy(d => d.MonthDay).FirstOrDefault(g => g.Count() < 7);
            if (picked is null)
                continue;
            string[] names = ["", "mon", "tue", "wed", "thu", "fri", "sat", "sun"];
            var day = names[picked.First().IsoWeekday];
            var n = picked.Key;
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            var monthDay = n == -1 ? "last day" : n > 0 ? $"day {n.ToString(inv)}" : $"day {n.ToString(inv)} (from the end)";
            var nth = n == -1 ? $"the last {day}" : n > 0 ? $"{day} number {n.ToString(inv)}" : $"{day} number {n.ToString(inv)} (from the end)";
            var week = n > 0 ? Enumerable.Range((n - 1) * 7 + 1, 7) : Enumerable.Range(7 * (-n - 1) + 1, 7).Select(i => -i).Reverse();
            return ($"'{day}:{(n == -1 ? "last" : n.ToString(inv))}' runs on a {day} that is also the month's {monthDay}, as OpenSVC's agents evaluate it (its doc reads it as {nth} of the month)",
                $"for {nth} of the month write {string.Join(',', week.Select(i => $"{day}:{i.ToString(inv)}"))}");
        }
        return null;
    }

    BtrfsSync BuildBtrfs(ConfigSection section, Common c)
    {
        BtrfsVolume? Volume(string name)
        {
            var read = values.Get(section, name);
            if (read is null || string.IsNullOrWhiteSpace(read.Value))
                return null;
            if (BtrfsVolume.TryParse(read.Value.Trim(), out var volume))
            {
                if (volume.Refusal is not { } refusal)
                    return volume;
                Add(section, read.Entry, name, Severity.Error, $"'{ValueReader.Shorten(read.Value.Trim())}' is refused: {refusal}",
                    $"write {name} = <fs label>:<subvolume path inside the filesystem>, e.g. {name} = {ValueReader.Shorten(volume.Label)}:data");
                return null;
            }
            Add(section, read.Entry, name, Severity.Error,
                $"'{ValueReader.Shorten(read.Value)}' is not LABEL:subvol (malformed {name} value)",
                $"write {name} = <fs label>:<subvolume path>, e.g. {name} = svc1:data");
            return null;
        }
        var src = Volume("src");
        var dst = Volume("dst");
        var recursive = values.Bool(section, "recursive") ?? false;
        return BuildSync(section, c, s => new BtrfsSync
        {
            Id = s.Id, Driver = s.Driver, Line = s.Line, Standby = s.Standby, Disabled = s.Disabled, Optional = s.Optional,
            Tags = s.Tags, Keywords = s.Keywords, TargetTokens = s.TargetTokens, Targets = s.Targets, Schedule = s.Schedule,
            SyncMaxDelaySeconds = s.SyncMaxDelaySeconds,
            Src = src,
            Dst = dst,
            Recursive = recursive,
        });
    }

    RsyncSync BuildRsync(ConfigSection section, Common c)
    {
        var src = values.List(section, "src");
        var options = values.Shlex(section, "options");
        CheckExcludes(section, src, options);
        if (RsyncTransport.Override(options) is { } transport)
            values.Error(section, "options",
                $"'{ValueReader.Shorten(transport)}' would replace the agent's ssh transport (host keys checked against known_hosts, its key, batch mode) or the command run on the target",
                $"remove {ValueReader.Shorten(transport)}: the agent runs rsync over its own ssh settings (OPENSVC_SSH_KEY, OPENSVC_SSH_KNOWN_HOSTS, OPENSVC_SSH_USER)");
        var timeout = values.Duration(section, "timeout") ?? 3600;
        return BuildSync(section, c, s => new RsyncSync
        {
            Id = s.Id, Driver = s.Driver, Line = s.Line, Standby = s.Standby, Disabled = s.Disabled, Optional = s.Optional,
            Tags = s.Tags, Keywords = s.Keywords, TargetTokens = s.TargetTokens, Targets = s.Targets, Schedule = s.Schedule,
            SyncMaxDelaySeconds = s.SyncMaxDelaySeconds,
            Src = src,
            Dst = values.String(section, "dst"),
            DstFs = values.String(section, "dstfs"),
            Options = options,
            ResetOptions = values.Bool(section, "reset_options") ?? false,
            BwLimitKbps = values.Speed(section, "bwlimit"),
            Snap = values.Bool(section, "snap") ?? false,
            TimeoutSeconds = timeout,
        });
    }

    /// <summary>After every resource is built: the docker sync's receiving fs and the data dir check.</summary>
    public List<ServiceResource> Finish(List<ServiceResource> resources, string? containerDataDir)
    {
        var mounts = resources.OfType<FsResource>().Select(f => f.Mnt).OfType<string>().ToList();
        var dstfs = containerDataDir is null
            ? null
            : mounts.Where(m => PosixPath.IsUnder(containerDataDir, m)).OrderByDescending(m => PosixPath.Depth(m)).FirstOrDefault();
        if (containerDataDir is not null && dstfs is null)
        {
            var entry = Doc.Default.Get("container_data_dir") ?? Doc.Default.Get("docker_data_dir");
            var fix = mounts.Count == 0
                ? "add an fs resource mounted on it or on a parent directory"
                : $"put it under an fs mount, e.g. {mounts[0].TrimEnd('/')}/{LastSegment(containerDataDir)}";
            Add(Doc.Default, entry, entry?.Key ?? "container_data_dir", Severity.Warning,
                $"'{containerDataDir}' lies inside no fs resource's mount ({(mounts.Count == 0 ? "none" : string.Join(", ", mounts))}): images stay on the node's root fs and do not follow a failover",
                fix);
        }
        CheckNetworkCycles(resources.OfType<DockerContainer>().ToList());
        return resources.Select(r => r is DockerSync sync ? sync with { DstFs = dstfs } : r).ToList();
    }

    /// <summary>Containers that join each other's network namespace in a ring: none of them can start first.</summary>
    void CheckNetworkCycles(IReadOnlyList<DockerContainer> containers)
    {
        var joins = containers.Where(c => c.JoinsNetworkOf is not null).ToDictionary(c => c.Id, c => c.JoinsNetworkOf!.Value);
        foreach (var container in containers)
        {
            var path = new List<ResourceId> { container.Id };
            var current = container.Id;
            while (joins.TryGetValue(current, out var next) && !path.Contains(next))
            {
                path.Add(next);
                current = next;
            }
            if (!joins.TryGetValue(current, out var last) || last != container.Id)
                continue; // no ring, or a ring this container only leads into: reported on the ring's members
            var section = Doc.Section(container.Id.ToString())!;
            var keyword = container.NetNs is not null ? "netns" : "run_args";
            values.Error(section, keyword,
                $"{string.Join(" -> ", path.Append(container.Id))}: these containers join each other's network namespace, so none can start first",
                $"let one of them own its network: remove {(keyword == "netns" ? "netns" : "--net")} from {container.Id}, or from another of them");
        }
    }

    void CheckExcludes(ConfigSection section, IReadOnlyList<string> src, IReadOnlyList<string> options)
    {
        var entry = values.Get(section, "options")?.Entry;
        for (var i = 0; i < options.Count; i++)
        {
            string? pattern = null;
            if (options[i].StartsWith("--exclude=", StringComparison.Ordinal))
                pattern = options[i]["--exclude=".Length..];
            else if (options[i] == "--exclude" && i + 1 < options.Count)
                pattern = options[i + 1];
            if (pattern is null)
                continue;
            foreach (var s in src)
            {
                var dir = s.TrimEnd('/');
                if (dir.Length == 0 || !pattern.StartsWith(dir + "/", StringComparison.Ordinal))
                    continue;
                var relative = s.EndsWith('/') ? pattern[dir.Length..] : "/" + LastSegment(dir) + pattern[dir.Length..];
                Add(section, entry, "options", Severity.Warning,
                    $"exclude pattern '{pattern}' starts with the src path {s}: rsync anchors it at the transfer root, so it matches nothing",
                    $"--exclude={relative}");
            }
        }
    }

    void CheckRequired(ConfigSection section, string group, string? type)
    {
        foreach (var keyword in KeywordTable.For(group, type).Where(k => k.Required))
        {
            var (value, _, _) = reader.ReadRaw(section, keyword);
            if (!string.IsNullOrWhiteSpace(value))
                continue;
            var scoped = section.Entries.Any(e => e.Scope is not null && (e.Keyword == keyword.Name || keyword.DeprecatedAliases.Contains(e.Keyword)));
            if (!scoped)
            {
                // Missing on every node alike: one finding about the file, not one per node.
                Add(section, null, keyword.Name, Severity.Error,
                    $"{section.Name}.{keyword.Name} is mandatory and has no value: the resource cannot run", $"add {keyword.Name} = ...");
                continue;
            }
            string fix;
            if (drpnodes.Contains(Node.Value) && !nodes.Contains(Node.Value))
                fix = $"add {keyword.Name}@drpnodes = ... (or {keyword.Name}@{Node} = ...)";
            else if (nodes.Contains(Node.Value))
                fix = $"add {keyword.Name}@nodes = ... (or {keyword.Name}@{Node} = ...)";
            else
                fix = $"add {keyword.Name}@{Node} = ...";
            Add(section, null, keyword.Name, Severity.Error,
                $"{section.Name}.{keyword.Name} is mandatory and has no value on node {Node}: the resource cannot run there", fix);
        }
    }

    bool Standby(ConfigSection section)
    {
        var standby = values.Bool(section, "standby");
        if (standby is not null && values.Get(section, "standby")?.Entry is not null)
            return standby.Value;
        var alwaysOn = Converters.List(section.Get("always_on")?.Value);
        var node = Node.Value;
        return alwaysOn.Contains(node)
            || (alwaysOn.Contains("nodes") && nodes.Contains(node))
            || (alwaysOn.Contains("drpnodes") && drpnodes.Contains(node));
    }

    IReadOnlyDictionary<string, string> ResolvedKeywords(ConfigSection section, string group, string? type)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyword in KeywordTable.For(group, type))
        {
            if (values.Get(section, keyword) is { } read)
            {
                result[keyword.Name] = read.Value;
                values.CheckExpanded(section, keyword, read);
            }
        }
        return result;
    }

    ConfigSection? ContainerSection(string rid) =>
        Doc.Section(rid) is { Group: "container", Index: not null } section ? section : null;

    string ContainerName(ConfigSection section) =>
        NullIfBlank(section.Get("name")?.Value) is { } name ? reader.Expand(name, section)
        : ResourceId.TryParse(section.Name, out var rid) ? path.ContainerName(rid) : section.Name;

    /// <summary>" on n3" when the section is disabled by a scoped value, "" when it is disabled everywhere.</summary>
    string OnNode(ConfigSection section) =>
        values.Get(section, "disable")?.Entry?.Scope is null ? "" : $" on {Node}";

    void ReportNoContainer(ConfigSection section, string netns)
    {
        var containers = Doc.Sections.Where(s => s.Group == "container" && s.Index is not null && s != section).Select(s => s.Name).ToList();
        values.Error(section, "netns",
            $"'{netns}' names no container section of this service",
            containers.Count == 0 ? "add the container section or remove the keyword" : $"use one of: {string.Join(", ", containers)}");
    }

    void Add(ConfigSection section, ConfigEntry? entry, string? keyword, Severity severity, string reason, string? fix) =>
        problems.Add(new ConfigProblem(Doc.File, entry?.Line ?? section.Line, section.Name, entry?.Key ?? keyword,
            severity, reason, fix, Node));

    static string? NullIfBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    static string LastSegment(string path)
    {
        var trimmed = path.TrimEnd('/');
        var slash = trimmed.LastIndexOf('/');
        return slash < 0 ? trimmed : trimmed[(slash + 1)..];
    }
}
