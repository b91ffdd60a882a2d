using System.Diagnostics;
using Npgsql;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Infrastructure.Postgres;

namespace OpenSvc.Tests.Support;

/// <summary>
/// The real product on the lab: one PostgreSQL on the host listening on loopback (for the test process and the
/// CLI) and on the lab bridge's host address (for the agents, allowed from the lab subnet only), and one
/// `opensvc agent` per node running inside the node (lab/node-exec.sh) with the real drivers.
/// </summary>
public sealed class LabCluster : IAsyncDisposable
{
    readonly LabInstance _lab;
    readonly EmbeddedPostgres? _pg;
    readonly string _home;
    readonly List<AgentProcess> _agents = [];
    IReadOnlyDictionary<string, string>? _env;

    LabCluster(LabInstance lab, EmbeddedPostgres? pg, string home, string connection, string agentConnection)
    {
        _lab = lab;
        _pg = pg;
        _home = home;
        Connection = connection;
        AgentConnection = agentConnection;
    }

    /// <summary>The database on loopback: what the test and the CLI use.</summary>
    public string Connection { get; }

    /// <summary>The same database on the bridge address: what agents inside nodes use.</summary>
    public string AgentConnection { get; }

    public IReadOnlyList<AgentProcess> Agents => _agents;

    /// <summary>The node whose agent API the CLI talks to (n1 unless a scenario lost it).</summary>
    public string CliNode { get; set; } = "n1";

    /// <summary>
    /// Agents on a database the scenario runs itself (the control plane replicated across sites: a multi-host
    /// connection string), reached by the test and the agents alike through the lab bridge.
    /// </summary>
    public static async Task<LabCluster> StartOnAsync(LabInstance lab, string connection, IReadOnlyDictionary<string, string>? env, params string[] nodes)
    {
        var cluster = new LabCluster(lab, null, "", connection, connection) { _env = env };
        try
        {
            await cluster.StartAgentsAsync(nodes);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Starts (again) the agents of <paramref name="nodes"/> and waits until they are ready.</summary>
    public async Task StartAgentsAsync(params string[] nodes)
    {
        var started = nodes.Select(n => LabAgent.Start(_lab, n, AgentConnection, _env)).ToList();
        _agents.AddRange(started);
        foreach (var agent in started)
            await agent.WaitReadyAsync(TimeSpan.FromSeconds(240));
    }

    /// <summary>
    /// Stops the agent of <paramref name="node"/> (its process is killed, as a node that goes down) and starts it
    /// again, as the node boots; returns the new agent once it is ready.
    /// </summary>
    public async Task<AgentProcess> RestartAgentAsync(string node)
    {
        var old = _agents.Last(a => a.Node == node);
        old.Dispose();
        _agents.Remove(old);
        await StartAgentsAsync(node);
        return _agents.Last(a => a.Node == node);
    }

    public string AgentLogs => string.Join('\n', _agents.Select(a => a.Log));

    public static async Task<LabCluster> StartAsync(LabInstance lab, params string[] nodes)
    {
        var home = Path.Combine(Path.GetTempPath(), $"opensvc-tests-pg-lab-{Environment.ProcessId}");
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101);
        var bridge = $"{lab.Subnet}.1";
        var pg = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(home, PostgresServer.FreePort())
        {
            ExtraListenAddresses = [bridge],
            AllowedClientNetworks = [$"{lab.Subnet}.0/24"],
        });
        var cs = await pg.CreateDatabaseAsync("lab_e2e");
        var agentCs = new NpgsqlConnectionStringBuilder(cs) { Host = bridge }.ConnectionString;
        var cluster = new LabCluster(lab, pg, home, cs, agentCs);
        try
        {
            foreach (var node in nodes)
                cluster._agents.Add(LabAgent.Start(lab, node, agentCs));
            // A fresh database: the agents install the schemas one at a time, each cold on a fresh machine (CI once took
            // over 90 s for the first lab test's three agents); as StartAgentsAsync.
            foreach (var agent in cluster._agents)
                await agent.WaitReadyAsync(TimeSpan.FromSeconds(240));
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>
    /// `opensvc ARGS` on the host, through n1's agent API on its lab address (not loopback, so with the
    /// operator token, as a remote operator would), bounded.
    /// </summary>
    public Task<ProcessResult> CliAsync(params string[] args) =>
        ProcessRunner.RunAsync("dotnet", [AgentProcess.OpensvcDll, .. args, "--server", $"http://{_lab.Nodes[$"LAB_{CliNode.ToUpperInvariant()}_ADDR"]}:7480", "--token", LabAgent.Token],
            new ProcessRunOptions { Timeout = TimeSpan.FromMinutes(4) });

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
            agent.Dispose();
        if (_pg is null)
            return;
        try
        {
            await _pg.StopAsync();
        }
        finally
        {
            try { Directory.Delete(_home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

/// <summary>`opensvc agent --node NODE` inside a lab node, real drivers (an <see cref="AgentProcess"/> started through node-exec).</summary>
public static class LabAgent
{
    /// <summary>
    /// The agent's environment in a lab node: cgroupfs dockerds under the node's cgroup, the lab's ssh key and
    /// known_hosts (syncs), test timings. Its var dir is the default /var/lib/opensvc, private to each node.
    /// </summary>
    public static Dictionary<string, string> Environment(LabInstance lab, string node) => new()
    {
        ["LAB_PREFIX"] = lab.Prefix,
        ["LAB_SUBNET"] = lab.Subnet,
        ["LAB_DIR"] = lab.Dir,
        ["OPENSVC_SSH_KEY"] = Path.Combine(lab.Dir, "ssh", "id_ed25519"),
        ["OPENSVC_SSH_KNOWN_HOSTS"] = Path.Combine(lab.Dir, "ssh", "known_hosts"),
        ["OPENSVC_DOCKERD_EXTRA_ARGS"] = $"--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent {lab.Prefix}-{node}",
        ["OPENSVC_HEARTBEAT_MS"] = "500",
        ["OPENSVC_RECONCILE_MS"] = "1000",
        ["OPENSVC_SCHEDULED_GRACE_MS"] = "3000",
        ["OPENSVC_AGENT_DEAD_MS"] = "5000",
        ["OPENSVC_STATUS_MS"] = "3000",
        ["OPENSVC_TOKEN"] = Token,
        ["OPENSVC_AGENT_WARMUP"] = "off",
    };

    /// <summary>The operator token of the lab's agents (a fresh one per test process).</summary>
    public static readonly string Token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    public static AgentProcess Start(LabInstance lab, string node, string connection, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var psi = new ProcessStartInfo(Path.Combine(lab.RepoRoot, "lab", "node-exec.sh"));
        // node-exec.sh execs nsenter, which execs dotnet: this process is the agent itself.
        foreach (var a in (string[])[node, "dotnet", LabBinaries.OpensvcDll(lab.Dir), "agent", "--node", node, "--listen", "0.0.0.0:7480", "--connection", connection])
            psi.ArgumentList.Add(a);
        foreach (var (k, v) in Environment(lab, node))
            psi.Environment[k] = v;
        foreach (var (k, v) in overrides ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        psi.Environment.Remove("OPENSVC_CONNECTION");
        return AgentProcess.Launch(node, psi);
    }
}
