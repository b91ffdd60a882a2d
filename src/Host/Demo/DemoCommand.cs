using System.CommandLine;
using System.Diagnostics;
using System.Net.Http;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using OpenSvc.Host.Cli;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Infrastructure.Postgres;

namespace OpenSvc.Host.Demo;

/// <summary>
/// <c>opensvc demo</c>: the product on a 3-node lab of this machine, end to end, as the README shows it. Brings up the
/// lab (lab/lab.sh), one PostgreSQL (embedded) for the cluster and one agent inside each node with the real drivers;
/// stores the seed's failover service adapted to the lab, starts it on n1, syncs it to the DR node n3, takes it over
/// on n3 with a reason, and prints the takeover's timeline and where the dashboard and API are. Then waits until
/// interrupted, and tears everything down. Every cluster command goes through n1's REST API with a named operator token
/// (drill-lead), as a remote operator's would.
/// </summary>
public static partial class DemoCommand
{
    public static Command Create()
    {
        var noWait = new Option<bool>("--no-wait") { Description = "tear down as soon as the scenario is done instead of waiting for Ctrl-C (tests)" };
        var repo = new Option<DirectoryInfo?>("--repo") { Description = "the OpenSvc checkout holding lab/ (default: found above this executable)" };
        var cmd = new Command("demo", "Bring up a 3-node lab, fail a service over to its DR node through sync and takeover, and show it (needs root)")
        {
            noWait, repo,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var root = p.GetValue(repo)?.FullName ?? FindRepo()
                ?? throw new UserError("the demo needs the OpenSvc checkout's lab/ directory: run it from the repository (./scripts/start.sh) or pass --repo DIR");
            using var demo = new DemoRun(root, wait: !p.GetValue(noWait));
            return await demo.RunAsync(ct).ConfigureAwait(false);
        });
        return cmd;
    }

    /// <summary>The OpenSvc checkout holding lab/ (the demo and the lab benchmarks need it), from the binary or the working directory up.</summary>
    internal static string? FindRepo()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "lab", "lab.sh")) && File.Exists(Path.Combine(dir.FullName, "OpenSvc.sln")))
                    return dir.FullName;
        return null;
    }
}

/// <summary>
/// One demo: set-up, scenario, wait, tear-down. Tear-down runs whatever happened before. A benchmark on the lab
/// (<c>opensvc bench drill</c>) brings the same cluster up and runs its own <see cref="Scenario"/> instead.
/// </summary>
public sealed partial class DemoRun(string repo, bool wait) : IDisposable
{
    static readonly string[] Nodes = ["n1", "n2", "n3"];
    static readonly string[] Resources = ["container#1", "ip#0", "container#0", "fs#1", "fs#0"];
    const string Service = "svc1";

    readonly string _prefix = Env("LAB_PREFIX", "osl");
    readonly string _subnet = Env("LAB_SUBNET", "10.203.0");
    /// <summary>svc1's private dockerd socket inside a lab node (whose var dir is the agent's default path).</summary>
    internal static string NodeDockerSocket => new OpenSvc.Infrastructure.Drivers.AgentPaths(OpenSvc.Domain.Config.VarDir.Default, "").ServiceDockerSocket(Service);

    readonly string _labDir = Env("LAB_DIR", "/var/lib/opensvc-lab");
    readonly string _token = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
    readonly string _viewerToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
    readonly Stopwatch _clock = Stopwatch.StartNew();
    readonly List<Process> _agents = [];
    IReadOnlyDictionary<string, string> _nodes = new Dictionary<string, string>();
    EmbeddedPostgres? _pg;
    string _pgHome = "";
    string _dll = "";
    string _config = "";

    string Api => $"http://{_nodes["LAB_N1_ADDR"]}:7480";

    /// <summary>Replaces the demo's scenario (a benchmark's): runs once the cluster is up, its exit code ends the run, then tear-down.</summary>
    internal Func<DemoRun, CancellationToken, Task<int>>? Scenario { get; init; }

    /// <summary>What <see cref="Say"/> prefixes its lines with.</summary>
    internal string Label { get; init; } = "demo";

    /// <summary>The lab's service config for svc1, once written.</summary>
    internal string ConfigPath => _config;

    /// <summary>A node's block device from the lab's nodes.env (n1 and n2 share one; n3 has its own).</summary>
    internal string Device(string node) => _nodes[$"LAB_{node.ToUpperInvariant()}_DEV"];

    /// <summary>The cluster's database, as this process reaches it.</summary>
    internal string ClusterConnection => new NpgsqlConnectionStringBuilder(_pg!.ConnectionString) { Database = "opensvc" }.ConnectionString;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        if (!Environment.IsPrivilegedProcess)
            throw new UserError("the demo builds a 3-node lab (network and mount namespaces, loop devices, dockerd per node): run it as root. " +
                                "Without root, start one agent on its own with ./scripts/start.sh --agent");
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Interrupt(); });
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, _interrupted.Token);
        var labUp = false;
        try
        {
            Say($"bringing up the lab: nodes n1 n2 n3 on {_subnet}.0/24 (prefix {_prefix}, state in {_labDir})");
            await MustAsync(Path.Combine(repo, "lab", "lab.sh"), ["up", "3"], TimeSpan.FromMinutes(10), echo: true);
            labUp = true;
            _nodes = LabNodes.Read(_labDir);
            _dll = CopyProduct();
            _config = await WriteServiceConfigAsync();
            await SeedImagesAsync(linked.Token);
            await StartDatabaseAsync(linked.Token);
            await StartAgentsAsync(linked.Token);

            if (Scenario is not null)
                return await Scenario(this, linked.Token);
            var code = await ScenarioAsync();
            if (code != 0)
                return code;
            PrintWhere();
            if (wait)
            {
                Say("everything keeps running: press Ctrl-C to stop the agents and tear the lab down");
                try
                {
                    await Task.Delay(Timeout.Infinite, linked.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
            return ExitCodes.Ok;
        }
        finally
        {
            await TearDownAsync(labUp);
        }
    }

    readonly CancellationTokenSource _interrupted = new();

    void Interrupt() => _interrupted.Cancel();

    public void Dispose() => _interrupted.Dispose();

    // ---- set-up ----------------------------------------------------------------------------------------------

    /// <summary>Nodes have private /tmp, /run and /srv and a checkout may live under /tmp: the product runs from LAB_DIR/bin.</summary>
    string CopyProduct()
    {
        var target = Path.Combine(_labDir, "bin");
        if (Directory.Exists(target))
            Directory.Delete(target, recursive: true);
        CopyTree(AppContext.BaseDirectory, target);
        return Path.Combine(target, "opensvc.dll");
    }

    /// <summary>Copies a directory tree (the built product) file by file, overwriting.</summary>
    public static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        foreach (var dir in Directory.GetDirectories(from))
            CopyTree(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    async Task<string> WriteServiceConfigAsync()
    {
        var text = (await File.ReadAllTextAsync(Path.Combine(repo, "lab", "services", "failover.conf")))
            .Replace("@N1_DEV@", _nodes["LAB_N1_DEV"], StringComparison.Ordinal)
            .Replace("@N3_DEV@", _nodes["LAB_N3_DEV"], StringComparison.Ordinal)
            .Replace("@SUBNET@", _subnet, StringComparison.Ordinal);
        var dir = Path.Combine(_labDir, "demo");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "svc1.conf");
        await File.WriteAllTextAsync(path, text);
        return path;
    }

    /// <summary>
    /// No registry is reachable here: the lab's images go into the service's private docker store on the shared disk
    /// once, through the product's own drivers (mount fs#0, start the private dockerd, load, stop both).
    /// </summary>
    async Task SeedImagesAsync(CancellationToken ct)
    {
        Say("loading the lab's images into svc1's private docker store on the n1/n2 shared disk (there is no registry here)");
        await NodeMustAsync("n1", [.. Opensvc(), "driver", "exec", "--config", _config, "--service", Service, "--node", "n1", "--rid", "fs#0", "--action", "start"], ct);
        await NodeMustAsync("n1", [.. Opensvc(), "driver", "exec", "--config", _config, "--service", Service, "--node", "n1", "--rid", "sync#0", "--action", "prepare-receive"], ct);
        await NodeMustAsync("n1", ["sh", "-c", "docker save opensvc/busybox:lab opensvc/httpd:lab | docker -H \"$1\" load -q", "sh", $"unix://{NodeDockerSocket}"], ct);
        await NodeMustAsync("n1", [.. Opensvc(), "driver", "exec", "--config", _config, "--service", Service, "--node", "n1", "--rid", "container#0", "--action", "stop"], ct);
        await NodeMustAsync("n1", [.. Opensvc(), "driver", "exec", "--config", _config, "--service", Service, "--node", "n1", "--rid", "fs#0", "--action", "stop"], ct);
    }

    async Task StartDatabaseAsync(CancellationToken ct)
    {
        _pgHome = Path.Combine(Path.GetTempPath(), $"opensvc-demo-pg-{Environment.ProcessId}");
        Directory.CreateDirectory(_pgHome);
        File.SetUnixFileMode(_pgHome, (UnixFileMode)0b111_101_101);
        var bridge = $"{_subnet}.1";
        _pg = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(_pgHome, FreePort())
        {
            ExtraListenAddresses = [bridge],
            AllowedClientNetworks = [$"{_subnet}.0/24"],
        }, ct);
        await _pg.CreateDatabaseAsync("opensvc", ct);
        Say($"PostgreSQL (embedded) for the cluster on 127.0.0.1 and {bridge}, port {new NpgsqlConnectionStringBuilder(_pg.ConnectionString).Port}");
    }

    string TokensFile => Path.Combine(_labDir, "demo", "tokens");

    /// <summary>The agents' named tokens: drill-lead (operator, the scenario's requester) and auditor (viewer).</summary>
    void WriteTokens() => Access.TokenFile.Save(TokensFile,
    [
        new Access.NamedToken("drill-lead", Access.Role.Operator, Access.NamedToken.HashOf(_token)),
        new Access.NamedToken("auditor", Access.Role.Viewer, Access.NamedToken.HashOf(_viewerToken)),
    ]);

    async Task StartAgentsAsync(CancellationToken ct)
    {
        WriteTokens();
        var connection = new NpgsqlConnectionStringBuilder(_pg!.ConnectionString) { Host = $"{_subnet}.1", Database = "opensvc" }.ConnectionString;
        foreach (var node in Nodes)
        {
            // setsid: the agents are not in the terminal's process group, so Ctrl-C reaches the demo only, which then
            // stops them in order.
            var psi = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in (string[])[Path.Combine(repo, "lab", "node-exec.sh"), node, .. Opensvc(), "agent", "--node", node, "--listen", "0.0.0.0:7480", "--connection", connection])
                psi.ArgumentList.Add(a);
            foreach (var (k, v) in NodeEnvironment(node))
                psi.Environment[k] = v;
            psi.Environment[Access.TokenFile.Variable] = TokensFile;
            psi.Environment.Remove("OPENSVC_TOKEN");
            psi.Environment.Remove("OPENSVC_VIEWER_TOKEN");
            psi.Environment.Remove("OPENSVC_CONNECTION");
            var log = new StreamWriter(Path.Combine(_labDir, node, "agent-demo.log"), append: false) { AutoFlush = true };
            var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start the agent of {node}");
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _agents.Add(process);
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        foreach (var node in Nodes)
        {
            var url = $"http://{_nodes[$"LAB_{node.ToUpperInvariant()}_ADDR"]}:7480/health";
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (true)
            {
                try
                {
                    if ((await http.GetAsync(url, ct)).IsSuccessStatusCode)
                        break;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                }
                if (DateTime.UtcNow > deadline || _agents.Any(a => a.HasExited))
                    throw new UserError($"the agent of {node} did not become ready (log {Path.Combine(_labDir, node, "agent-demo.log")})", ExitCodes.Failed);
                await Task.Delay(500, ct);
            }
        }
        Say("one opensvc agent runs inside each node (real fs, docker, ip and sync drivers), all on that database");
    }

    // ---- the scenario, through n1's API ----------------------------------------------------------------------

    async Task<int> ScenarioAsync()
    {
        Say("the seed's failover service, adapted to the lab: two containers on a private dockerd, an address, two btrfs");
        Say("subvolumes on the n1/n2 shared disk (n3 has its own), and two syncs to the DR node n3 (docker images, btrfs data)");
        if (await CliAsync("svc", "create", Service, "--config", _config) is { Code: not 0 } created)
            return created.Code;
        foreach (var (what, args) in new (string, string[])[]
        {
            ("start it on n1", ["svc", "start", Service, "--node", "n1"]),
            ("mount the DR node's standby filesystems (always_on = drpnodes)", ["svc", "startstandby", Service, "--node", "n3"]),
        })
        {
            Say(what);
            if (await CliAsync(args) is { Code: not 0 } r)
                return r.Code;
        }
        var stamp = $"written on n1 at {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z";
        await NodeMustAsync("n1", ["sh", "-c", "echo \"$1\" > /srv/svc1/data/hello.txt && sync", "sh", stamp], CancellationToken.None);
        Say($"wrote /srv/svc1/data/hello.txt on n1 (\"{stamp}\")");

        Say("sync to n3: n3's agent starts the service's private dockerd, then n1 sends the images it lacks and a btrfs snapshot");
        if (await CliAsync("svc", "sync", Service, "--node", "n1") is { Code: not 0 } sync)
            return sync.Code;
        Say("can svc1 be activated on n3 now, and what would it lose?");
        await CliAsync("svc", "readiness", Service, "--node", "n3");

        Say("a DR drill on n3: writable clones of the synced snapshots and images start under drill names in a network with no");
        Say("route to production; n1 keeps serving and syncing all along");
        var drill = await CliAsync("svc", "drill", Service, "--node", "n3", "--reason", "demo: prove that n3 can run svc1");
        if (drill.Code != 0)
            return drill.Code;
        var id = RunId().Match(drill.Output);
        Say("the drill's timeline, with the RTO it achieved and the age of the data it started from (its RPO):");
        await CliAsync("run", "show", id.Success ? id.Groups[1].Value : "latest");
        var web = await HttpAsync("n2");
        Say($"during the drill, from n2, production's http://{_subnet}.50/ (still on n1) answers: {web}");
        Say("the report an auditor asks for after a DR exercise:");
        await CliAsync("report", "drills", "--service", Service);
        Say("drill cleanup: everything the drill created on n3 goes; the synced copy stays as the syncs left it");
        if (await CliAsync("svc", "drill-cleanup", Service, "--node", "n3") is { Code: not 0 } cleanup)
            return cleanup.Code;
        await CliAsync("svc", "status", Service);
        Say($"production never stopped: from n2, http://{_subnet}.50/ answers: {await HttpAsync("n2")}");
        return ExitCodes.Ok;
    }

    /// <summary>
    /// The service's page from <paramref name="from"/> (a few tries: httpd or the neighbours may need a moment). A plain
    /// HTTP/1.0 GET over bash's /dev/tcp: busybox-static's wget crashes on this glibc when a connection fails.
    /// </summary>
    async Task<string> HttpAsync(string from)
    {
        string[] get = ["bash", "-c", "exec 3<>\"/dev/tcp/$1/80\" && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 5 cat <&3", "bash", $"{_subnet}.50"];
        var web = await NodeRunAsync(from, get);
        for (var i = 0; i < 10 && !web.Succeeded; i++)
        {
            await Task.Delay(1000);
            web = await NodeRunAsync(from, get);
        }
        var body = web.StdOut.Replace("\r", "", StringComparison.Ordinal).Split("\n\n", 2) is [_, var b] ? b.Trim() : web.StdOut.Trim();
        return web.Succeeded ? body : $"nothing (exit {web.ExitCode}) {web.StdErr}".Trim();
    }

    void PrintWhere()
    {
        var lines = new[]
        {
            "",
            $"console:              {Api}/   (sign in with a token below: drill-lead to act, auditor to look; the browser keeps it in an HttpOnly cookie)",
            $"dashboard:            {Api}/hangfire   (the same sign-in: jobs; viewers get the read-only dashboard)",
            $"tokens:               drill-lead (operator) {_token}, auditor (viewer) {_viewerToken}",
            $"REST API:             {Api}/api/services   (Authorization: Bearer {_token})",
            $"OpenAPI:              {Api}/openapi/v1.json, browsable at {Api}/scalar/v1",
            $"CLI:                  dotnet {_dll} --server {Api} --token {_token} runs --service {Service}",
            $"nodes:                sudo {Path.Combine(repo, "lab", "node-exec.sh")} n3 docker -H unix://{NodeDockerSocket} ps",
            $"agent logs:           {Path.Combine(_labDir, "nX", "agent-demo.log")}",
            "",
        };
        foreach (var l in lines)
            Console.WriteLine(l);
    }

    /// <summary>The CLI, in this process, against n1's API with the operator token; its output is shown and kept.</summary>
    internal Task<(int Code, string Output)> CliAsync(params string[] args) => CliAsync(echo: true, args);

    /// <summary>The CLI as <see cref="CliAsync(string[])"/>; with <paramref name="echo"/> false, only the command line is shown.</summary>
    internal async Task<(int Code, string Output)> CliAsync(bool echo, params string[] args)
    {
        Console.WriteLine($"$ opensvc {string.Join(' ', args.Select(a => a.Contains(' ') ? $"\"{a}\"" : a))}");
        var original = Console.Out;
        var tee = new TeeWriter(echo ? original : TextWriter.Null);
        Console.SetOut(tee);
        int code;
        try
        {
            code = await CliApp.RunAsync([.. args, "--server", Api, "--token", _token]);
        }
        finally
        {
            Console.SetOut(original);
        }
        return (code, tee.Captured);
    }

    // ---- tear-down -------------------------------------------------------------------------------------------

    async Task TearDownAsync(bool labUp)
    {
        Say("tearing down: agents, the service's resources on every node, PostgreSQL, the lab");
        foreach (var agent in _agents)
        {
            try
            {
                if (!agent.HasExited)
                {
                    agent.Kill(entireProcessTree: true);
                    await agent.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
            {
            }
        }
        if (labUp && _dll.Length > 0)
            foreach (var node in Nodes)
                foreach (var rid in Resources)
                    await NodeRunAsync(node, [.. Opensvc(), "driver", "exec", "--config", _config, "--service", Service, "--node", node, "--rid", rid, "--action", "stop"]);
        if (_pg is not null)
        {
            await _pg.StopAsync();
            try { Directory.Delete(_pgHome, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        if (labUp)
        {
            var down = await ProcessRunner.RunAsync(Path.Combine(repo, "lab", "lab.sh"), ["down"], Options(TimeSpan.FromMinutes(10)));
            Say(down.Succeeded ? "lab down: nothing left running" : $"lab down failed (exit {down.ExitCode}): {down.Tail()}");
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    string[] Opensvc() => ["dotnet", _dll];

    Dictionary<string, string> NodeEnvironment(string node) => new()
    {
        ["LAB_PREFIX"] = _prefix,
        ["LAB_SUBNET"] = _subnet,
        ["LAB_DIR"] = _labDir,
        ["OPENSVC_SSH_KEY"] = Path.Combine(_labDir, "ssh", "id_ed25519"),
        ["OPENSVC_SSH_KNOWN_HOSTS"] = Path.Combine(_labDir, "ssh", "known_hosts"),
        // The lab's dockerds use cgroupfs under the node's cgroup, so `lab down` finds every container process.
        ["OPENSVC_DOCKERD_EXTRA_ARGS"] = $"--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent {_prefix}-{node}",
    };

    ProcessRunOptions Options(TimeSpan timeout, string? node = null) => new()
    {
        Timeout = timeout,
        Environment = node is null
            ? new Dictionary<string, string> { ["LAB_PREFIX"] = _prefix, ["LAB_SUBNET"] = _subnet, ["LAB_DIR"] = _labDir }
            : NodeEnvironment(node),
    };

    internal Task<ProcessResult> NodeRunAsync(string node, string[] argv, CancellationToken ct = default) =>
        ProcessRunner.RunAsync(Path.Combine(repo, "lab", "node-exec.sh"), [node, .. argv], Options(TimeSpan.FromMinutes(3), node), ct);

    async Task NodeMustAsync(string node, string[] argv, CancellationToken ct)
    {
        var r = await NodeRunAsync(node, argv, ct);
        if (!r.Succeeded)
            throw new UserError($"on {node}: {string.Join(' ', argv)} failed (exit {r.ExitCode}): {r.Tail()}", ExitCodes.Failed);
    }

    async Task MustAsync(string file, string[] args, TimeSpan timeout, bool echo)
    {
        var r = await ProcessRunner.RunAsync(file, args, Options(timeout));
        if (echo && r.StdOut.Length > 0)
            Console.Write(Indent(r.StdOut));
        if (!r.Succeeded)
            throw new UserError($"{Path.GetFileName(file)} {string.Join(' ', args)} failed (exit {r.ExitCode}{(r.TimedOut ? ", timed out" : "")}): {r.Tail()}", ExitCodes.Failed);
    }

    static string Indent(string text) => string.Concat(text.Split('\n').Where(l => l.Length > 0).Select(l => $"    {l}\n"));

    internal void Say(string what) => Console.WriteLine($"[{Label} {_clock.Elapsed.TotalSeconds,5:F0}s] {what}");

    static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback;

    static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [GeneratedRegex(@"run ([0-9a-f-]{36}):")]
    private static partial Regex RunId();

    /// <summary>Writes through to the console and keeps a copy.</summary>
    sealed class TeeWriter(TextWriter inner) : TextWriter
    {
        readonly StringBuilder _copy = new();

        public override Encoding Encoding => inner.Encoding;

        public string Captured => _copy.ToString();

        public override void Write(char value)
        {
            inner.Write(value);
            _copy.Append(value);
        }

        public override void Write(string? value)
        {
            inner.Write(value);
            _copy.Append(value);
        }

        public override void WriteLine(string? value)
        {
            inner.WriteLine(value);
            _copy.AppendLine(value);
        }

        public override void Flush() => inner.Flush();
    }
}
