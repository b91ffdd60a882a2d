using System.Diagnostics;
using System.Text;

namespace OpenSvc.Tests.Support;

/// <summary>A real `opensvc agent` process (the built executable), with its output kept for failure messages.</summary>
public sealed class AgentProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _log = new();
    readonly Lock _gate = new();

    public string Node { get; }

    /// <summary>The agent's local socket (operators without a token), when <see cref="Start"/> gave it one.</summary>
    public string? Socket { get; private init; }

    /// <summary>The agent's API as this machine's root reaches it: its local socket.</summary>
    public string LocalServer => "unix:" + (Socket ?? throw new InvalidOperationException($"agent {Node} has no local socket"));

    AgentProcess(string node, Process process)
    {
        Node = node;
        _process = process;
    }

    /// <summary>A private directory (0700) for the local sockets of this test process's agents.</summary>
    static readonly Lazy<string> SocketDir = new(() => Directory.CreateTempSubdirectory("osa").FullName);

    public bool HasExited => _process.HasExited;

    public int Pid => _process.Id;

    public string Log
    {
        get { lock (_gate) return _log.ToString(); }
    }

    /// <summary>The agent's API base URL, from its "ready" line (it listens on a free loopback port).</summary>
    public string Url
    {
        get
        {
            var m = System.Text.RegularExpressions.Regex.Match(Log, @"ready: console (http://[0-9.:]+)/ ");
            return m.Success ? m.Groups[1].Value : throw new InvalidOperationException($"agent {Node} has not said where it listens:\n{Log}");
        }
    }

    public static string OpensvcDll => Path.Combine(AppContext.BaseDirectory, "opensvc.dll");

    public static AgentProcess Start(string node, string connection, IReadOnlyDictionary<string, string>? env = null, params string[] extraArgs)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var socket = Path.Combine(SocketDir.Value, $"{node}-{Guid.NewGuid().ToString("N")[..8]}.sock");
        foreach (var a in (string[])[OpensvcDll, "agent", "--node", node, "--fake-cluster", "--listen", "127.0.0.1:0", "--connection", connection, "--socket", socket, .. extraArgs])
            psi.ArgumentList.Add(a);
        psi.Environment["OPENSVC_HEARTBEAT_MS"] = "300";
        psi.Environment["OPENSVC_RECONCILE_MS"] = "500";
        psi.Environment["OPENSVC_SCHEDULED_GRACE_MS"] = "1500";
        psi.Environment["OPENSVC_AGENT_DEAD_MS"] = "3000";
        // The suite starts hundreds of short-lived agents on 2 cores: their warm-up is left out, and tested on its own (AgentWarmUpTests).
        psi.Environment["OPENSVC_AGENT_WARMUP"] = "off";
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
            psi.Environment[k] = v;
        return Launch(node, psi, socket);
    }

    /// <summary>Starts any agent command line (on the host, or inside a lab node), keeping its output.</summary>
    public static AgentProcess Launch(string node, ProcessStartInfo psi, string? socket = null)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        var process = new Process { StartInfo = psi };
        var agent = new AgentProcess(node, process) { Socket = socket };
        process.OutputDataReceived += (_, e) => agent.Append(e.Data);
        process.ErrorDataReceived += (_, e) => agent.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return agent;
    }

    void Append(string? line)
    {
        if (line is null)
            return;
        lock (_gate)
            _log.Append(Node).Append(": ").AppendLine(line);
    }

    public async Task WaitReadyAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!Log.Contains("ready:", StringComparison.Ordinal))
        {
            if (HasExited)
                throw new InvalidOperationException($"agent {Node} exited during start-up:\n{Log}");
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"agent {Node} not ready in {within}:\n{Log}");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
