using System.Diagnostics;
using System.Text.RegularExpressions;
using FluentAssertions;
using Marten;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Engine;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Lab;

/// <summary>
/// What the end-to-end lab scenarios share: the real product on the lab (<see cref="LabCluster"/>), the CLI through
/// n1's API with checks on exit codes and printed run ids, the runs' events, `svc status` waits, the real state
/// inside nodes (mounts, the service's private dockerd), and the set-up of the service's private image store.
/// </summary>
public sealed partial class LabScenario(LabInstance lab, ITestOutputHelper output) : IAsyncDisposable
{
    static readonly TimeSpan StatusWait = TimeSpan.FromSeconds(30);

    readonly Stopwatch _clock = Stopwatch.StartNew();
    LabCluster? _cluster;

    public LabInstance Lab => lab;

    public LabCluster Cluster => _cluster ?? throw new InvalidOperationException("no lab cluster");

    public async Task StartClusterAsync(params string[] nodes) => _cluster = await LabCluster.StartAsync(lab, nodes);

    /// <summary>Drives a cluster the scenario started itself (disposed with this scenario).</summary>
    public void UseCluster(LabCluster cluster) => _cluster = cluster;

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
            await _cluster.DisposeAsync();
        _cluster = null;
    }

    /// <summary>Writes a lab service (lab/services/NAME) with the lab's devices and subnet filled in, where nodes can read it.</summary>
    public async Task<string> WriteConfigAsync(string fixture, string name, Func<string, string>? edit = null)
    {
        var text = (await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "lab", fixture)))
            .Replace("@N1_DEV@", lab.Dev("n1")).Replace("@N3_DEV@", lab.Dev("n3")).Replace("@SUBNET@", lab.Subnet);
        var path = Path.Combine(lab.WorkDir, name);
        await File.WriteAllTextAsync(path, edit is null ? text : edit(text));
        return path;
    }

    // ---- the CLI, events and status ------------------------------------------------------------------------

    public async Task<string> Must(params string[] args)
    {
        var r = await Cluster.CliAsync(args);
        output.WriteLine($"$ opensvc {string.Join(' ', args)}\n{r.StdOut}{r.StdErr}");
        r.Succeeded.Should().BeTrue($"opensvc {string.Join(' ', args)} should succeed: {r.StdOut}{r.StdErr}");
        return r.StdOut;
    }

    /// <summary>An action through the CLI, which follows the run to its end: the expected exit code, and the run id it printed.</summary>
    public async Task<(Guid RunId, string Output)> RunAsync(int exitCode, params string[] args)
    {
        var sw = Stopwatch.StartNew();
        var r = await Cluster.CliAsync(args);
        output.WriteLine($"$ opensvc {string.Join(' ', args)}   # exit {r.ExitCode}, {sw.Elapsed.TotalSeconds:F1}s\n{r.StdOut}{r.StdErr}");
        r.TimedOut.Should().BeFalse();
        r.ExitCode.Should().Be(exitCode, $"opensvc {string.Join(' ', args)}: {r.StdOut}{r.StdErr}\nagents:\n{Tail(Cluster.AgentLogs)}");
        var id = RunLine().Match(r.StdOut + r.StdErr);
        id.Success.Should().BeTrue(r.StdOut + r.StdErr);
        return (Guid.Parse(id.Groups[1].Value), r.StdOut + r.StdErr);
    }

    /// <summary>A request the CLI must refuse (exit 3) with a reason containing <paramref name="reason"/>.</summary>
    public async Task<string> RefusedAsync(string reason, params string[] args)
    {
        var r = await Cluster.CliAsync(args);
        output.WriteLine($"$ opensvc {string.Join(' ', args)}   # exit {r.ExitCode}\n{r.StdOut}{r.StdErr}");
        r.ExitCode.Should().Be(3, $"opensvc {string.Join(' ', args)} should be refused: {r.StdOut}{r.StdErr}");
        (r.StdOut + r.StdErr).Should().Contain(reason);
        return r.StdOut + r.StdErr;
    }

    public async Task<List<object>> EventsAsync(Guid runId)
    {
        using var store = DocumentStore.For(o => WorkflowStore.Configure(o, Cluster.Connection));
        await using var q = store.QuerySession();
        return (await q.Events.FetchStreamAsync(runId)).Select(e => e.Data).ToList();
    }

    /// <summary>
    /// Waits (bounded) until `svc status` shows the expected service avail/overall and per-node instance avail: agents
    /// refresh after each step of theirs and every OPENSVC_STATUS_MS. Returns the last status text.
    /// </summary>
    public async Task<string> ExpectStatusAsync(string service, string avail, string overall, params (string Node, string Avail)[] nodes)
    {
        var expected = $"{avail}/{overall} " + string.Join(' ', nodes.Select(n => $"{n.Node}={n.Avail}"));
        var deadline = DateTime.UtcNow + StatusWait;
        var head = new Regex($@"^{Regex.Escape(service)}  avail (.+?)  overall (.+?)  \(", RegexOptions.Multiline);
        string seen;
        string text;
        while (true)
        {
            var r = await Cluster.CliAsync("svc", "status", service);
            text = r.StdOut + r.StdErr;
            var m = head.Match(text);
            seen = (m.Success ? $"{m.Groups[1].Value}/{m.Groups[2].Value}" : "?") + " " +
                string.Join(' ', nodes.Select(n => NodeLine(n.Node).Match(text) is { Success: true } nm ? $"{n.Node}={nm.Groups[1].Value}" : $"{n.Node}=?"));
            if (seen == expected || DateTime.UtcNow > deadline)
                break;
            await Task.Delay(500);
        }
        output.WriteLine($"$ opensvc svc status {service}\n{text}");
        seen.Should().Be(expected, $"svc status should match OpenSVC's aggregation:\n{text}");
        return text;
    }

    /// <summary>Waits (bounded) until `svc status` contains every one of <paramref name="fragments"/>; returns its text.</summary>
    public async Task<string> ExpectStatusContainsAsync(string service, params string[] fragments)
    {
        var deadline = DateTime.UtcNow + StatusWait;
        string text;
        while (true)
        {
            var r = await Cluster.CliAsync("svc", "status", service);
            text = r.StdOut + r.StdErr;
            if (fragments.All(text.Contains) || DateTime.UtcNow > deadline)
                break;
            await Task.Delay(500);
        }
        output.WriteLine($"$ opensvc svc status {service}\n{text}");
        text.Should().ContainAll(fragments);
        return text;
    }

    /// <summary>Waits (bounded) until <c>svc status</c> matches every pattern: reports refresh every few seconds, so a
    /// node's line may still show the state from before the last run's end.</summary>
    public async Task<string> ExpectStatusMatchingAsync(string service, params string[] patterns)
    {
        var deadline = DateTime.UtcNow + StatusWait;
        string text;
        while (true)
        {
            var r = await Cluster.CliAsync("svc", "status", service);
            text = r.StdOut + r.StdErr;
            if (patterns.All(p => Regex.IsMatch(text, p, RegexOptions.Multiline)) || DateTime.UtcNow > deadline)
                break;
            await Task.Delay(500);
        }
        output.WriteLine($"$ opensvc svc status {service}\n{text}");
        foreach (var p in patterns)
            text.Should().MatchRegex(p);
        return text;
    }

    static Regex NodeLine(string node) => new($@"^\s+{node}\s+(?:node|drp)\s+avail (\S+(?: \S+)?)\s+overall", RegexOptions.Multiline);

    [GeneratedRegex(@"run ([0-9a-f-]{36}):", RegexOptions.Multiline)]
    private static partial Regex RunLine();

    // ---- real state inside nodes -----------------------------------------------------------------------------

    /// <summary>The unix socket of the service's private dockerd on a node, as the host sees it (LAB_DIR/nX/var is the node's /var/lib/opensvc).</summary>
    public string PrivateSocket(string node, string service = "svc1") => $"unix://{Path.Combine(lab.Dir, node, "var", "svc", service, "docker.sock")}";

    public async Task<bool> PrivateDockerAnswersAsync(string node, string service = "svc1") =>
        (await lab.ExecAsync(node, ["docker", "-H", PrivateSocket(node, service), "version"], timeout: TimeSpan.FromSeconds(20))).Succeeded;

    /// <summary>The mount points under <paramref name="prefix"/> in the node's own mount namespace.</summary>
    public async Task<List<string>> MountsAsync(string node, string prefix = "/srv/svc1")
    {
        var r = await lab.ExecAsync(node, ["cat", "/proc/self/mountinfo"]);
        r.Succeeded.Should().BeTrue(r.Tail());
        // mountinfo field 5 is the mount point.
        return r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')[4])
            .Where(m => m.StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
    }

    // ---- set-up through the product's own drivers ----------------------------------------------------------

    /// <summary>
    /// The service's private dockerd keeps its images on the shared disk's docker subvolume, and no registry is
    /// reachable: load the lab images into it once, from n1's own dockerd, with the product's drivers mounting the fs
    /// and starting the private daemon.
    /// </summary>
    public async Task SeedPrivateImagesAsync(string config)
    {
        await MustDriver(config, "n1", "fs#0", "start");
        var first = await DriverAsync(config, "n1", "container#0", "start");
        first.StdErr.Should().Contain("image opensvc/busybox:lab is not present", "the disks were reset: the private store is empty");
        var load = await lab.ExecAsync("n1", ["sh", "-c", "docker save opensvc/busybox:lab opensvc/httpd:lab | docker -H \"$1\" load", "sh", PrivateSocket("n1")]);
        load.Succeeded.Should().BeTrue(load.Tail());
        // Starting and stopping container#0 stops the private daemon the driver started.
        await MustDriver(config, "n1", "container#0", "start");
        await MustDriver(config, "n1", "container#0", "stop");
        await MustDriver(config, "n1", "fs#0", "stop");
        (await PrivateDockerAnswersAsync("n1")).Should().BeFalse();
    }

    public async Task MustDriver(string config, string node, string rid, string action, string service = "svc1")
    {
        var r = await DriverAsync(config, node, rid, action, service);
        r.Succeeded.Should().BeTrue($"{rid} {action} on {node}: {r.StdOut}{r.StdErr}");
    }

    /// <summary>`opensvc driver exec` inside a node: one resource action, as the node's agent would run it.</summary>
    public Task<ProcessResult> DriverAsync(string config, string node, string rid, string action, string service = "svc1") =>
        lab.ExecAsync(node,
            ["dotnet", LabBinaries.OpensvcDll(lab.Dir), "driver", "exec", "--config", config, "--service", service, "--node", node, "--rid", rid, "--action", action],
            LabAgent.Environment(lab, node), TimeSpan.FromMinutes(3));

    public void Log(string what) => output.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:F1}s] {what}");

    static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
