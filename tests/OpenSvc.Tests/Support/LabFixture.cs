using OpenSvc.Infrastructure.Execution;
using Xunit;

namespace OpenSvc.Tests.Support;

/// <summary>
/// A real 3-node lab (lab/lab.sh: n1 and n2 share the svc1 disk, n3 is the DR node with its own), brought up once
/// for a test collection and down after it. Each collection has its own instance (prefix, subnet, directory), so
/// labs never collide and a developer can point a collection at a lab of their own through its environment
/// variables. Needs root: see <see cref="LabFactAttribute"/>.
/// </summary>
public abstract class LabInstance : IAsyncLifetime
{
    public static readonly TimeSpan UpTimeout = TimeSpan.FromMinutes(10);

    IReadOnlyDictionary<string, string> _nodes = new Dictionary<string, string>();

    /// <param name="variables">Prefix of the variables that override the defaults: <c>{variables}PREFIX</c>, <c>_SUBNET</c>, <c>_DIR</c>.</param>
    protected LabInstance(string variables, string prefix, string subnet, string dir)
    {
        Prefix = Env(variables + "PREFIX", prefix);
        Subnet = Env(variables + "SUBNET", subnet);
        Dir = Env(variables + "DIR", dir);
    }

    public string Prefix { get; }
    public string Subnet { get; }
    public string Dir { get; }
    public string RepoRoot { get; } = FindRepoRoot();
    public bool Up { get; private set; }

    /// <summary>LAB_DIR/nodes.env, read once after <c>lab up</c> (LAB_N1_DEV, LAB_N1_ADDR, ...).</summary>
    public IReadOnlyDictionary<string, string> Nodes => _nodes;

    /// <summary>The node's block device (n1 and n2: the shared site disk).</summary>
    public string Dev(string node) => _nodes[$"LAB_{node.ToUpperInvariant()}_DEV"];

    public string Address(string node) => _nodes[$"LAB_{node.ToUpperInvariant()}_ADDR"];

    public string KnownHosts => Path.Combine(Dir, "ssh", "known_hosts");
    public string Key => Path.Combine(Dir, "ssh", "id_ed25519");

    /// <summary>The built product, copied where every node can run it.</summary>
    public string OpensvcDll => LabBinaries.OpensvcDll(Dir);

    /// <summary>Where tests put files nodes must read: under the lab's directory (nodes have a private /tmp), removed by down.</summary>
    public string WorkDir
    {
        get
        {
            var dir = Path.Combine(Dir, "tests");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public async Task InitializeAsync()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        var up = await LabAsync("up", "3");
        if (!up.Succeeded)
            throw new InvalidOperationException($"lab/lab.sh up 3 failed (exit {up.ExitCode}, timed out: {up.TimedOut}):\n{up.StdOut}\n{up.StdErr}");
        _nodes = Host.Demo.LabNodes.Read(Dir);
        Up = true;
    }

    public async Task DisposeAsync()
    {
        if (!Up)
            return;
        var down = await LabAsync("down");
        if (!down.Succeeded)
            throw new InvalidOperationException($"lab/lab.sh down failed (exit {down.ExitCode}): {down.Tail()}");
    }

    /// <summary>Writes a file where every node sees it.</summary>
    public string WriteShared(string name, string text)
    {
        var path = Path.Combine(WorkDir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Runs argv inside a node (lab/node-exec.sh: its mount, UTS and network namespaces), bounded.</summary>
    public Task<ProcessResult> ExecAsync(string node, IEnumerable<string> argv, IReadOnlyDictionary<string, string>? env = null, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync(Path.Combine(RepoRoot, "lab", "node-exec.sh"), [node, .. argv],
            new ProcessRunOptions { Timeout = timeout ?? TimeSpan.FromMinutes(5), Environment = Merge(env) });

    /// <summary>Runs a fixed shell snippet inside a node (test setup only; values are passed as "$1"...).</summary>
    public Task<ProcessResult> Sh(string node, string script, params string[] args) => ExecAsync(node, ["sh", "-c", script, "sh", .. args]);

    /// <summary>
    /// <c>opensvc driver exec</c> inside <paramref name="node"/>: the driver runs in that node, as in the node's
    /// agent, with the lab's key and known_hosts and a per-test var directory.
    /// </summary>
    public Task<ProcessResult> SyncExec(string node, string varDir, string config, string service, string rid, string? target, string action = "sync")
    {
        List<string> argv =
        [
            "env", $"OPENSVC_VAR_DIR={varDir}", $"OPENSVC_SSH_KNOWN_HOSTS={KnownHosts}", $"OPENSVC_SSH_KEY={Key}",
            // A private dockerd started here (prepare-receive) lives under the node's cgroup, as the lab's own dockerd.
            $"OPENSVC_DOCKERD_EXTRA_ARGS=--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent {Prefix}-{node}",
            "dotnet", OpensvcDll, "driver", "exec", "--config", config, "--service", service, "--rid", rid, "--action", action, "--node", node,
        ];
        if (target is not null)
            argv.AddRange(["--target", target]);
        else if (action == "sync")
            throw new ArgumentException("a sync needs a target", nameof(target));
        return ExecAsync(node, argv);
    }

    /// <summary>A metric printed by <c>driver exec</c> ("metric bytes_sent=123").</summary>
    public static long Metric(ProcessResult r, string name)
    {
        ArgumentNullException.ThrowIfNull(r);
        var line = r.StdOut.Split('\n').FirstOrDefault(l => l.StartsWith($"metric {name}=", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no metric {name} in:\n{r.StdOut}\n{r.StdErr}");
        return long.Parse(line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Empties the svc1 disks' <c>docker</c> and <c>data</c> subvolumes (the shared n1+n2 disk, seen from n1, and
    /// n3's), so a test class starts from the disks `lab up` made whatever ran before it: no images or containers in
    /// the service's private docker store, no data files. Nothing of the service may be running. The nodes' last_sync
    /// stamps go too (they live in each node's private /var/lib/opensvc, not on the disks): a stamp left by an earlier
    /// test's sync of the same service name would report a copy the reset just removed.
    /// </summary>
    public async Task ResetServiceDisksAsync()
    {
        const string script = """
            set -eu
            m=/tmp/opensvc-lab-disk-reset
            mkdir -p "$m"
            mount -o subvolid=5 "$1" "$m"
            trap 'umount "$m"' EXIT
            for sv in docker data; do find "$m/$sv" -mindepth 1 -maxdepth 1 -exec rm -rf {} +; done
            """;
        foreach (var node in new[] { "n1", "n3" })
        {
            var r = await Sh(node, script, Dev(node));
            if (!r.Succeeded)
                throw new InvalidOperationException($"cannot reset {Dev(node)} on {node}: {r.Tail()}");
        }
        foreach (var node in new[] { "n1", "n2", "n3" })
        {
            var r = await Sh(node, "[ ! -d /var/lib/opensvc/svc ] || find /var/lib/opensvc/svc -name 'last_sync_*' -delete");
            if (!r.Succeeded)
                throw new InvalidOperationException($"cannot remove the last_sync stamps on {node}: {r.Tail()}");
        }
    }

    /// <summary>
    /// The pids of <paramref name="service"/>'s private dockerds running in <paramref name="node"/>: every node names
    /// the same path (/var/lib/opensvc/svc/NAME/daemon.json), so processes are told apart by their mount namespace.
    /// </summary>
    public async Task<IReadOnlyList<int>> PrivateDaemonPidsAsync(string node, string service)
    {
        var holder = (await File.ReadAllTextAsync(Path.Combine(Dir, node, "holder.pid"))).Trim();
        var nodeNs = new FileInfo($"/proc/{holder}/ns/mnt").LinkTarget;
        var found = await ProcessRunner.RunAsync("pgrep", ["-f", $"/svc/{service}/daemon.json"]);
        var pids = new List<int>();
        foreach (var line in found.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(line, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid))
                continue;
            try
            {
                if (new FileInfo($"/proc/{pid}/ns/mnt").LinkTarget == nodeNs)
                    pids.Add(pid);
            }
            catch (IOException)
            {
                // gone meanwhile
            }
        }
        return pids;
    }

    Task<ProcessResult> LabAsync(params string[] args) =>
        ProcessRunner.RunAsync(Path.Combine(RepoRoot, "lab", "lab.sh"), args, new ProcessRunOptions { Timeout = UpTimeout, Environment = Merge(null) });

    Dictionary<string, string> Merge(IReadOnlyDictionary<string, string>? env)
    {
        var all = new Dictionary<string, string> { ["LAB_PREFIX"] = Prefix, ["LAB_SUBNET"] = Subnet, ["LAB_DIR"] = Dir };
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
            all[k] = v;
        return all;
    }

    static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback;

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "OpenSvc.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no OpenSvc.sln above {AppContext.BaseDirectory}");
    }
}

/// <summary>The end-to-end scenarios' and the lab driver tests' lab: LAB_PREFIX, LAB_SUBNET, LAB_DIR (lab.sh's own defaults).</summary>
public sealed class LabFixture() : LabInstance("LAB_", "osl", "10.203.0", "/var/lib/opensvc-lab");

/// <summary>The sync driver tests' lab: OPENSVC_SYNC_LAB_PREFIX, _SUBNET, _DIR, so it runs beside the other labs.</summary>
public sealed class SyncLab() : LabInstance("OPENSVC_SYNC_LAB_", "oss", "10.207.0", "/var/lib/opensvc-lab-sync");

/// <summary>
/// Run after the parallel collections, alone: the end-to-end scenarios and the demo keep three agents, dockerds and
/// btrfs busy for minutes, which starved the in-process engine tests running beside them (a first step left
/// Scheduled past their one-minute bound).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LabCollection : ICollectionFixture<LabFixture>
{
    public const string Name = "lab";
}

/// <summary>The sync driver tests, alone for the same reason: their dockerd/btrfs/ssh load would skew the engine's timing-sensitive tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SyncLabCollection : ICollectionFixture<SyncLab>
{
    public const string Name = "sync-lab";
}

/// <summary>A test against the real lab: skipped, with the reason, when the test process is not root.</summary>
public sealed class LabFactAttribute : FactAttribute
{
    public static bool IsRoot => Environment.IsPrivilegedProcess;

    public LabFactAttribute()
    {
        if (!IsRoot)
            Skip = "lab tests need root (namespaces, loop devices, mounts, dockerd): run the suite as root";
    }
}
