using System.Text.RegularExpressions;

namespace OpenSvc.Domain.Config;

/// <summary>One thing a container's run options ask that this agent refuses: the keyword it comes from, why, and the fix.</summary>
public sealed record DockerRunProblem(string Keyword, string Reason, string Fix);

/// <summary>
/// What a docker container's <c>run_args</c>, <c>environment</c> and <c>volume_mounts</c> ask of <c>docker run</c>,
/// read the way OpenSVC builds its command line: <c>-d</c>, <c>--rm</c> and <c>--name</c> are taken out of run_args
/// (detach and rm are keywords, the name is the agent's); the <c>hostname</c> keyword wins over <c>-h</c>; the
/// network comes from <c>netns</c>, else run_args, else none. Options this agent cannot honour (<c>-p</c>: containers
/// get no bridge network here) and anything it does not know are problems, never silently dropped.
/// The one parser of these keywords: validation reports its problems, the docker driver translates its result.
/// </summary>
public sealed partial record DockerRunOptions
{
    public required IReadOnlyList<string> Env { get; init; }

    /// <summary><c>/host:/ctr[:opts]</c> and <c>volume:/ctr[:opts]</c>, run_args first, then volume_mounts.</summary>
    public required IReadOnlyList<string> Binds { get; init; }

    /// <summary>The keyword each of <see cref="Binds"/> comes from (run_args or volume_mounts), in the same order.</summary>
    public IReadOnlyList<string> BindKeywords { get; init; } = [];

    /// <summary>Anonymous volumes: a lone container path.</summary>
    public required IReadOnlyList<string> Volumes { get; init; }

    /// <summary>The <c>hostname</c> keyword, else run_args' <c>-h</c>, else null.</summary>
    public required string? Hostname { get; init; }

    /// <summary>The network mode that takes effect: <c>none</c>, <c>host</c>, <c>container:NAME</c>, or one run_args names.</summary>
    public required string Network { get; init; }

    /// <summary>The network run_args asks for (<c>--net</c>/<c>--network</c>), or null.</summary>
    public required string? RunArgsNetwork { get; init; }

    public required string? Entrypoint { get; init; }
    public required string? User { get; init; }
    public required string? WorkingDir { get; init; }

    /// <summary>run_args' labels, in order (a repeated label: the last one wins).</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Labels { get; init; }

    public required IReadOnlyList<string> CapAdd { get; init; }
    public required IReadOnlyList<string> CapDrop { get; init; }
    public required bool Tty { get; init; }
    public required bool Interactive { get; init; }
    public required bool Privileged { get; init; }
    public required bool Init { get; init; }

    public required IReadOnlyList<DockerRunProblem> Problems { get; init; }

    /// <summary>Options that take a value; "--opt value" and "--opt=value" are both accepted.</summary>
    static readonly Dictionary<string, string> ValueOptions = new(StringComparer.Ordinal)
    {
        ["--name"] = "name", ["--net"] = "net", ["--network"] = "net", ["-v"] = "volume", ["--volume"] = "volume",
        ["-e"] = "env", ["--env"] = "env", ["-h"] = "hostname", ["--hostname"] = "hostname", ["--entrypoint"] = "entrypoint",
        ["-u"] = "user", ["--user"] = "user", ["-w"] = "workdir", ["--workdir"] = "workdir", ["-l"] = "label", ["--label"] = "label",
        ["--cap-add"] = "cap-add", ["--cap-drop"] = "cap-drop", ["-p"] = "publish", ["--publish"] = "publish",
    };

    static readonly Dictionary<string, string> FlagOptions = new(StringComparer.Ordinal)
    {
        ["-d"] = "detach", ["--detach"] = "detach", ["--rm"] = "rm", ["-t"] = "tty", ["--tty"] = "tty",
        ["-i"] = "interactive", ["--interactive"] = "interactive", ["--privileged"] = "privileged", ["--init"] = "init",
    };

    /// <summary>The options a user may write in run_args, for messages.</summary>
    public static string Supported { get; } =
        string.Join(' ', ValueOptions.Keys.Concat(FlagOptions.Keys).Where(k => k is not "-p" and not "--publish"));

    static readonly HashSet<string> BindOptions = new(StringComparer.Ordinal)
    {
        "ro", "rw", "z", "Z", "shared", "rshared", "slave", "rslave", "private", "rprivate", "nocopy", "consistent", "cached", "delegated",
    };

    /// <param name="rid">The container's rid, for fixes that point at it.</param>
    /// <param name="runArgs">run_args, split into words.</param>
    /// <param name="environment">The environment keyword, split into words.</param>
    /// <param name="volumeMounts">The volume_mounts keyword, split into words.</param>
    /// <param name="hostname">The hostname keyword, or null.</param>
    /// <param name="netnsNetwork">The network the netns keyword chooses (<c>host</c>, <c>container:NAME</c>), or null.</param>
    public static DockerRunOptions Parse(
        string rid,
        IReadOnlyList<string> runArgs,
        IReadOnlyList<string> environment,
        IReadOnlyList<string> volumeMounts,
        string? hostname,
        string? netnsNetwork)
    {
        var problems = new List<DockerRunProblem>();
        var env = new List<string>();
        var binds = new List<string>();
        var bindKeywords = new List<string>();
        var volumes = new List<string>();
        var labels = new List<KeyValuePair<string, string>>();
        var capAdd = new List<string>();
        var capDrop = new List<string>();
        string? network = null, runArgsHostname = null, entrypoint = null, user = null, workdir = null;
        bool tty = false, interactive = false, privileged = false, init = false;

        void Flag(string flag)
        {
            switch (flag)
            {
                case "tty":
                    tty = true;
                    break;
                case "interactive":
                    interactive = true;
                    break;
                case "privileged":
                    privileged = true;
                    break;
                case "init":
                    init = true;
                    break;
                // detach: containers always run detached; rm: the rm keyword decides (OpenSVC drops both from run_args).
            }
        }

        void RunArgsProblem(string reason, string fix) => problems.Add(new DockerRunProblem("run_args", reason, fix));

        for (var i = 0; i < runArgs.Count; i++)
        {
            var arg = runArgs[i];
            if (!arg.StartsWith('-') || arg == "-")
            {
                RunArgsProblem($"'{ValueReader.Shorten(arg)}' is not an option (the image goes in 'image', its arguments in 'command')",
                    $"remove {ValueReader.Shorten(arg)} from run_args: image = <image>, command = <arguments>");
                continue;
            }
            var eq = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=') : -1;
            var name = eq > 0 ? arg[..eq] : arg;
            // "-e=X" is docker's short form with '=' too.
            if (eq < 0 && arg.Length > 2 && arg[1] != '-' && arg[2] == '=')
            {
                name = arg[..2];
                eq = 2;
            }
            if (FlagOptions.TryGetValue(name, out var flag) && eq < 0)
            {
                Flag(flag);
                continue;
            }
            if (eq < 0 && arg.Length > 2 && arg[1] != '-' && arg[1..].All(c => FlagOptions.ContainsKey("-" + c)))
            {
                foreach (var c in arg[1..])
                    Flag(FlagOptions["-" + c]);
                continue;
            }
            if (!ValueOptions.TryGetValue(name, out var option))
            {
                RunArgsProblem($"option {ValueReader.Shorten(name)} is not supported by this agent",
                    $"remove {ValueReader.Shorten(name)} from run_args (supported: {Supported})");
                continue;
            }
            string value;
            if (eq > 0)
                value = arg[(eq + 1)..];
            else if (i + 1 < runArgs.Count)
                value = runArgs[++i];
            else
            {
                RunArgsProblem($"option {name} needs a value", $"write {name} <value>, or remove {name}");
                continue;
            }
            switch (option)
            {
                case "name":
                    break; // The agent names its containers (OpenSVC drops --name too).
                case "net":
                    network = value;
                    break;
                case "volume":
                    AddVolume("run_args", value, binds, volumes, problems);
                    bindKeywords.AddRange(Enumerable.Repeat("run_args", binds.Count - bindKeywords.Count));
                    break;
                case "env":
                    if (value.IndexOf('=') > 0)
                        env.Add(value);
                    else
                        RunArgsProblem($"{name} {ValueReader.Shorten(value)} has no value: the agent does not copy its own environment into containers",
                            $"{name} {EnvFix(value)}");
                    break;
                case "hostname":
                    runArgsHostname = value;
                    break;
                case "entrypoint":
                    entrypoint = value;
                    break;
                case "user":
                    user = value;
                    break;
                case "workdir":
                    workdir = value;
                    break;
                case "label":
                    var leq = value.IndexOf('=');
                    labels.Add(KeyValuePair.Create(leq < 0 ? value : value[..leq], leq < 0 ? "" : value[(leq + 1)..]));
                    break;
                case "cap-add":
                    capAdd.Add(value);
                    break;
                case "cap-drop":
                    capDrop.Add(value);
                    break;
                case "publish":
                    RunArgsProblem($"{name} {ValueReader.Shorten(value)} is not supported: containers get no bridge network here",
                        $"remove {name} {ValueReader.Shorten(value)} and give the container an address with an ip.docker resource (netns = {rid})");
                    break;
            }
        }

        foreach (var e in environment)
        {
            if (e.IndexOf('=') > 0)
                env.Add(e);
            else
                problems.Add(new DockerRunProblem("environment", $"entry '{ValueReader.Shorten(e)}' has no value",
                    $"write {EnvFix(e)}"));
        }
        foreach (var v in volumeMounts)
            AddVolume("volume_mounts", v, binds, volumes, problems);
        bindKeywords.AddRange(Enumerable.Repeat("volume_mounts", binds.Count - bindKeywords.Count));

        var effectiveHostname = hostname ?? runArgsHostname;
        var effectiveNetwork = netnsNetwork ?? network ?? "none";
        if (effectiveHostname is not null && (effectiveNetwork == "host" || effectiveNetwork.StartsWith("container:", StringComparison.Ordinal)))
            problems.Add(new DockerRunProblem(hostname is not null ? "hostname" : "run_args",
                $"{(hostname is not null ? "" : "-h/--hostname ")}cannot be set on a container sharing the network of {effectiveNetwork} (docker refuses it)",
                hostname is not null ? "remove hostname: the container has the hostname of the network it joins" : "remove -h/--hostname from run_args"));

        return new DockerRunOptions
        {
            Env = env,
            Binds = binds,
            BindKeywords = bindKeywords,
            Volumes = volumes,
            Hostname = effectiveHostname,
            Network = effectiveNetwork,
            RunArgsNetwork = network,
            Entrypoint = entrypoint,
            User = user,
            WorkingDir = workdir,
            Labels = labels,
            CapAdd = capAdd,
            CapDrop = capDrop,
            Tty = tty,
            Interactive = interactive,
            Privileged = privileged,
            Init = init,
            Problems = problems,
        };
    }

    /// <summary>Capabilities that give a container the node (load modules, mount, trace host processes, read any file...).</summary>
    static readonly HashSet<string> HostCapabilities = new(StringComparer.OrdinalIgnoreCase)
    {
        "ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "DAC_READ_SEARCH", "NET_ADMIN", "BPF",
    };

    /// <summary>Host paths a container controls the node through even read-only: the root, devices, kernel interfaces, container runtimes.</summary>
    static readonly string[] HostControlPaths = ["/dev", "/proc", "/sys", "/var/run/docker.sock", "/run/docker.sock", "/run/containerd", "/var/run/containerd"];

    /// <summary>Host paths a container controls the node through when it may write them.</summary>
    static readonly string[] HostSystemPaths =
        ["/etc", "/root", "/home", "/boot", "/usr", "/bin", "/sbin", "/lib", "/lib64", "/run", "/var/run", "/var/lib/docker", "/var/lib/opensvc"];

    /// <summary>
    /// What gives the container root on the node (<c>--privileged</c>, the host's network namespace, capabilities such as
    /// SYS_ADMIN, a bind of <c>/</c>, of devices or the docker socket, a writable bind of a system directory): each a
    /// warning for validation to show, so that nobody stores such a container without being told.
    /// </summary>
    public IReadOnlyList<DockerRunProblem> HostAccess()
    {
        var found = new List<DockerRunProblem>();
        if (Privileged)
            found.Add(new DockerRunProblem("run_args", "--privileged gives the container every device and capability of the node: it is root on the node",
                "remove --privileged, and add only the capability it needs (--cap-add)"));
        if (Network == "host")
            found.Add(new DockerRunProblem(RunArgsNetwork == "host" ? "run_args" : "netns",
                "the container shares the node's network namespace: it can bind any port and reach every local service, the agent's API included",
                "give it an address of its own with an ip.docker resource"));
        foreach (var cap in CapAdd.Where(c => HostCapabilities.Contains(c.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? c[4..] : c)))
            found.Add(new DockerRunProblem("run_args", $"--cap-add {cap} lets the container act on the node itself",
                $"remove --cap-add {cap} unless the service truly needs it"));
        for (var i = 0; i < Binds.Count; i++)
        {
            var bind = Binds[i];
            var keyword = i < BindKeywords.Count ? BindKeywords[i] : "run_args";
            var parts = bind.Split(':');
            if (!parts[0].StartsWith('/'))
                continue;
            var source = Normalize(parts[0]);
            var readOnly = parts.Length == 3 && parts[2].Split(',').Contains("ro");
            if (source == "/" || HostControlPaths.Any(p => PosixPath.IsUnder(source, p)))
                found.Add(new DockerRunProblem(keyword, $"volume '{ValueReader.Shorten(bind)}' exposes the node ({source}) to the container: it is root on the node",
                    "bind only the service's own data directories"));
            else if (!readOnly && HostSystemPaths.Any(p => PosixPath.IsUnder(source, p)))
                found.Add(new DockerRunProblem(keyword, $"volume '{ValueReader.Shorten(bind)}' lets the container write the node's {source}",
                    $"bind it read-only ({ValueReader.Shorten(parts[0])}:{ValueReader.Shorten(parts[1])}:ro), or bind only the service's own data"));
        }
        return found;
    }

    /// <summary>An absolute path with ".", ".." and repeated slashes resolved, as the kernel would (without symlinks).</summary>
    static string Normalize(string path)
    {
        var kept = new List<string>();
        foreach (var segment in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == "..")
            {
                if (kept.Count > 0)
                    kept.RemoveAt(kept.Count - 1);
            }
            else if (segment != ".")
                kept.Add(segment);
        }
        return "/" + string.Join('/', kept);
    }

    /// <summary>What an environment entry without a name or a value should look like: <c>NAME=VALUE</c>.</summary>
    static string EnvFix(string entry) =>
        entry.StartsWith('=') ? "NAME" + ValueReader.Shorten(entry) : ValueReader.Shorten(entry) + "=VALUE";

    /// <summary>
    /// <c>[source:]destination[:options]</c>: the destination is an absolute container path; the source an absolute host
    /// path or a volume name (the Docker API refuses relative host paths); options are docker's bind options.
    /// </summary>
    static void AddVolume(string keyword, string value, List<string> binds, List<string> volumes, List<DockerRunProblem> problems)
    {
        void Problem(string reason, string fix) => problems.Add(new DockerRunProblem(keyword, $"volume '{ValueReader.Shorten(value)}': {reason}", fix));

        var parts = value.Split(':');
        if (parts.Length > 3)
        {
            Problem("has more than source:destination:options", "write /host/path:/container/path[:ro]");
            return;
        }
        var destination = parts.Length == 1 ? parts[0] : parts[1];
        if (!destination.StartsWith('/'))
        {
            Problem(destination.Length == 0 ? "the container path is empty" : $"the container path '{ValueReader.Shorten(destination)}' is not absolute",
                destination.Length == 0 ? "write /host/path:/container/path[:ro]" : $"write /{ValueReader.Shorten(destination.TrimStart('.', '/'))} as the container path");
            return;
        }
        if (parts.Length == 1)
        {
            volumes.Add(value);
            return;
        }
        var source = parts[0];
        if (!source.StartsWith('/') && !VolumeName().IsMatch(source))
        {
            Problem($"the host path '{ValueReader.Shorten(source)}' is neither absolute nor a volume name",
                source.Length == 0 ? "write the host path before ':'" : $"write the absolute host path (/{ValueReader.Shorten(source.TrimStart('.', '/', '~'))}?)");
            return;
        }
        if (parts.Length == 3)
        {
            var unknown = parts[2].Split(',').Where(o => !BindOptions.Contains(o)).ToList();
            if (unknown.Count > 0)
            {
                Problem($"unknown option{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(o => $"'{ValueReader.Shorten(o)}'"))}",
                    $"use ro or rw (or {string.Join(", ", BindOptions.Where(o => o is not "ro" and not "rw"))})");
                return;
            }
        }
        binds.Add(value);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]+$")]
    private static partial Regex VolumeName();
}
