using System.Diagnostics;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Infrastructure.Drivers.Sync.Common;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Sync.Btrfs;

/// <summary>
/// sync.btrfs: read-only snapshot <c>next</c> of <c>src</c>, full send the first time and incremental
/// (<c>btrfs send -p last</c>) afterwards, streamed over SSH.NET into <c>btrfs receive</c>; rotation so each
/// side keeps exactly the parent the next increment needs; the received copy becomes <c>dst</c> on the target.
/// Labels resolve among the filesystems each node itself uses, never by a global by-label lookup.
/// </summary>
/// <remarks>
/// Layout: the top-level subvolume is mounted at <c>&lt;var&gt;/btrfs/&lt;LABEL&gt;</c> on both sides.
/// Sender: <c>.osync/&lt;svc&gt;/&lt;rid&gt;/&lt;target&gt;/{next,last}</c> (one parent per target, so two targets never
/// rotate each other's parent away). Target: <c>.osync/&lt;svc&gt;/&lt;rid&gt;/{next,last}</c>.
/// </remarks>
public sealed class BtrfsSyncDriver(SshRunner ssh, TimeProvider time) : ISyncDriver<BtrfsSync>
{
    public async Task<StepResult> SendAsync(StepContext<BtrfsSync> context, NodeName target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var sync = context.Resource;
        var rid = context.Rid;
        if (sync.Src is not { } configuredSrc || sync.Dst is not { } configuredDst)
            throw new StepFailedException($"{rid}: src and dst must both be LABEL:subvolume");
        // A reversed send (reprotect, giveback: a node of the target keyword sends to a node outside it) sends the DR copy,
        // dst, back into src. Snapshots keep src's name in both directions, so each side finds the other's as a parent.
        var reverse = SyncStep.IsReverse(sync, context.LocalNode, target);
        var (src, dst) = reverse ? (configuredDst, configuredSrc) : (configuredSrc, configuredDst);
        if (sync.Recursive)
            throw new StepFailedException($"{rid}: recursive = true is not implemented by this agent; refusing rather than sending a partial copy");
        // Validation refuses these already; a second line of defence for a config stored before it did.
        if ((src.Refusal ?? dst.Refusal) is { } refusal)
            throw new StepFailedException($"{rid}: refusing {src} / {dst}: {refusal}", permanent: true);
        var sw = Stopwatch.StartNew();
        var log = new List<string>();
        var local = new LocalShell(context.LocalNode.Value);
        var resolved = context.Resolved;
        var snap = BtrfsSend.SnapshotName(configuredSrc.Subvolume);

        // The two sides prepare at the same time, and the target's preparation and receive are one exec: the sender resolves
        // its label and takes the snapshot while the target resolves its label, mounts its top level and prints the state of
        // its parents, then a marker line; from that output the send is chosen (full or incremental) and fed to the same
        // exec's stdin, where `btrfs receive` waits once the target has prepared its work dirs (while the send starts).
        var sender = Timed(PrepareSenderAsync(local, src, snap, resolved, context, target, cancellationToken), out var senderMs);
        SshConnection connection;
        try
        {
            connection = await SyncStep.ConnectAsync(ssh, target, rid, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Both failed: the sender's error is the first cause (as when the two ran side by side).
            await sender.ConfigureAwait(false);
            throw;
        }
        using var connectionScope = connection;
        var connectMs = sw.ElapsedMilliseconds;
        var remoteRoot = $"{SyncPaths.Var().TrimEnd('/')}/btrfs/{dst.Label}";
        var remoteWork = $"{remoteRoot}/.osync/{context.Service}/{rid}";
        TargetProbe? probe = null;
        long probedAt = 0, prepared = 0;
        List<string> send = [];
        SendDecision? decision = null;
        ProcessResult? sent = null;
        (SshResult Result, string? Prelude) exec;
        try
        {
            exec = await connection.RunWithPreludeAsync(
                ["sh", "-c", PrepareAndReceiveScript, "receive", dst.Label, remoteRoot, MountTable.Escape(remoteRoot), remoteWork, snap, $"{remoteWork}/{context.LocalNode}/last"],
                ReceiveMarker, async (prelude, stdin, ct) =>
                {
                    probedAt = sw.ElapsedMilliseconds;
                    probe = TargetProbe.Parse(prelude);
                    var (localDev, work, localLast, localReceived) = await sender.ConfigureAwait(false);
                    var (lastText, sentText) = Split(probe.Last, "--- sent");
                    decision = BtrfsSend.DecideReverse(BtrfsSend.Decide(localLast, Show(lastText)), localReceived, Show(sentText));
                    log.Add($"{decision.Mode.ToString().ToLowerInvariant()} {(reverse ? "reverse " : "")}send of {src} from {context.LocalNode} ({localDev}) to {target} ({probe.Matches[0]}" +
                        $"{(reverse ? $", into {dst}" : "")}): {decision.Reason}");
                    var parent = decision.FromReceived ? $"{ReceivedDir(work)}/{snap}" : $"{work}/last/{snap}";
                    send = decision.Mode == SendMode.Incremental
                        ? ["send", "-p", parent, "--", $"{work}/next/{snap}"]
                        : ["send", "--", $"{work}/next/{snap}"];
                    await context.EnsureCurrentAsync(ct).ConfigureAwait(false);
                    prepared = sw.ElapsedMilliseconds;
                    await using var process = ProcessRunner.StartStreaming("btrfs", send, new ProcessRunOptions { Timeout = TimeSpan.FromHours(24) });
                    var n = await SyncStep.CopyAsync(process.StandardOutput, stdin, ct).ConfigureAwait(false);
                    sent = await process.WaitAsync(ct).ConfigureAwait(false);
                    return n;
                }, cancellationToken, TimeSpan.FromHours(24)).ConfigureAwait(false);
        }
        finally
        {
            // Never leave the sender's snapshot running behind a failed step (a retry would race it).
            await Settle(sender).ConfigureAwait(false);
        }
        var received = exec.Result;
        if (exec.Prelude is null)
        {
            // The target's preparation failed: the sender's own failure, if any, is the first cause.
            await sender.ConfigureAwait(false);
            throw TargetRefusal(rid, target, dst, remoteRoot, received);
        }
        var bytes = received.BytesSent;
        var remoteDev = probe!.Matches[0];
        // The first failure is the cause: a failed send truncates the receive's stream; a failed receive stops the feeding.
        if (sent is { Succeeded: false })
            throw new StepFailedException($"{rid}: btrfs {string.Join(' ', send)} failed on {context.LocalNode}: {sent.Tail()}", string.Join('\n', log));
        if (!received.Succeeded)
            throw new StepFailedException(sent is null && bytes == 0
                ? $"{rid}: preparing {target} to receive {dst} failed (exit {received.ExitCode}) before the send started: {received.Tail()}"
                : $"{rid}: btrfs receive on {target} failed (exit {received.ExitCode}) after {bytes} bytes: {received.Tail()}", string.Join('\n', log));
        if (sent is null)
            throw new StepFailedException($"{rid}: btrfs {string.Join(' ', send)} on {context.LocalNode} did not finish", string.Join('\n', log));
        var remoteMounts = probe.Mounts;

        var transferred = sw.ElapsedMilliseconds;
        // Target rotation, placement, remount and last_sync in one round trip: the received snapshot becomes the parent of the
        // next increment (read-only subvolumes cannot be renamed, so the directories holding them rotate, as in OpenSVC), a
        // writable snapshot of it replaces dst, and the target's standby fs mounts of dst (read before the transfer) are
        // remounted so they show the new copy.
        var dstPath = $"{remoteRoot}/{dst.Subvolume.Trim('/')}";
        var dstMounts = remoteMounts
            .Where(m => m.FsType == "btrfs" && m.Source == remoteDev && MountsSubvolume(m, dst.Subvolume)).Select(m => m.MountPoint).ToList();
        var record = SyncStep.StampOf(context, target, bytes, sw, time);
        var file = SyncState.FileOf(context.Service, rid.ToString(), record);
        var rotateAt = sw.ElapsedMilliseconds;
        var placed = await connection.RunAsync(
            ["sh", "-c", RotateAndPlaceScript, "rotate", remoteWork, snap, dstPath, remoteDev, dst.Subvolume.Trim('/'), file.Dir, file.Path, file.Json, .. dstMounts],
            cancellationToken, TimeSpan.FromMinutes(2)).ConfigureAwait(false);
        var remounts = placed.StdOut.Split('\n').Where(l => l.StartsWith("remount ", StringComparison.Ordinal)).ToList();
        for (var i = 0; i < remounts.Count && i < dstMounts.Count; i++)
            log.Add(remounts[i] == "remount ok"
                ? $"remounted {dstMounts[i]} on {target} so it shows the new copy"
                : $"WARNING: {dstMounts[i]} on {target} still shows the previous copy of {dst} ({remounts[i]["remount ".Length..]}); remount it before starting the service there");
        if (!placed.Succeeded)
            throw new StepFailedException(placed.ExitCode == LastSyncWriteFailed
                ? $"{rid}: the data reached {target} and was placed at {dst}, but its last_sync file {file.Path} could not be written there: {placed.Tail()}"
                : $"{rid}: the data reached {target} but could not be placed at {dst} ({dstPath}): {placed.Tail()}", string.Join('\n', log));

        var placedMs = sw.ElapsedMilliseconds - rotateAt;
        // Sender rotation, after the target holds the new parent; then the sender's own last_sync file.
        await local.CheckedAsync(["sh", "-c", RotateSenderScript, "rotate", sender.Result.Work, snap], cancellationToken).ConfigureAwait(false);
        await SyncState.WriteLocalAsync(context.Service, rid.ToString(), record, cancellationToken).ConfigureAwait(false);

        log.Add($"placed at {dst} ({dstPath}) on {target}: {SyncStep.Rate(bytes, sw)}; phases: prepare {prepared} ms (sender {senderMs()} ms; connect {connectMs} ms, target state printed at {probedAt} ms), transfer {transferred - prepared} ms, rotate and place {sw.ElapsedMilliseconds - transferred} ms (target exec {placedMs})");
        var metrics = SyncStep.Metrics(bytes, sw);
        metrics["full"] = decision!.Mode == SendMode.Full ? 1 : 0;
        return new StepResult(true, string.Join('\n', log), metrics);
    }

    /// <summary>The task, and how long it took once it ended (for the phases line).</summary>
    static Task<T> Timed<T>(Task<T> task, out Func<long> elapsed)
    {
        var sw = Stopwatch.StartNew();
        _ = task.ContinueWith(_ => sw.Stop(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        elapsed = () => sw.ElapsedMilliseconds;
        return task;
    }

    /// <summary>
    /// Where a node keeps the snapshot it last received for this resource (the target layout, <c>.osync/svc/rid/last</c>),
    /// from the sender's work dir (<c>.osync/svc/rid/&lt;target&gt;</c>).
    /// </summary>
    static string ReceivedDir(string senderWork) => $"{senderWork[..senderWork.LastIndexOf('/')]}/last";

    /// <summary>Sender side: the label among this node's filesystems, top level mounted privately, snapshot next, last's and the received snapshot's info.</summary>
    static async Task<(string Dev, string Work, SubvolumeInfo? Last, SubvolumeInfo? Received)> PrepareSenderAsync(
        LocalShell local, BtrfsVolume src, string snap, ResolvedService resolved, StepContext<BtrfsSync> context, NodeName target, CancellationToken cancellationToken)
    {
        var rid = context.Step.Rid;
        var mounts = await local.MountsAsync(cancellationToken).ConfigureAwait(false);
        var dev = await DeviceForLabelAsync(local, mounts, src.Label, ConfiguredDevices(resolved), rid, cancellationToken).ConfigureAwait(false);
        var root = $"{SyncPaths.Var().TrimEnd('/')}/btrfs/{src.Label}";
        await MountTopLevelAsync(local, mounts, dev, root, rid, cancellationToken).ConfigureAwait(false);
        var work = $"{root}/.osync/{context.Service}/{rid}/{target}";
        var r = await local.RunAsync(["sh", "-c", PrepareSenderScript, "prepare", work, snap, $"{root}/{src.Subvolume.Trim('/')}", ReceivedDir(work)], cancellationToken).ConfigureAwait(false);
        if (r.ExitCode == NoSource)
            throw new StepFailedException($"{rid}: subvolume {src.Subvolume} does not exist in btrfs {src.Label} ({dev}) on {context.LocalNode}");
        if (!r.Succeeded)
            throw new StepFailedException($"{rid}: preparing the snapshot of {src} on {context.LocalNode} failed (exit {r.ExitCode}): {r.Tail}");
        var (lastText, receivedText) = Split(r.StdOut, "--- received");
        return (dev, work, Show(lastText), Show(receivedText));
    }

    /// <summary>What the target's preparation printed and exited with when it ended before its marker: the refusal an operator reads.</summary>
    static StepFailedException TargetRefusal(ResourceId rid, NodeName target, BtrfsVolume dst, string root, SshResult r)
    {
        var probe = TargetProbe.Parse(r.StdOut);
        var mounted = probe.Mounts.Where(m => m.FsType == "btrfs" && m.Source.StartsWith('/')).Select(m => m.Source).Distinct().ToList();
        switch (r.ExitCode)
        {
            case LabelNotFound when probe.Matches.Count == 0:
                return new StepFailedException(
                    $"{rid}: no btrfs labelled {dst.Label} is mounted on {target} " +
                    $"(btrfs mounted there: {(mounted.Count == 0 ? "none" : string.Join(", ", mounted))}): refusing to sync; start the service's standby fs on {target} first",
                    permanent: true);
            case LabelNotFound:
                return new StepFailedException($"{rid}: several btrfs devices labelled {dst.Label} on {target}: {string.Join(", ", probe.Matches)}; refusing to guess");
            case RootTaken:
                var holder = probe.RootHolder.Split(' ');
                return new StepFailedException(holder.Length == 3
                    ? $"{rid}: {root} on {target} already holds {holder[1]} ({holder[0]}, {holder[2]}), not the top level of {probe.Matches.FirstOrDefault()}"
                    : $"{rid}: {root} on {target} already holds {probe.RootHolder}, not the top level of {probe.Matches.FirstOrDefault()}");
            default:
                return new StepFailedException($"{rid}: preparing {target} to receive {dst} failed (exit {r.ExitCode}): {r.Tail()}");
        }
    }

    /// <summary>Waits for a task to end, whatever its outcome (observed by whoever awaits it for its result).</summary>
    static async Task Settle(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Reported by the caller that needs the result.
        }
    }

    /// <summary>The line <see cref="PrepareAndReceiveScript"/> prints between the target's state and the receive.</summary>
    const string ReceiveMarker = "--- receive";

    const int NoSource = 10;
    const int LabelNotFound = 11;
    const int RootTaken = 12;
    const int LastSyncWriteFailed = 13;

    // Fixed scripts: configuration values reach them only as positional parameters ("$1"...), never in the text.

    static (string Before, string After) Split(string text, string marker)
    {
        var at = text.IndexOf(marker, StringComparison.Ordinal);
        return at < 0 ? (text, "") : (text[..at], text[(at + marker.Length)..]);
    }

    static SubvolumeInfo? Show(string text) => text.Contains("UUID:", StringComparison.Ordinal) ? BtrfsSend.ParseShow(text) : null;

    /// <summary>
    /// $1 work dir, $2 snapshot name, $3 source subvolume path, $4 the dir of the snapshot this node last received: work
    /// dirs, a stale next dropped, the read-only snapshot next taken, then `show` of last if there is one and, after
    /// "--- received", of the received snapshot if there is one.
    /// </summary>
    const string PrepareSenderScript = """
        set -e
        btrfs subvolume show "$3" >/dev/null 2>&1 || exit 10
        mkdir -p "$1/next" "$1/last"
        if btrfs subvolume show "$1/next/$2" >/dev/null 2>&1; then btrfs subvolume delete "$1/next/$2" >/dev/null; fi
        btrfs subvolume snapshot -r "$3" "$1/next/$2" >/dev/null
        btrfs subvolume show "$1/last/$2" 2>/dev/null || true
        echo "--- received"
        btrfs subvolume show "$4/$2" 2>/dev/null || true
        """;

    /// <summary>
    /// $1 label, $2 top-level mount point, $3 the same as mountinfo escapes it, $4 work dir, $5 snapshot name, $6 the dir of
    /// the snapshot the target last sent to this sender. Prints this namespace's mountinfo and the label of every mounted
    /// btrfs device; exits 11 unless exactly one has the label, 12 when $2 holds something other than that device's top
    /// level; else mounts the top level there (unless it already is), prints `show` of last and, after "--- sent", of the
    /// snapshot it sent if there are, then the marker line; then (while the sender starts its send) prepares the work dirs,
    /// drops a stale next and receives the stream on stdin into next.
    /// </summary>
    const string PrepareAndReceiveScript = """
        set -e
        cat /proc/self/mountinfo
        echo "--- labels"
        dev= n=0
        for d in $(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "btrfs" && substr($(i + 2), 1, 1) == "/") print $(i + 2); break } }' /proc/self/mountinfo | sort -u); do
          l=$(btrfs filesystem label -- "$d" 2>/dev/null) || continue
          if [ "$l" = "$1" ]; then echo "match $d"; dev=$d; n=$((n + 1)); fi
        done
        [ "$n" = 1 ] || exit 11
        at=$(MP="$3" awk '{ for (i = 7; i < NF; i++) if ($i == "-") break; if ($5 == ENVIRON["MP"]) at = $(i + 1) " " $(i + 2) " " $4 } END { print at }' /proc/self/mountinfo)
        if [ -n "$at" ]; then
          if [ "$at" != "btrfs $dev /" ]; then echo "--- root $at"; exit 12; fi
        else
          mkdir -p -- "$2"
          mount -t btrfs -o subvolid=5 -- "$dev" "$2"
          mount --make-private -- "$2"
        fi
        echo "--- last"
        btrfs subvolume show "$4/last/$5" 2>/dev/null || true
        echo "--- sent"
        btrfs subvolume show "$6/$5" 2>/dev/null || true
        echo "--- receive"
        mkdir -p "$4/next" "$4/last"
        if btrfs subvolume show "$4/next/$5" >/dev/null 2>&1; then btrfs subvolume delete "$4/next/$5" >/dev/null; fi
        exec btrfs receive -- "$4/next"
        """;

    /// <summary>
    /// $1 work dir, $2 snapshot name, $3 dst path, $4 device, $5 dst subvolume, $6 last_sync dir, $7 last_sync path, $8 its
    /// JSON, then the mount points of dst to remount: rotate next to last, replace dst with a writable snapshot of last,
    /// remount (one "remount ok" / "remount failed: ..." line each, never fatal), then write the last_sync file (exit 13 if not).
    /// </summary>
    const string RotateAndPlaceScript = """
        set -e
        if ! btrfs subvolume show "$3" >/dev/null 2>&1 && [ -e "$3" ]; then echo "$3 exists and is not a subvolume: refusing to replace it" >&2; exit 3; fi
        if btrfs subvolume show "$1/last/$2" >/dev/null 2>&1; then btrfs subvolume delete "$1/last/$2" >/dev/null; fi
        rm -rf "$1/last"
        mv "$1/next" "$1/last"
        mkdir -p "$1/next" "$(dirname "$3")"
        if btrfs subvolume show "$3.osync-new" >/dev/null 2>&1; then btrfs subvolume delete "$3.osync-new" >/dev/null; fi
        btrfs subvolume snapshot "$1/last/$2" "$3.osync-new" >/dev/null
        if btrfs subvolume show "$3" >/dev/null 2>&1; then btrfs subvolume delete "$3" >/dev/null; fi
        mv "$3.osync-new" "$3"
        dev=$4 subvol=$5 dir=$6 file=$7 json=$8
        shift 8
        for mp in "$@"; do
          if out=$(umount -- "$mp" 2>&1) && out=$(mount -t btrfs -o "subvol=$subvol" -- "$dev" "$mp" 2>&1); then
            echo "remount ok"
          else
            echo "remount failed: $(printf '%s' "$out" | tr '\n' ' ')"
          fi
        done
        { mkdir -p "$dir" && printf '%s' "$json" > "$file.tmp" && mv "$file.tmp" "$file"; } || exit 13
        """;

    /// <summary>$1 work dir, $2 snapshot name: the sender's rotation once the target holds the new parent.</summary>
    const string RotateSenderScript = """
        set -e
        if btrfs subvolume show "$1/last/$2" >/dev/null 2>&1; then btrfs subvolume delete "$1/last/$2" >/dev/null; fi
        rm -rf "$1/last"
        mv "$1/next" "$1/last"
        mkdir -p "$1/next"
        """;

    /// <summary>What <see cref="PrepareAndReceiveScript"/> printed: the target's mounts, the labelled devices, who holds the root, last's `show`.</summary>
    sealed record TargetProbe(IReadOnlyList<MountEntry> Mounts, IReadOnlyList<string> Matches, string RootHolder, string Last)
    {
        public static TargetProbe Parse(string output)
        {
            var lines = output.Split('\n');
            var labels = Array.IndexOf(lines, "--- labels");
            var mounts = MountTable.Parse(string.Join('\n', labels < 0 ? lines : lines[..labels]));
            var matches = lines.Where(l => l.StartsWith("match ", StringComparison.Ordinal)).Select(l => Unescape(l["match ".Length..])).ToList();
            var root = lines.FirstOrDefault(l => l.StartsWith("--- root ", StringComparison.Ordinal)) is { } r ? r["--- root ".Length..] : "";
            var last = Array.IndexOf(lines, "--- last");
            return new TargetProbe(mounts, matches, root, last < 0 ? "" : string.Join('\n', lines[(last + 1)..]));
        }

        /// <summary>A device as mountinfo wrote it, back to its path (the same rule as <see cref="MountTable.Parse"/>).</summary>
        static string Unescape(string field) =>
            MountTable.Parse($"1 1 0:1 / /x rw - btrfs {field} rw").FirstOrDefault()?.Source ?? field;
    }

    /// <summary>A mount of the subvolume (also one already replaced: mountinfo then shows its root as "/data//deleted").</summary>
    static bool MountsSubvolume(MountEntry mount, string subvolume)
    {
        var root = mount.Root.EndsWith("//deleted", StringComparison.Ordinal) ? mount.Root[..^"//deleted".Length] : mount.Root;
        return root.Trim('/') == subvolume.Trim('/');
    }

    static IEnumerable<string> ConfiguredDevices(ResolvedService service) =>
        service.Resources.OfType<FsResource>().Where(f => !f.Disabled && f.Dev is not null).Select(f => f.Dev!);

    /// <summary>
    /// The sender's block device of the btrfs labelled <paramref name="label"/> among the filesystems this node uses: btrfs
    /// mounted in its own mount namespace, plus the service's configured fs devices. (The target's rule, mounted ones only,
    /// is in <see cref="PrepareAndReceiveScript"/>.)
    /// </summary>
    static async Task<string> DeviceForLabelAsync(INodeShell shell, IReadOnlyList<MountEntry> mounts, string label, IEnumerable<string> configured, ResourceId rid, CancellationToken cancellationToken)
    {
        var mounted = mounts.Where(m => m.FsType == "btrfs" && m.Source.StartsWith('/')).Select(m => m.Source).Distinct().ToList();
        var candidates = mounted.Concat(configured).Distinct().ToList();
        // A mounted btrfs's label is read where the kernel publishes it (no process); others are asked of btrfs.
        var labels = await Task.WhenAll(candidates.Select(async dev => shell is LocalShell && BtrfsLabels.OfMounted(dev) is { } known
            ? known
            : await shell.RunAsync(["btrfs", "filesystem", "label", "--", dev], cancellationToken).ConfigureAwait(false) is { Succeeded: true } r ? r.StdOut.Trim() : null)).ConfigureAwait(false);
        var matches = candidates.Where((_, i) => labels[i] == label).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new StepFailedException(
                $"{rid}: no btrfs labelled {label} among the filesystems {shell.Node} uses (mounted: {(mounted.Count == 0 ? "none" : string.Join(", ", mounted))}; configured: {string.Join(", ", configured)})"),
            _ => throw new StepFailedException($"{rid}: several btrfs devices labelled {label} on {shell.Node}: {string.Join(", ", matches)}; refusing to guess"),
        };
    }

    /// <summary>Mounts the top-level subvolume of <paramref name="dev"/> at <paramref name="root"/> unless it already is.</summary>
    static async Task MountTopLevelAsync(INodeShell shell, IReadOnlyList<MountEntry> mounts, string dev, string root, ResourceId rid, CancellationToken cancellationToken)
    {
        var at = MountTable.At(mounts, root);
        if (at is not null)
        {
            if (at.FsType == "btrfs" && at.Source == dev && at.Root == "/")
                return;
            throw new StepFailedException($"{rid}: {root} on {shell.Node} already holds {at.Source} ({at.FsType}, {at.Root}), not the top level of {dev}");
        }
        await shell.CheckedAsync(["mkdir", "-p", "--", root], cancellationToken).ConfigureAwait(false);
        await shell.CheckedAsync(["mount", "-t", "btrfs", "-o", "subvolid=5", "--", dev, root], cancellationToken).ConfigureAwait(false);
        await shell.CheckedAsync(["mount", "--make-private", "--", root], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// drill, on the DR node: a writable snapshot (copy-on-write: metadata only) of the last snapshot received, at
    /// <see cref="Drill.DrillNames.Clone"/>. <c>last</c>, the parent the next incremental send needs, is only read; a sync
    /// during the drill rotates it as usual, and the clone, a subvolume of its own, stays. An existing clone is kept.
    /// </summary>
    public async Task<StepResult> DrillStartAsync(StepContext<BtrfsSync> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (shell, dev, root, clone, last) = await DrillPlaceAsync(context, cancellationToken).ConfigureAwait(false);
        var rid = context.Rid;
        if (Directory.Exists(clone) && (await shell.RunAsync(["btrfs", "subvolume", "show", "--", clone], cancellationToken).ConfigureAwait(false)).ExitCode == 0)
            return StepResult.Unchanged($"the drill clone of {context.Resource.Dst} is already in place on {context.LocalNode}: {clone}");
        if (!Directory.Exists(last))
            throw new StepFailedException(
                $"{rid}: {context.LocalNode} holds no received snapshot of {context.Resource.Dst} ({last} is missing): sync it first (opensvc svc sync {context.Service} --node <primary>)",
                permanent: true);
        // The received snapshot's identity, for the record, is read beside the fencing check and the clone (read only: it
        // never delays them); the clone is the snapshot ioctl itself, with no process spawned on the drill's way.
        var showing = shell.RunAsync(["btrfs", "subvolume", "show", "--", last], cancellationToken);
        long? before, after;
        try
        {
            await context.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
            // btrfs creates a snapshot in a transaction commit, which the ioctl waits for: the device's write counter after it
            // holds the clone's metadata (no sync needed, and none on the RTO path). Whatever else was dirty on that filesystem
            // is committed with it; the syncs commit what they receive, so that is little.
            before = Drill.DrillNames.BytesWritten(dev);
            try
            {
                LinuxCalls.BtrfsSnapshot(last, clone);
            }
            catch (IOException ex)
            {
                throw new StepFailedException($"{rid}: cloning the last snapshot received on {context.LocalNode} failed: {ex.Message}");
            }
            after = Drill.DrillNames.BytesWritten(dev);
        }
        catch
        {
            _ = showing.ContinueWith(t => t.Exception, TaskScheduler.Default); // observed: the clone's failure is what is reported
            throw;
        }
        var show = await showing.ConfigureAwait(false);
        var received = BtrfsSend.ParseShow(show.StdOut);
        var created = System.Text.RegularExpressions.Regex.Match(show.StdOut, @"^\s*Creation time:\s*(.+)$", System.Text.RegularExpressions.RegexOptions.Multiline);
        var metrics = new Dictionary<string, long>();
        if (before is { } b && after is { } a)
            metrics["disk_bytes_written"] = a - b;
        return new StepResult(true,
            $"cloned the last snapshot received ({last}, uuid {received.Uuid}{(created.Success ? $", received {created.Groups[1].Value.Trim()}" : "")}) as {clone} on {dev}: " +
            $"writable and copy-on-write{(metrics.TryGetValue("disk_bytes_written", out var w) ? $", {w} bytes written to {dev}" : "")}; the next incremental send keeps its parent",
            metrics);
    }

    /// <summary>drill-cleanup: deletes the clone (its drill mount is gone by then); nothing to do when there is none.</summary>
    public async Task<StepResult> DrillStopAsync(StepContext<BtrfsSync> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (shell, _, _, clone, _) = await DrillPlaceAsync(context, cancellationToken).ConfigureAwait(false);
        if ((await shell.RunAsync(["btrfs", "subvolume", "show", "--", clone], cancellationToken).ConfigureAwait(false)).ExitCode != 0)
            return StepResult.Unchanged($"no drill clone of {context.Resource.Dst} on {context.LocalNode}");
        await context.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
        await shell.CheckedAsync(["btrfs", "subvolume", "delete", "--", clone], cancellationToken).ConfigureAwait(false);
        return new StepResult(true, $"deleted the drill clone {clone} of {context.Resource.Dst} on {context.LocalNode}");
    }

    /// <summary>The DR node's side of a drill: its device for the dst label, its top level mounted, the clone's and last's paths.</summary>
    static async Task<(LocalShell Shell, string Dev, string Root, string Clone, string Last)> DrillPlaceAsync(StepContext<BtrfsSync> context, CancellationToken ct)
    {
        var sync = context.Resource;
        if (sync.Src is not { } src || sync.Dst is not { } dst)
            throw new StepFailedException($"{context.Rid}: src and dst must both be LABEL:subvolume", permanent: true);
        if ((src.Refusal ?? dst.Refusal) is { } refusal)
            throw new StepFailedException($"{context.Rid}: refusing {src} / {dst}: {refusal}", permanent: true);
        var shell = new LocalShell(context.LocalNode.Value);
        var mounts = await shell.MountsAsync(ct).ConfigureAwait(false);
        var dev = await DeviceForLabelAsync(shell, mounts, dst.Label, ConfiguredDevices(context.Resolved), context.Rid, ct).ConfigureAwait(false);
        var root = $"{SyncPaths.Var().TrimEnd('/')}/btrfs/{dst.Label}";
        await MountTopLevelAsync(shell, mounts, dev, root, context.Rid, ct).ConfigureAwait(false);
        var work = $"{root}/.osync/{context.Service}/{context.Rid}";
        return (shell, dev, root, Drill.DrillNames.Clone(root, context.Service, context.Rid.ToString()), $"{work}/last/{BtrfsSend.SnapshotName(src.Subvolume)}");
    }

    public Task<ResourceProbe> ProbeAsync(ProbeContext<BtrfsSync> context, CancellationToken cancellationToken) =>
        Task.FromResult(SyncStep.Status(context, time));
}
