using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OpenSvc.Host.Cli;
using OpenSvc.Infrastructure.Execution;

namespace OpenSvc.Host.Bench;

/// <summary>
/// <c>opensvc bench sync</c>: on a running lab, pushes the same payload n1 → n3 through our sync drivers
/// (run inside n1 with <c>opensvc sync exec</c>, as n1's agent would) and through the raw pipelines an operator
/// would type (<c>docker save | ssh | docker load</c>, <c>btrfs send | ssh btrfs receive</c>, <c>rsync -e ssh</c>),
/// in the same run, and prints throughput and ratios; then the cost of an up-to-date docker target with 50 images.
/// Driver throughput uses the step's own duration (an agent is a long-running process: no process start-up);
/// raw throughput uses the pipeline's wall time (its ssh connects too).
/// </summary>
public static class SyncBenchmark
{
    public static Command Create()
    {
        var labDir = new Option<string>("--lab-dir") { Description = "lab directory (LAB_DIR)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LAB_DIR") ?? "/var/lib/opensvc-lab" };
        var size = new Option<int>("--size-mb") { Description = "payload size in MiB", DefaultValueFactory = _ => 200 };
        var images = new Option<int>("--images") { Description = "images for the up-to-date docker check", DefaultValueFactory = _ => 50 };
        var runs = new Option<int>("--runs") { Description = "runs of each transfer (best is kept)", DefaultValueFactory = _ => 2 };
        var sync = new Command("sync", "Throughput of the sync drivers against the raw pipelines on the lab (n1 → n3)") { labDir, size, images, runs };
        sync.SetAction(async (p, ct) =>
        {
            var bench = new Bench(p.GetValue(labDir)!, p.GetValue(size), Math.Max(1, p.GetValue(runs)));
            await bench.RunAsync(p.GetValue(images), ct).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return new Command("bench", "Benchmarks") { sync };
    }

    sealed class Bench(string labDir, int sizeMb, int runs)
    {
        readonly string _repo = FindRepo();
        readonly string _dll = Path.Combine(AppContext.BaseDirectory, "opensvc.dll");
        readonly Dictionary<string, string> _nodes = File.ReadAllLines(Path.Combine(labDir, "nodes.env"))
            .Where(l => l.Contains('=') && !l.StartsWith('#')).Select(l => l.Split('=', 2)).ToDictionary(a => a[0], a => a[1]);
        readonly List<string> _rows = [];

        string Dev(string node) => _nodes[$"LAB_{node.ToUpperInvariant()}_DEV"];
        string SshConfig => Path.Combine(labDir, "ssh_config");

        static string FindRepo()
        {
            foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
                for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                    if (File.Exists(Path.Combine(d.FullName, "lab", "node-exec.sh")))
                        return d.FullName;
            throw new UserError("bench sync runs from the repository (lab/node-exec.sh not found above the binary or the current directory)");
        }

        async Task<ProcessResult> OnAsync(string node, IEnumerable<string> argv, CancellationToken ct)
        {
            var env = new Dictionary<string, string> { ["LAB_DIR"] = labDir };
            foreach (var k in new[] { "LAB_PREFIX", "LAB_SUBNET" })
                if (Environment.GetEnvironmentVariable(k) is { } v)
                    env[k] = v;
            return await ProcessRunner.RunAsync(Path.Combine(_repo, "lab", "node-exec.sh"), [node, .. argv],
                new ProcessRunOptions { Environment = env, Timeout = TimeSpan.FromMinutes(20) }, ct).ConfigureAwait(false);
        }

        /// <summary>A fixed script inside a node; values only as positional parameters.</summary>
        async Task<ProcessResult> ShAsync(string node, string script, CancellationToken ct, params string[] args)
        {
            var r = await OnAsync(node, ["bash", "-c", "set -eo pipefail\n" + script, "bench", .. args], ct).ConfigureAwait(false);
            if (!r.Succeeded)
                throw new UserError($"bench: on {node}: {script.Split('\n')[0]}... failed: {r.Tail()}", ExitCodes.Failed);
            return r;
        }

        async Task<(long Bytes, long Ms, ProcessResult R)> DriverAsync(string config, string service, string rid, CancellationToken ct, int repeat = 1)
        {
            var r = await OnAsync("n1", ["env", "OPENSVC_VAR_DIR=/srv/bench-var", $"OPENSVC_SSH_KNOWN_HOSTS={labDir}/ssh/known_hosts", $"OPENSVC_SSH_KEY={labDir}/ssh/id_ed25519",
                "dotnet", _dll, "sync", "exec", "--config", config, "--service", service, "--rid", rid, "--target", "n3", "--node", "n1", "--repeat", repeat.ToString(CultureInfo.InvariantCulture)], ct).ConfigureAwait(false);
            if (!r.Succeeded)
                throw new UserError($"bench: driver {rid} failed: {r.StdErr.Trim()}\n{r.StdOut}", ExitCodes.Failed);
            return (Metric(r, "bytes_sent"), Metric(r, "duration_ms"), r);
        }

        static long Metric(ProcessResult r, string name) =>
            long.Parse(r.StdOut.Split('\n').First(l => l.StartsWith($"metric {name}=", StringComparison.Ordinal)).Split('=')[1], CultureInfo.InvariantCulture);

        async Task<long> TimedAsync(Func<Task> action)
        {
            var sw = Stopwatch.StartNew();
            await action().ConfigureAwait(false);
            return sw.ElapsedMilliseconds;
        }

        void Row(string what, long driverBytes, long driverMs, long rawBytes, long rawMs)
        {
            double Rate(long b, long ms) => ms <= 0 ? 0 : b / (ms / 1000.0) / (1 << 20);
            var d = Rate(driverBytes, driverMs);
            var r = Rate(rawBytes, rawMs);
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{what,-8} driver {driverBytes / (1 << 20),5} MiB {driverMs,6} ms {d,7:0.0} MiB/s | raw {rawBytes / (1 << 20),5} MiB {rawMs,6} ms {r,7:0.0} MiB/s | ratio {(r > 0 ? d / r : 0):0.00}");
            _rows.Add(line);
            Console.WriteLine(line);
        }

        string WriteConfig(string name, string text)
        {
            var dir = Path.Combine(labDir, "bench");
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, name);
            File.WriteAllText(path, text);
            return path;
        }

        public async Task RunAsync(int imageCount, CancellationToken ct)
        {
            Console.WriteLine($"bench sync: lab {labDir}, payload {sizeMb} MiB, best of {runs}, n1 -> n3; driver = step duration in a fresh process (includes JIT, SSH connect and probes); raw = pipeline wall time");
            await DockerAsync(ct).ConfigureAwait(false);
            await BtrfsAsync(ct).ConfigureAwait(false);
            await RsyncAsync(ct).ConfigureAwait(false);
            await UpToDateDockerAsync(imageCount, ct).ConfigureAwait(false);
            Console.WriteLine();
            Console.WriteLine("summary:");
            foreach (var row in _rows)
                Console.WriteLine("  " + row);
        }

        async Task DockerAsync(CancellationToken ct)
        {
            await ShAsync("n1", """
                docker image inspect opensvc/bench:big >/dev/null 2>&1 && exit 0
                d=$(mktemp -d); head -c "$1" /dev/urandom > "$d/blob"; tar -C "$d" -cf "$d.tar" blob
                docker import "$d.tar" opensvc/bench:big >/dev/null; rm -rf "$d" "$d.tar"
                """, ct, (sizeMb * 1024L * 1024).ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
            var config = WriteConfig("docker.conf", """
                [DEFAULT]
                nodes = n1 n2
                drpnodes = n3
                [container#0]
                type = docker
                image = opensvc/bench:big
                [sync#0]
                type = docker
                target = drpnodes
                """);
            const string drop = "docker rmi -f opensvc/bench:big >/dev/null 2>&1 || true";
            long bestRaw = long.MaxValue, bestDriver = long.MaxValue, rawBytes = 0, driverBytes = 0;
            for (var i = 0; i < runs; i++)
            {
                await ShAsync("n3", drop, ct).ConfigureAwait(false);
                bestRaw = Math.Min(bestRaw, await TimedAsync(() => ShAsync("n1", "docker save opensvc/bench:big | ssh -F \"$1\" n3 docker load -q >/dev/null", ct, SshConfig)).ConfigureAwait(false));
                rawBytes = long.Parse((await ShAsync("n1", "docker save opensvc/bench:big | wc -c", ct).ConfigureAwait(false)).StdOut.Trim(), CultureInfo.InvariantCulture);
                await ShAsync("n3", drop, ct).ConfigureAwait(false);
                var (bytes, ms, _) = await DriverAsync(config, "bench", "sync#0", ct).ConfigureAwait(false);
                driverBytes = bytes;
                bestDriver = Math.Min(bestDriver, ms);
            }
            Row("docker", driverBytes, bestDriver, rawBytes, bestRaw);
        }

        async Task BtrfsAsync(CancellationToken ct)
        {
            foreach (var node in new[] { "n1", "n3" })
                await ShAsync(node, "mkdir -p /srv/bench/data; mountpoint -q /srv/bench/data || mount -o subvol=data \"$1\" /srv/bench/data", ct, Dev(node)).ConfigureAwait(false);
            // The lab's btrfs disks are small (LAB_DISK_MB, 256 by default): the btrfs payload is capped at 64 MiB.
            var btrfsMb = Math.Min(sizeMb, 64);
            Console.WriteLine($"btrfs payload {btrfsMb} MiB (lab disk size)");
            await ShAsync("n1", "rm -f /srv/bench/data/bench-blob; head -c \"$1\" /dev/urandom > /srv/bench/data/bench-blob; sync", ct,
                (btrfsMb * 1024L * 1024).ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
            // Raw: top levels mounted, a read-only snapshot, then only the timed send | ssh receive.
            foreach (var node in new[] { "n1", "n3" })
                await ShAsync(node, "mkdir -p /srv/bench/top; mountpoint -q /srv/bench/top || mount -o subvolid=5 \"$1\" /srv/bench/top; mkdir -p /srv/bench/top/rawbench", ct, Dev(node)).ConfigureAwait(false);
            long bestRaw = long.MaxValue, bestDriver = long.MaxValue, rawBytes = 0, driverBytes = 0;
            for (var i = 0; i < runs; i++)
            {
                const string clean = "for s in /srv/bench/top/rawbench/*; do [ -e \"$s\" ] && btrfs subvolume delete \"$s\" >/dev/null; done; true";
                await ShAsync("n1", clean, ct).ConfigureAwait(false);
                await ShAsync("n3", clean, ct).ConfigureAwait(false);
                await ShAsync("n1", "btrfs subvolume snapshot -r /srv/bench/top/data /srv/bench/top/rawbench/snap >/dev/null", ct).ConfigureAwait(false);
                bestRaw = Math.Min(bestRaw, await TimedAsync(() => ShAsync("n1", "btrfs send -q /srv/bench/top/rawbench/snap | ssh -F \"$1\" n3 btrfs receive -q /srv/bench/top/rawbench", ct, SshConfig)).ConfigureAwait(false));
                rawBytes = long.Parse((await ShAsync("n1", "btrfs send -q /srv/bench/top/rawbench/snap | wc -c", ct).ConfigureAwait(false)).StdOut.Trim(), CultureInfo.InvariantCulture);
                // The lab disks are small: drop the raw copies and the driver's earlier snapshots, so the driver does a full send like the raw one.
                const string purge = "btrfs subvolume list /srv/bench/top | awk '{print $NF}' | grep -E '^(rawbench/|\\.osync/bench/|benchdst)' | sort -r | while read -r p; do btrfs subvolume delete \"/srv/bench/top/$p\" >/dev/null; done; btrfs filesystem sync /srv/bench/top";
                await ShAsync("n1", purge, ct).ConfigureAwait(false);
                await ShAsync("n3", purge, ct).ConfigureAwait(false);
                var config = WriteConfig("btrfs.conf", $"""
                    [DEFAULT]
                    nodes = n1 n2
                    drpnodes = n3
                    [fs#1]
                    type = btrfs
                    dev@nodes = {Dev("n1")}
                    dev@drpnodes = {Dev("n3")}
                    mnt = /srv/bench/data
                    mnt_opt = subvol=data
                    [sync#1]
                    type = btrfs
                    target = drpnodes
                    src = svc1:data
                    dst = svc1:benchdst
                    """);
                var (bytes, ms, r) = await DriverAsync(config, "bench", "sync#1", ct).ConfigureAwait(false);
                if (Metric(r, "full") != 1)
                    throw new UserError("bench: the btrfs driver did not do a full send", ExitCodes.Failed);
                driverBytes = bytes;
                bestDriver = Math.Min(bestDriver, ms);
            }
            Row("btrfs", driverBytes, bestDriver, rawBytes, bestRaw);
        }

        async Task RsyncAsync(CancellationToken ct)
        {
            await ShAsync("n1", "mkdir -p /srv/bench/rsrc; [ -f /srv/bench/rsrc/blob ] || head -c \"$1\" /dev/urandom > /srv/bench/rsrc/blob", ct,
                (sizeMb * 1024L * 1024).ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
            await ShAsync("n3", "mkdir -p /srv/bench/rdst; mountpoint -q /srv/bench/rdst || mount -t tmpfs tmpfs /srv/bench/rdst", ct).ConfigureAwait(false);
            var config = WriteConfig("rsync.conf", """
                [DEFAULT]
                nodes = n1 n2
                drpnodes = n3
                [sync#2]
                type = rsync
                src = /srv/bench/rsrc/
                dst = /srv/bench/rdst/driver
                dstfs = /srv/bench/rdst
                target = drpnodes
                """);
            long bestRaw = long.MaxValue, bestDriver = long.MaxValue, rawBytes = 0, driverBytes = 0;
            for (var i = 0; i < runs; i++)
            {
                await ShAsync("n3", "rm -rf /srv/bench/rdst/raw /srv/bench/rdst/driver", ct).ConfigureAwait(false);
                ProcessResult? raw = null;
                bestRaw = Math.Min(bestRaw, await TimedAsync(async () => raw = await ShAsync("n1", "rsync -a --stats -e \"ssh -F $1\" /srv/bench/rsrc/ n3:/srv/bench/rdst/raw", ct, SshConfig)).ConfigureAwait(false));
                rawBytes = Infrastructure.Drivers.Sync.Rsync.RsyncArgv.ParseStats(raw!.StdOut).BytesSent;
                var (bytes, ms, _) = await DriverAsync(config, "bench", "sync#2", ct).ConfigureAwait(false);
                driverBytes = bytes;
                bestDriver = Math.Min(bestDriver, ms);
            }
            Row("rsync", driverBytes, bestDriver, rawBytes, bestRaw);
        }

        async Task UpToDateDockerAsync(int count, CancellationToken ct)
        {
            await ShAsync("n1", """
                for i in $(seq 1 "$1"); do
                  docker image inspect "opensvc/bench-small:$i" >/dev/null 2>&1 && continue
                  d=$(mktemp -d); echo "image $i $RANDOM" > "$d/id"; tar -C "$d" -cf "$d.tar" id
                  docker import "$d.tar" "opensvc/bench-small:$i" >/dev/null; rm -rf "$d" "$d.tar"
                done
                """, ct, count.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
            var text = "[DEFAULT]\nnodes = n1 n2\ndrpnodes = n3\n" +
                string.Concat(Enumerable.Range(1, count).Select(i => $"[container#{i}]\ntype = docker\nimage = opensvc/bench-small:{i}\n")) +
                "[sync#0]\ntype = docker\ntarget = drpnodes\n";
            var config = WriteConfig("docker50.conf", text);
            var (firstBytes, firstMs, _) = await DriverAsync(config, "bench50", "sync#0", ct).ConfigureAwait(false);
            Console.WriteLine($"docker x{count}: first sync {firstBytes} bytes in {firstMs} ms");
            // Cold: a fresh process (JIT, first SSH handshake code paths). Warm: the 3rd step in one process, as in a running agent.
            var sw = Stopwatch.StartNew();
            var (coldBytes, cold, coldR) = await DriverAsync(config, "bench50", "sync#0", ct).ConfigureAwait(false);
            var wall = sw.ElapsedMilliseconds;
            var (bytes, warm, r) = await DriverAsync(config, "bench50", "sync#0", ct, repeat: 3).ConfigureAwait(false);
            if (bytes != 0 || coldBytes != 0 || Metric(r, "images_present") != count || Metric(coldR, "images_present") != count)
                throw new UserError($"bench: the up-to-date target received {bytes} bytes", ExitCodes.Failed);
            var line = $"docker up-to-date target, {count} images: 0 bytes; step warm {warm} ms, cold {cold} ms (process wall incl. dotnet start {wall} ms)";
            _rows.Add(line);
            Console.WriteLine(line);
        }
    }
}
