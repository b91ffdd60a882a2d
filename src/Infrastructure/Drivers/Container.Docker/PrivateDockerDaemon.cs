using Docker.DotNet;
using Microsoft.Extensions.Logging;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Container.Docker;

/// <summary>
/// A service's private dockerd (DEFAULT <c>docker_data_dir</c>, OpenSVC's <c>container_data_dir</c>): its data root is
/// on the service's filesystem, so images and containers follow the service between nodes sharing the disk.
/// Socket and pid file under <c>{var}/svc/&lt;name&gt;/</c>, exec root under <c>{run}/&lt;name&gt;</c>.
/// The container driver starts it before the first container and stops it after the last; the docker sync driver
/// uses it to <c>docker load</c> into the receiving node's private daemon. Start and stop are idempotent.
/// </summary>
public sealed class PrivateDockerDaemon(AgentPaths paths, ILogger<PrivateDockerDaemon> logger)
{
    /// <summary>
    /// Flags that keep the daemon off the node's network configuration: containers get networks from the agent
    /// (<c>--net=none</c>, <c>container:</c>, ip.docker), never a docker bridge or NAT rules.
    /// </summary>
    public static readonly IReadOnlyList<string> NetworkFlags = ["--bridge=none", "--iptables=false", "--ip-masq=false", "--ip6tables=false"];

    /// <summary>How long a starting daemon may take to answer its socket.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Node-level extra dockerd arguments, whitespace-separated, from OPENSVC_DOCKERD_EXTRA_ARGS (for example
    /// <c>--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent lab-n1</c> in the lab).
    /// </summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } =
        (Environment.GetEnvironmentVariable("OPENSVC_DOCKERD_EXTRA_ARGS") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The daemon's API socket for <paramref name="service"/>.</summary>
    public string SocketPath(string service) => paths.ServiceDockerSocket(service);

    public string PidFile(string service) => Path.Combine(paths.ServiceVarDir(service), "docker.pid");

    public string LogFile(string service) => Path.Combine(paths.ServiceVarDir(service), "dockerd.log");

    public Uri Endpoint(string service) => new($"unix://{SocketPath(service)}");

    /// <summary>A client of the service's private daemon. The caller disposes it.</summary>
    public DockerClient Client(string service) => new DockerClientConfiguration(Endpoint(service)).CreateClient();

    /// <summary>dockerd's argv for a service: pure, table-tested.</summary>
    public static IReadOnlyList<string> DaemonArgv(AgentPaths paths, string service, string dataDir, IReadOnlyList<string> extraArgs)
    {
        var varDir = paths.ServiceVarDir(service);
        return
        [
            "dockerd",
            "--config-file", Path.Combine(varDir, "daemon.json"),
            // The config's docker_data_dir is joined to its flag, never a word of its own that could read as another flag.
            $"--data-root={dataDir}",
            "--exec-root", paths.ServiceRunDir(service),
            "--pidfile", Path.Combine(varDir, "docker.pid"),
            "-H", $"unix://{paths.ServiceDockerSocket(service)}",
            .. NetworkFlags,
            .. extraArgs,
        ];
    }

    /// <summary>Starts the service's daemon on <paramref name="dataDir"/> unless it answers already; waits until it does.</summary>
    /// <returns>True when this call started it.</returns>
    public async Task<bool> EnsureStartedAsync(string service, string dataDir, CancellationToken cancellationToken)
    {
        if (await AnswersAsync(service, cancellationToken).ConfigureAwait(false))
            return false;
        if (!Directory.Exists(dataDir))
            Directory.CreateDirectory(dataDir);
        var varDir = paths.ServiceVarDir(service);
        Directory.CreateDirectory(varDir);
        Directory.CreateDirectory(paths.ServiceRunDir(service));
        // Its own (empty) daemon.json, so the node's /etc/docker/daemon.json does not leak in.
        await File.WriteAllTextAsync(Path.Combine(varDir, "daemon.json"), "{}\n", cancellationToken).ConfigureAwait(false);

        var dockerd = DaemonArgv(paths, service, dataDir, ExtraArgs);
        // start-stop-daemon detaches it (new session, output to a log file): the daemon must outlive this step's process.
        var argv = new List<string>
        {
            "--start", "--oknodo", "--background", "--output", LogFile(service),
            "--pidfile", PidFile(service), "--exec", Which("dockerd"), "--",
        };
        argv.AddRange(dockerd.Skip(1));
        var started = await ProcessRunner.RunAsync("start-stop-daemon", argv, new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
        if (!started.Succeeded)
            throw new StepFailedException($"cannot start the private dockerd of {service}: {started.Tail(500)}", started.Tail());

        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await AnswersAsync(service, cancellationToken).ConfigureAwait(false))
            {
                logger.LogInformation("service {Service}: private dockerd started (data root {DataDir}, socket {Socket})", service, dataDir, SocketPath(service));
                return true;
            }
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
        throw new StepFailedException(
            $"the private dockerd of {service} did not answer on {SocketPath(service)} within {StartTimeout.TotalSeconds:0}s (log {LogFile(service)}): {Tail(LogFile(service))}");
    }

    /// <summary>True when the daemon answers its socket.</summary>
    public async Task<bool> AnswersAsync(string service, CancellationToken cancellationToken)
    {
        if (!File.Exists(SocketPath(service)))
            return false;
        using var client = Client(service);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await client.System.PingAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or DockerApiException or System.Net.Sockets.SocketException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>Stops the service's daemon (TERM, then KILL after its bounded grace). Nothing to do when it is not running.</summary>
    /// <returns>True when a running daemon was stopped.</returns>
    public async Task<bool> StopAsync(string service, CancellationToken cancellationToken)
    {
        if (!File.Exists(PidFile(service)))
            return false;
        var argv = new[]
        {
            "--stop", "--oknodo", "--pidfile", PidFile(service), "--exec", Which("dockerd"),
            "--retry", "TERM/30/KILL/5", "--remove-pidfile",
        };
        var stopped = await ProcessRunner.RunAsync("start-stop-daemon", argv, new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(60) }, cancellationToken).ConfigureAwait(false);
        if (!stopped.Succeeded)
            throw new StepFailedException($"cannot stop the private dockerd of {service}: {stopped.Tail(500)}", stopped.Tail());
        var wasRunning = !stopped.StdOut.Contains("No dockerd found", StringComparison.Ordinal) && !stopped.StdOut.Contains("No process", StringComparison.Ordinal);
        if (File.Exists(SocketPath(service)) && !await AnswersAsync(service, cancellationToken).ConfigureAwait(false))
            File.Delete(SocketPath(service));
        logger.LogInformation("service {Service}: private dockerd stopped ({Output})", service, stopped.Tail(200));
        return wasRunning;
    }

    static string Which(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return new FileInfo(candidate).ResolveLinkTarget(true)?.FullName ?? candidate;
        }
        throw new StepFailedException($"{program} is not installed on this node (not found in PATH)");
    }

    static string Tail(string file)
    {
        try
        {
            var lines = File.ReadAllLines(file);
            return string.Join('\n', lines.TakeLast(5));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }
}
