using OpenSvc.Infrastructure.Execution;
using Xunit;

namespace OpenSvc.Tests.Sync;

/// <summary>A fact that needs the lab: skipped, with the reason, only when not running as root.</summary>
public sealed class LabFactAttribute : FactAttribute
{
    public LabFactAttribute()
    {
        if (Environment.UserName != "root")
            Skip = "the sync lab needs root (network and mount namespaces, loop devices, btrfs, dockerd)";
    }
}

/// <summary>The lab tests run after the parallel ones, alone: their dockerd/btrfs/ssh load would skew the engine's timing-sensitive tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SyncLabCollection : ICollectionFixture<SyncLab>
{
    public const string Name = "sync-lab";
}

/// <summary>
/// The sync tests' own 3-node lab (n1, n2 share the svc1 disk; n3 is the DR node with its own svc1 disk):
/// <c>lab/lab.sh up 3</c> once for the collection and <c>down</c> at the end. Prefix, subnet and directory come
/// from OPENSVC_SYNC_LAB_PREFIX / _SUBNET / _DIR (default oss, 10.207.0, /var/lib/opensvc-lab-sync), so it runs
/// beside the other labs of this machine.
/// </summary>
public sealed class SyncLab : IAsyncLifetime
{
    public string Prefix { get; } = Env("OPENSVC_SYNC_LAB_PREFIX", "oss");
    public string Subnet { get; } = Env("OPENSVC_SYNC_LAB_SUBNET", "10.207.0");
    public string Dir { get; } = Env("OPENSVC_SYNC_LAB_DIR", "/var/lib/opensvc-lab-sync");
    public string Repo { get; } = FindRepo();
    public bool Up { get; private set; }

    public string KnownHosts => $"{Dir}/ssh/known_hosts";
    public string Key => $"{Dir}/ssh/id_ed25519";
    public string OpensvcDll => Support.LabBinaries.OpensvcDll(Dir);

    /// <summary>The node's block device from nodes.env (n1 and n2: the shared site disk).</summary>
    public string Device(string node) => NodesEnv()[$"LAB_{node.ToUpperInvariant()}_DEV"];

    public string Address(string node) => NodesEnv()[$"LAB_{node.ToUpperInvariant()}_ADDR"];

    static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback;

    static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "lab", "lab.sh")))
                return dir.FullName;
        throw new InvalidOperationException($"no lab/lab.sh above {AppContext.BaseDirectory}");
    }

    Dictionary<string, string> NodesEnv() => File.ReadAllLines($"{Dir}/nodes.env")
        .Where(l => l.Contains('=') && !l.StartsWith('#'))
        .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    IReadOnlyDictionary<string, string> LabEnvironment => new Dictionary<string, string>
    {
        ["LAB_PREFIX"] = Prefix,
        ["LAB_SUBNET"] = Subnet,
        ["LAB_DIR"] = Dir,
    };

    public async Task InitializeAsync()
    {
        if (Environment.UserName != "root")
            return;
        var r = await ProcessRunner.RunAsync($"{Repo}/lab/lab.sh", ["up", "3"], new ProcessRunOptions { Environment = LabEnvironment, Timeout = TimeSpan.FromMinutes(10) });
        if (!r.Succeeded)
            throw new InvalidOperationException($"lab up failed (exit {r.ExitCode}):\n{r.StdOut}\n{r.StdErr}");
        Up = true;
    }

    public async Task DisposeAsync()
    {
        if (!Up)
            return;
        var r = await ProcessRunner.RunAsync($"{Repo}/lab/lab.sh", ["down"], new ProcessRunOptions { Environment = LabEnvironment, Timeout = TimeSpan.FromMinutes(10) });
        if (!r.Succeeded)
            throw new InvalidOperationException($"lab down failed (exit {r.ExitCode}):\n{r.StdOut}\n{r.StdErr}");
    }

    /// <summary>Runs argv inside a node (its mount, UTS and network namespaces).</summary>
    public Task<ProcessResult> On(string node, params string[] argv) =>
        ProcessRunner.RunAsync($"{Repo}/lab/node-exec.sh", [node, .. argv],
            new ProcessRunOptions { Environment = LabEnvironment, Timeout = TimeSpan.FromMinutes(5) });

    /// <summary>Runs a fixed shell snippet inside a node (test setup only; values are passed as "$1"...).</summary>
    public Task<ProcessResult> Sh(string node, string script, params string[] args) => On(node, ["sh", "-c", script, "sh", .. args]);

    /// <summary>Writes a file where every node sees it (the lab directory is not private to nodes).</summary>
    public string WriteShared(string name, string text)
    {
        var dir = $"{Dir}/sync-tests";
        Directory.CreateDirectory(dir);
        var path = $"{dir}/{name}";
        File.WriteAllText(path, text);
        return path;
    }

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
        return On(node, [.. argv]);
    }

    /// <summary>A metric printed by <c>driver exec</c> ("metric bytes_sent=123").</summary>
    public static long Metric(ProcessResult r, string name)
    {
        var line = r.StdOut.Split('\n').FirstOrDefault(l => l.StartsWith($"metric {name}=", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no metric {name} in:\n{r.StdOut}\n{r.StdErr}");
        return long.Parse(line[(line.IndexOf('=') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
