using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OpenSvc.Host.Cli;
using OpenSvc.Infrastructure.Execution;

namespace OpenSvc.Host.Bench;

/// <summary>
/// <c>opensvc bench sync</c>: on a running lab, pushes the same payload n1 → n3 through our sync drivers
/// (run inside n1 with <c>opensvc driver exec</c>, as n1's agent would) and through the raw pipelines an operator
/// would type (<c>docker save | ssh | docker load</c>, <c>btrfs send | ssh btrfs receive</c>, <c>rsync -e ssh</c>),
/// in the same run, and prints throughput and ratios; then the cost of an up-to-date docker target with 50 images.
/// Driver throughput uses the step's own duration (SSH connect, probes, transfer, placement, last_sync write) in one
/// long-running <c>driver exec --serve</c> process per transfer whose first step is an untimed warm-up, as in a running
/// agent (no process start-up, no JIT); raw throughput uses the pipeline's wall time (its ssh connects too).
/// Raw and driver alternate within each round; best of the rounds, with the spread, are printed.
/// </summary>
public static class SyncBenchmark
{
    public static Command Create()
    {
        var labDir = new Option<string>("--lab-dir") { Description = "lab directory (LAB_DIR)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("LAB_DIR") ?? "/var/lib/opensvc-lab" };
        var size = new Option<int>("--size-mb") { Description = "payload size in MiB (btrfs: at most a quarter of the lab disk)", DefaultValueFactory = _ => 1024 };
        var images = new Option<int>("--images") { Description = "images for the up-to-date docker check", DefaultValueFactory = _ => 50 };
        var runs = new Option<int>("--runs") { Description = "runs of each transfer (best is kept)", DefaultValueFactory = _ => 3 };
        var only = new Option<string[]>("--only")
        {
            Description = "transfers to measure, of docker, btrfs, rsync, up-to-date (default: all)", AllowMultipleArgumentsPerToken = true,
        };
        only.AcceptOnlyFromAmong("docker", "btrfs", "rsync", "up-to-date");
        var sync = new Command("sync", "Throughput of the sync drivers against the raw pipelines on the lab (n1 → n3)") { labDir, size, images, runs, only };
        sync.SetAction(async (p, ct) =>
        {
            var bench = new Bench(p.GetValue(labDir)!, p.GetValue(size), Math.Max(1, p.GetValue(runs)))
            {
                Only = new HashSet<string>(p.GetValue(only) is { Length: > 0 } some ? some : ["docker", "btrfs", "rsync", "up-to-date"]),
            };
            await bench.RunAsync(p.GetValue(images), ct).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return sync;
    }

    sealed class Bench(string labDir, int sizeMb, int runs)
    {
        readonly string _repo = FindRepo();
        readonly string _dll = Path.Combine(AppContext.BaseDirectory, "opensvc.dll");
        readonly IReadOnlyDictionary<string, string> _nodes = Demo.LabNodes.Read(labDir);
        readonly List<string> _rows = [];

        public required IReadOnlySet<string> Only { get; init; }

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
            var r = await OnAsync("n1", [.. DriverArgv(config, service, rid), "--repeat", repeat.ToString(CultureInfo.InvariantCulture)], ct).ConfigureAwait(false);
            if (!r.Succeeded)
                throw new UserError($"bench: driver {rid} failed: {r.StdErr.Trim()}\n{r.StdOut}", ExitCodes.Failed);
            return (Metric(r, "bytes_sent"), Metric(r, "duration_ms"), r);
        }

        string[] DriverArgv(string config, string service, string rid) =>
        [
            "env", "OPENSVC_VAR_DIR=/srv/bench-var", $"OPENSVC_SSH_KNOWN_HOSTS={labDir}/ssh/known_hosts", $"OPENSVC_SSH_KEY={labDir}/ssh/id_ed25519",
            "dotnet", _dll, "driver", "exec", "--config", config, "--service", service, "--rid", rid, "--action", "sync", "--target", "n3", "--node", "n1",
        ];

        /// <summary>
        /// The driver in one long-running process inside n1 (<c>driver exec --serve</c>): each <see cref="WarmDriver.StepAsync"/>
        /// runs the step once more in that process, as a running agent does; the bench resets the target in between.
        /// </summary>
        WarmDriver StartDriver(string config, string service, string rid)
        {
            var psi = new ProcessStartInfo(Path.Combine(_repo, "lab", "node-exec.sh"))
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in (string[])["n1", .. DriverArgv(config, service, rid), "--serve"])
                psi.ArgumentList.Add(a);
            psi.Environment["LAB_DIR"] = labDir;
            foreach (var k in new[] { "LAB_PREFIX", "LAB_SUBNET" })
                if (Environment.GetEnvironmentVariable(k) is { } v)
                    psi.Environment[k] = v;
            return new WarmDriver(Process.Start(psi) ?? throw new UserError("bench: cannot start the driver process", ExitCodes.Failed), rid);
        }

        sealed class WarmDriver : IAsyncDisposable
        {
            readonly Process _process;
            readonly string _rid;
            readonly System.Text.StringBuilder _stderr = new();

            public WarmDriver(Process process, string rid)
            {
                _process = process;
                _rid = rid;
                _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
                _process.BeginErrorReadLine();
            }

            public async Task<(long Bytes, long Ms, ProcessResult R)> StepAsync(CancellationToken ct)
            {
                lock (_stderr)
                    _stderr.Clear();
                try
                {
                    await _process.StandardInput.WriteLineAsync("sync".AsMemory(), ct).ConfigureAwait(false);
                    await _process.StandardInput.FlushAsync(ct).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    var said = await _process.StandardOutput.ReadToEndAsync(ct).ConfigureAwait(false);
                    await _process.WaitForExitAsync(ct).ConfigureAwait(false);
                    throw new UserError($"bench: the driver process of {_rid} ended (exit {_process.ExitCode}): {_stderr}{said}".TrimEnd(), ExitCodes.Failed);
                }
                var output = new System.Text.StringBuilder();
                while (true)
                {
                    var line = await _process.StandardOutput.ReadLineAsync(ct).ConfigureAwait(false)
                        ?? throw new UserError($"bench: the driver process of {_rid} ended: {_stderr}\n{output}", ExitCodes.Failed);
                    if (line.StartsWith("step-done exit=", StringComparison.Ordinal))
                    {
                        var r = new ProcessResult(int.Parse(line["step-done exit=".Length..], CultureInfo.InvariantCulture), output.ToString(), _stderr.ToString(), TimeSpan.Zero, false);
                        if (!r.Succeeded)
                            throw new UserError($"bench: driver {_rid} failed: {r.StdErr.Trim()}\n{r.StdOut}", ExitCodes.Failed);
                        return (Metric(r, "bytes_sent"), Metric(r, "duration_ms"), r);
                    }
                    output.AppendLine(line);
                }
            }

            public async ValueTask DisposeAsync()
            {
                try
                {
                    _process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // The process already ended (its failure is the error being reported); nothing to tell it.
                }
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                try
                {
                    await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                }
                _process.Dispose();
            }
        }

        static long Metric(ProcessResult r, string name) =>
            long.Parse(r.StdOut.Split('\n').First(l => l.StartsWith($"metric {name}=", StringComparison.Ordinal)).Split('=')[1], CultureInfo.InvariantCulture);

        static async Task<long> TimedAsync(Func<Task> action)
        {
            var sw = Stopwatch.StartNew();
            await action().ConfigureAwait(false);
            return sw.ElapsedMilliseconds;
        }

        /// <summary>One line: best of the runs for each side (the ratio uses the bests), with the spread of the others and the cold first step.</summary>
        void Row(string what, long driverBytes, List<long> driverMs, long rawBytes, List<long> rawMs, long firstMs, string? detail = null)
        {
            double Rate(long b, long ms) => ms <= 0 ? 0 : b / (ms / 1000.0) / (1 << 20);
            var d = Rate(driverBytes, driverMs.Min());
            var r = Rate(rawBytes, rawMs.Min());
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{what,-8} driver {driverBytes / (1 << 20),5} MiB {driverMs.Min(),6} ms {d,7:0.0} MiB/s | raw {rawBytes / (1 << 20),5} MiB {rawMs.Min(),6} ms {r,7:0.0} MiB/s | ratio {(r > 0 ? d / r : 0):0.00}");
            var spread = string.Create(CultureInfo.InvariantCulture,
                $"{"",-8} runs: driver {string.Join(' ', driverMs)} ms, raw {string.Join(' ', rawMs)} ms; driver's first step in its process (untimed warm-up, cold JIT) {firstMs} ms");
            _rows.Add(line);
            _rows.Add(spread);
            Console.WriteLine(line);
            Console.WriteLine(spread);
            if (detail is not null)
            {
                _rows.Add($"{"",-8} {detail}");
                Console.WriteLine($"{"",-8} {detail}");
            }
        }

        string WriteConfig(string name, string text)
        {
            var dir = Path.Combine(labDir, "bench");
            Directory.CreateDirectory(dir);
            var path = Path.Combine(dir, name);
            File.WriteAllText(path, text);
            return path;
        }

        static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

        public async Task RunAsync(int imageCount, CancellationToken ct)
        {
            var start = LoadAverage();
            Console.WriteLine($"bench sync: lab {labDir}, payload {sizeMb} MiB, best of {runs}, n1 -> n3; driver = step duration (SSH connect, probes, " +
                "transfer, last_sync write) in one warm driver process per transfer, whose first step is an untimed warm-up; raw = pipeline wall time");
            if (Only.Contains("docker"))
                await DockerAsync(ct).ConfigureAwait(false);
            if (Only.Contains("btrfs"))
                await BtrfsAsync(ct).ConfigureAwait(false);
            if (Only.Contains("rsync"))
                await RsyncAsync(ct).ConfigureAwait(false);
            if (Only.Contains("up-to-date"))
                await UpToDateDockerAsync(imageCount, ct).ConfigureAwait(false);
            Console.WriteLine();
            Console.WriteLine($"summary (load average at the start {start}, at the end {LoadAverage()}, {Environment.ProcessorCount} CPUs):");
            foreach (var row in _rows)
                Console.WriteLine("  " + row);
        }

        /// <summary>
        /// Runs <paramref name="runs"/> rounds of (reset, raw pipeline, reset, driver step), alternating which goes first so a
        /// change in the machine's load does not always favour one side. The driver's process did one untimed step first.
        /// </summary>
        async Task<(List<long> Raw, List<long> Driver, long DriverBytes, long FirstMs, ProcessResult Last)> RoundsAsync(
            string config, string rid, Func<Task> reset, Func<Task> raw, CancellationToken ct)
        {
            await using var driver = StartDriver(config, "bench", rid);
            await reset().ConfigureAwait(false);
            var (_, firstMs, _) = await driver.StepAsync(ct).ConfigureAwait(false);
            List<long> rawMs = [], driverMs = [];
            long driverBytes = 0;
            ProcessResult? last = null;
            for (var i = 0; i < runs; i++)
            {
                async Task Raw()
                {
                    await reset().ConfigureAwait(false);
                    rawMs.Add(await TimedAsync(raw).ConfigureAwait(false));
                }
                async Task Driver()
                {
                    await reset().ConfigureAwait(false);
                    var (bytes, ms, r) = await driver.StepAsync(ct).ConfigureAwait(false);
                    driverBytes = bytes;
                    driverMs.Add(ms);
                    last = r;
                }
                if (i % 2 == 0)
                {
                    await Raw().ConfigureAwait(false);
                    await Driver().ConfigureAwait(false);
                }
                else
                {
                    await Driver().ConfigureAwait(false);
                    await Raw().ConfigureAwait(false);
                }
            }
            return (rawMs, driverMs, driverBytes, firstMs, last!);
        }

        async Task DockerAsync(CancellationToken ct)
        {
            // Tagged by size, so a run with another --size-mb does not reuse an image of the wrong size.
            var image = $"opensvc/bench:{sizeMb}m";
            await ShAsync("n1", """
                docker image inspect "$2" >/dev/null 2>&1 && exit 0
                d=$(mktemp -d); head -c "$1" /dev/urandom > "$d/blob"; tar -C "$d" -cf "$d.tar" blob
                docker import "$d.tar" "$2" >/dev/null; rm -rf "$d" "$d.tar"
                """, ct, (sizeMb * 1024L * 1024).ToString(CultureInfo.InvariantCulture), image).ConfigureAwait(false);
            var config = WriteConfig("docker.conf", $"""
                [DEFAULT]
                nodes = n1 n2
                drpnodes = n3
                [container#0]
                type = docker
                image = {image}
                [sync#0]
                type = docker
                target = drpnodes
                """);
            var rawBytes = long.Parse((await ShAsync("n1", "docker save \"$1\" | wc -c", ct, image).ConfigureAwait(false)).StdOut.Trim(), CultureInfo.InvariantCulture);
            var (raw, driver, driverBytes, first, _) = await RoundsAsync(config, "sync#0",
                () => ShAsync("n3", "docker rmi -f \"$1\" >/dev/null 2>&1 || true", ct, image),
                () => ShAsync("n1", "docker save \"$2\" | ssh -F \"$1\" n3 docker load -q >/dev/null", ct, SshConfig, image), ct).ConfigureAwait(false);
            Row("docker", driverBytes, driver, rawBytes, raw, first);
        }

        async Task BtrfsAsync(CancellationToken ct)
        {
            foreach (var node in new[] { "n1", "n3" })
                await ShAsync(node, "mkdir -p /srv/bench/data; mountpoint -q /srv/bench/data || mount -o subvol=data \"$1\" /srv/bench/data", ct, Dev(node)).ConfigureAwait(false);
            // The lab's btrfs disks are small (LAB_DISK_MB, 256 by default): the payload is at most a quarter of the smaller disk.
            long disk = long.MaxValue;
            foreach (var node in new[] { "n1", "n3" })
                disk = Math.Min(disk, long.Parse((await ShAsync(node, "blockdev --getsize64 \"$1\"", ct, Dev(node)).ConfigureAwait(false)).StdOut.Trim(), CultureInfo.InvariantCulture));
            var btrfsMb = (int)Math.Min(sizeMb, disk / 4 / (1 << 20));
            Console.WriteLine($"btrfs payload {btrfsMb} MiB (at most a quarter of the lab disk, {disk / (1 << 20)} MiB; LAB_DISK_MB sets it)");
            await ShAsync("n1", "rm -f /srv/bench/data/bench-blob; head -c \"$1\" /dev/urandom > /srv/bench/data/bench-blob; sync", ct,
                (btrfsMb * 1024L * 1024).ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
            // Raw: top levels mounted, a read-only snapshot (taken in the reset, untimed), then only the timed send | ssh receive.
            foreach (var node in new[] { "n1", "n3" })
                await ShAsync(node, "mkdir -p /srv/bench/top; mountpoint -q /srv/bench/top || mount -o subvolid=5 \"$1\" /srv/bench/top; mkdir -p /srv/bench/top/rawbench", ct, Dev(node)).ConfigureAwait(false);
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
            // Reset: no raw copies and no driver snapshots on either side (the lab disks are small, and the driver must do a
            // full send like the raw one), then a fresh read-only snapshot for the raw send.
            const string purge = "btrfs subvolume list /srv/bench/top | awk '{print $NF}' | { grep -E '^(rawbench/|\\.osync/bench/|benchdst)' || true; } | sort -r | while read -r p; do btrfs subvolume delete \"/srv/bench/top/$p\" >/dev/null; done; btrfs filesystem sync /srv/bench/top";
            async Task Reset()
            {
                await ShAsync("n1", purge, ct).ConfigureAwait(false);
                await ShAsync("n3", purge, ct).ConfigureAwait(false);
            }
            await Reset().ConfigureAwait(false);
            long rawBytes;
            List<long> raw, driver;
            long driverBytes, first;
            ProcessResult last;
            try
            {
                await ShAsync("n1", "btrfs subvolume snapshot -r /srv/bench/top/data /srv/bench/top/rawbench/snap >/dev/null", ct).ConfigureAwait(false);
                rawBytes = long.Parse((await ShAsync("n1", "btrfs send -q /srv/bench/top/rawbench/snap | wc -c", ct).ConfigureAwait(false)).StdOut.Trim(), CultureInfo.InvariantCulture);
                await ShAsync("n1", purge, ct).ConfigureAwait(false);
                (raw, driver, driverBytes, first, last) = await RoundsAsync(config, "sync#1", Reset,
                    // The same commit as the driver's: its placement snapshot commits the transaction, which writes the received
                    // data to disk; the raw receive alone would leave it in the page cache (a DR copy must be on disk).
                    // And the read-only snapshot btrfs send needs, which the driver's time includes too (its prepare phase).
                    () => ShAsync("n1", "btrfs subvolume snapshot -r /srv/bench/top/data /srv/bench/top/rawbench/snap >/dev/null && btrfs send -q /srv/bench/top/rawbench/snap | ssh -F \"$1\" n3 'btrfs receive -q /srv/bench/top/rawbench && btrfs filesystem sync /srv/bench/top'",
                        ct, SshConfig), ct).ConfigureAwait(false);
            }
            finally
            {
                // The payload lives in the lab's svc1 "data" subvolume, which the sync tests send too: leave none of it behind.
                await ShAsync("n1", "rm -f /srv/bench/data/bench-blob", ct).ConfigureAwait(false);
                await ShAsync("n1", purge, ct).ConfigureAwait(false);
                await ShAsync("n3", purge, ct).ConfigureAwait(false);
            }
            if (Metric(last, "full") != 1)
                throw new UserError("bench: the btrfs driver did not do a full send", ExitCodes.Failed);
            // Where the driver's time goes (last run): its rotate phase includes the placement snapshot, whose transaction
            // commit writes the received data to disk; the raw receive leaves it dirty in the page cache.
            var phases = last.StdOut.Split('\n').Select(l => l.IndexOf("phases: ", StringComparison.Ordinal) is var at and >= 0 ? l[at..] : null).LastOrDefault(l => l is not null);
            Row("btrfs", driverBytes, driver, rawBytes, raw, first, phases is null ? null : $"driver {phases} (last run); raw = read-only snapshot, send | ssh receive, then btrfs filesystem sync on n3: the snapshot and the commit the driver's time includes too");
        }

        async Task RsyncAsync(CancellationToken ct)
        {
            await ShAsync("n1", "mkdir -p /srv/bench/rsrc; [ \"$(stat -c %s /srv/bench/rsrc/blob 2>/dev/null)\" = \"$1\" ] || head -c \"$1\" /dev/urandom > /srv/bench/rsrc/blob", ct,
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
            ProcessResult? rawResult = null;
            var (raw, driver, driverBytes, first, _) = await RoundsAsync(config, "sync#2",
                () => ShAsync("n3", "rm -rf /srv/bench/rdst/raw /srv/bench/rdst/driver", ct),
                async () => rawResult = await ShAsync("n1", "rsync -a --stats -e \"ssh -F $1\" /srv/bench/rsrc/ n3:/srv/bench/rdst/raw", ct, SshConfig).ConfigureAwait(false), ct).ConfigureAwait(false);
            Row("rsync", driverBytes, driver, Infrastructure.Drivers.Sync.Rsync.RsyncArgv.ParseStats(rawResult!.StdOut).BytesSent, raw, first);
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
