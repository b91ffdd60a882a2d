using OpenSvc.Infrastructure.Execution;
using Xunit;

namespace OpenSvc.Tests.Support;

/// <summary>
/// A real 3-node lab (lab/lab.sh) for the tests of the "lab" collection: brought up once before them and down
/// after them. Reads LAB_PREFIX, LAB_SUBNET and LAB_DIR from the environment with the lab's own defaults, so a
/// developer can run the suite on a lab instance of their own. Needs root: see <see cref="LabFactAttribute"/>.
/// </summary>
public sealed class LabFixture : IDisposable
{
    public static readonly TimeSpan UpTimeout = TimeSpan.FromMinutes(5);

    public string Prefix { get; } = Env("LAB_PREFIX", "osl");
    public string Subnet { get; } = Env("LAB_SUBNET", "10.203.0");
    public string Dir { get; } = Env("LAB_DIR", "/var/lib/opensvc-lab");
    public string RepoRoot { get; } = FindRepoRoot();

    /// <summary>LAB_DIR/nodes.env as a dictionary (LAB_N1_DEV, LAB_N1_ADDR, ...).</summary>
    public IReadOnlyDictionary<string, string> Nodes { get; } = new Dictionary<string, string>();

    public LabFixture()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        var up = Lab(["up", "3"], UpTimeout);
        if (!up.Succeeded)
            throw new InvalidOperationException($"lab/lab.sh up 3 failed (exit {up.ExitCode}, timed out: {up.TimedOut}):\n{up.StdOut}\n{up.StdErr}");
        Nodes = File.ReadAllLines(Path.Combine(Dir, "nodes.env"))
            .Where(l => l.Contains('=') && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv[1]);
    }

    public void Dispose()
    {
        if (!LabFactAttribute.IsRoot)
            return;
        var down = Lab(["down"], UpTimeout);
        if (!down.Succeeded)
            Console.Error.WriteLine($"lab/lab.sh down failed (exit {down.ExitCode}): {down.Tail()}");
    }

    public string Dev(string node) => Nodes[$"LAB_{node.ToUpperInvariant()}_DEV"];

    /// <summary>Where tests put files nodes must read: under LAB_DIR (nodes have a private /tmp), removed by down.</summary>
    public string WorkDir
    {
        get
        {
            var dir = Path.Combine(Dir, "tests");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>
    /// Empties the svc1 disks' <c>docker</c> and <c>data</c> subvolumes (the shared n1+n2 disk, seen from n1, and
    /// n3's), so a test class starts from the disks `lab up` made whatever ran before it: no images or containers in
    /// the service's private docker store, no data files. Nothing of the service may be running.
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
            var r = await ExecAsync(node, ["sh", "-c", script, "sh", Dev(node)]);
            if (!r.Succeeded)
                throw new InvalidOperationException($"cannot reset {Dev(node)} on {node}: {r.Tail()}");
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

    /// <summary>Runs argv inside a node (lab/node-exec.sh), bounded.</summary>
    public Task<ProcessResult> ExecAsync(string node, IEnumerable<string> argv, IReadOnlyDictionary<string, string>? env = null, TimeSpan? timeout = null) =>
        ProcessRunner.RunAsync(Path.Combine(RepoRoot, "lab", "node-exec.sh"), [node, .. argv],
            new ProcessRunOptions { Timeout = timeout ?? TimeSpan.FromMinutes(2), Environment = Merge(env) });

    ProcessResult Lab(string[] args, TimeSpan timeout) =>
        ProcessRunner.RunAsync(Path.Combine(RepoRoot, "lab", "lab.sh"), args, new ProcessRunOptions { Timeout = timeout, Environment = Merge(null) })
            .GetAwaiter().GetResult();

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
