using System.Diagnostics;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Drivers.Sync.Common;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Workflows.Engine;

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
public sealed class BtrfsSyncDriver(SshRunner ssh, TimeProvider time) : IResourceDriver
{
    public static BtrfsSyncDriver Create() => new(SshRunner.FromEnvironment(), TimeProvider.System);

    public IReadOnlyCollection<string> Drivers { get; } = ["sync.btrfs"];

    public async Task<StepResult> ExecuteAsync(ResourceAction action, StepContext context, CancellationToken cancellationToken)
    {
        var target = SyncStep.RequireSyncTo(action, context);
        var sync = ResolvedConfigs.Resource<BtrfsSync>(context);
        var rid = context.Step.Rid;
        if (sync.Src is not { } src || sync.Dst is not { } dst)
            throw new StepFailedException($"{rid}: src and dst must both be LABEL:subvolume");
        if (sync.Recursive)
            throw new StepFailedException($"{rid}: recursive = true is not implemented by this agent; refusing rather than sending a partial copy");
        if (!BtrfsSend.IsSafeSubvolume(src.Subvolume) || !BtrfsSend.IsSafeSubvolume(dst.Subvolume))
            throw new StepFailedException($"{rid}: refusing subvolume paths {src} / {dst} (empty, '.', '..' or .osync)");
        var sw = Stopwatch.StartNew();
        var log = new List<string>();
        var local = new LocalShell(context.LocalNode.Value);
        var resolved = ResolvedConfigs.For(context);
        var snap = BtrfsSend.SnapshotName(src.Subvolume);

        // Sender side: the label among this node's filesystems, top level mounted privately, snapshot next.
        var localDev = await DeviceForLabelAsync(local, src.Label, ConfiguredDevices(resolved), mountedOnly: false, rid, cancellationToken).ConfigureAwait(false);
        var root = $"{SyncPaths.Var().TrimEnd('/')}/btrfs/{src.Label}";
        await MountTopLevelAsync(local, localDev, root, rid, cancellationToken).ConfigureAwait(false);
        var work = $"{root}/.osync/{context.Service}/{rid}/{target}";
        await local.CheckedAsync(["mkdir", "-p", $"{work}/next", $"{work}/last"], cancellationToken).ConfigureAwait(false);
        if (await ShowAsync(local, $"{work}/next/{snap}", cancellationToken).ConfigureAwait(false) is not null)
            await local.CheckedAsync(["btrfs", "subvolume", "delete", $"{work}/next/{snap}"], cancellationToken).ConfigureAwait(false);
        if (await ShowAsync(local, $"{root}/{src.Subvolume.Trim('/')}", cancellationToken).ConfigureAwait(false) is null)
            throw new StepFailedException($"{rid}: subvolume {src.Subvolume} does not exist in btrfs {src.Label} ({localDev}) on {context.LocalNode}");
        await local.CheckedAsync(["btrfs", "subvolume", "snapshot", "-r", $"{root}/{src.Subvolume.Trim('/')}", $"{work}/next/{snap}"], cancellationToken).ConfigureAwait(false);
        var localLast = await ShowAsync(local, $"{work}/last/{snap}", cancellationToken).ConfigureAwait(false);

        // Target side: the dst label must be a filesystem the target has mounted (its standby fs), same layout.
        using var connection = await SyncStep.ConnectAsync(ssh, target, rid, cancellationToken).ConfigureAwait(false);
        var remote = new RemoteShellOf(connection);
        var onTarget = ResolvedConfigs.Resolve(context.ConfigText, context.Service, target);
        var remoteDev = await DeviceForLabelAsync(remote, dst.Label, ConfiguredDevices(onTarget), mountedOnly: true, rid, cancellationToken).ConfigureAwait(false);
        var remoteRoot = $"{SyncPaths.Var().TrimEnd('/')}/btrfs/{dst.Label}";
        await MountTopLevelAsync(remote, remoteDev, remoteRoot, rid, cancellationToken).ConfigureAwait(false);
        var remoteWork = $"{remoteRoot}/.osync/{context.Service}/{rid}";
        var probe = await remote.CheckedAsync(["sh", "-c", PrepareTargetScript, "prepare", remoteWork, snap], cancellationToken).ConfigureAwait(false);
        var remoteLast = probe.Contains("UUID:", StringComparison.Ordinal) ? BtrfsSend.ParseShow(probe) : null;

        var prepared = sw.ElapsedMilliseconds;
        var decision = BtrfsSend.Decide(localLast, remoteLast);
        log.Add($"{decision.Mode.ToString().ToLowerInvariant()} send of {src} from {context.LocalNode} ({localDev}) to {target} ({remoteDev}): {decision.Reason}");
        List<string> send = decision.Mode == SendMode.Incremental
            ? ["send", "-p", $"{work}/last/{snap}", $"{work}/next/{snap}"]
            : ["send", $"{work}/next/{snap}"];
        ProcessResult? sent = null;
        var received = await connection.RunWithInputAsync(["btrfs", "receive", $"{remoteWork}/next"], async (stdin, ct) =>
        {
            await using var sender = ProcessRunner.StartStreaming("btrfs", send, new ProcessRunOptions { Timeout = TimeSpan.FromHours(24) });
            var n = await SyncStep.CopyAsync(sender.StandardOutput, stdin, ct).ConfigureAwait(false);
            sent = await sender.WaitAsync(ct).ConfigureAwait(false);
            return n;
        }, cancellationToken, TimeSpan.FromHours(24)).ConfigureAwait(false);
        var bytes = received.BytesSent;
        if (sent is { Succeeded: false } || sent is null)
            throw new StepFailedException($"{rid}: btrfs {string.Join(' ', send)} failed on {context.LocalNode}: {sent?.Tail() ?? "did not finish"}", string.Join('\n', log));
        if (!received.Succeeded)
            throw new StepFailedException($"{rid}: btrfs receive on {target} failed (exit {received.ExitCode}) after {bytes} bytes: {received.Tail()}", string.Join('\n', log));

        var transferred = sw.ElapsedMilliseconds;
        // Target rotation and placement in one round trip: the received snapshot becomes the parent of the next
        // increment (read-only subvolumes cannot be renamed, so the directories holding them rotate, as in OpenSVC),
        // and a writable snapshot of it replaces dst.
        var dstPath = $"{remoteRoot}/{dst.Subvolume.Trim('/')}";
        // The target's standby fs may mount dst itself: such mounts would keep showing the replaced copy.
        var dstMounts = (await remote.MountsAsync(cancellationToken).ConfigureAwait(false))
            .Where(m => m.FsType == "btrfs" && m.Source == remoteDev && MountsSubvolume(m, dst.Subvolume)).Select(m => m.MountPoint).ToList();
        var placed = await remote.RunAsync(["sh", "-c", RotateAndPlaceScript, "rotate", remoteWork, snap, dstPath], cancellationToken).ConfigureAwait(false);
        if (!placed.Succeeded)
            throw new StepFailedException($"{rid}: the data reached {target} but could not be placed at {dst} ({dstPath}): {placed.Tail}", string.Join('\n', log));
        foreach (var mountPoint in dstMounts)
        {
            var umount = await remote.RunAsync(["umount", mountPoint], cancellationToken).ConfigureAwait(false);
            var mount = umount.Succeeded
                ? await remote.RunAsync(["mount", "-t", "btrfs", "-o", $"subvol={dst.Subvolume.Trim('/')}", remoteDev, mountPoint], cancellationToken).ConfigureAwait(false)
                : umount;
            log.Add(mount.Succeeded
                ? $"remounted {mountPoint} on {target} so it shows the new copy"
                : $"WARNING: {mountPoint} on {target} still shows the previous copy of {dst} (remount failed: {mount.Tail}); remount it before starting the service there");
        }

        // Sender rotation, after the target holds the new parent.
        if (localLast is not null)
            await local.CheckedAsync(["btrfs", "subvolume", "delete", $"{work}/last/{snap}"], cancellationToken).ConfigureAwait(false);
        await local.CheckedAsync(["rm", "-rf", $"{work}/last"], cancellationToken).ConfigureAwait(false);
        await local.CheckedAsync(["mv", $"{work}/next", $"{work}/last"], cancellationToken).ConfigureAwait(false);
        await local.CheckedAsync(["mkdir", "-p", $"{work}/next"], cancellationToken).ConfigureAwait(false);

        log.Add($"placed at {dst} ({dstPath}) on {target}: {SyncStep.Rate(bytes, sw)}; phases: prepare {prepared} ms, transfer {transferred - prepared} ms, rotate and place {sw.ElapsedMilliseconds - transferred} ms");
        await SyncStep.RecordAsync(context, target, bytes, sw, connection, time, cancellationToken).ConfigureAwait(false);
        var metrics = SyncStep.Metrics(bytes, sw);
        metrics["full"] = decision.Mode == SendMode.Full ? 1 : 0;
        return new StepResult(true, string.Join('\n', log), metrics);
    }

    // Fixed scripts: configuration values reach them only as positional parameters ("$1"...), never in the text.

    /// <summary>$1 work dir, $2 snapshot name: create the work dirs, drop a stale next, print `show` of last if any.</summary>
    const string PrepareTargetScript = """
        set -e
        mkdir -p "$1/next" "$1/last"
        if btrfs subvolume show "$1/next/$2" >/dev/null 2>&1; then btrfs subvolume delete "$1/next/$2" >/dev/null; fi
        btrfs subvolume show "$1/last/$2" 2>/dev/null || true
        """;

    /// <summary>$1 work dir, $2 snapshot name, $3 dst path: rotate next to last, then replace dst with a writable snapshot of last.</summary>
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
        """;

    /// <summary>A mount of the subvolume (also one already replaced: mountinfo then shows its root as "/data//deleted").</summary>
    static bool MountsSubvolume(MountEntry mount, string subvolume)
    {
        var root = mount.Root.EndsWith("//deleted", StringComparison.Ordinal) ? mount.Root[..^"//deleted".Length] : mount.Root;
        return root.Trim('/') == subvolume.Trim('/');
    }

    static IEnumerable<string> ConfiguredDevices(ResolvedService service) =>
        service.Resources.OfType<FsResource>().Where(f => !f.Disabled && f.Dev is not null).Select(f => f.Dev!);

    /// <summary>
    /// The block device of the btrfs labelled <paramref name="label"/> among the filesystems this node uses:
    /// btrfs mounted in its own mount namespace, plus (sender only) the service's configured fs devices.
    /// </summary>
    static async Task<string> DeviceForLabelAsync(INodeShell shell, string label, IEnumerable<string> configured, bool mountedOnly, ResourceId rid, CancellationToken cancellationToken)
    {
        var mounted = (await shell.MountsAsync(cancellationToken).ConfigureAwait(false))
            .Where(m => m.FsType == "btrfs" && m.Source.StartsWith('/')).Select(m => m.Source).Distinct().ToList();
        var candidates = mountedOnly ? mounted : mounted.Concat(configured).Distinct().ToList();
        var matches = new List<string>();
        foreach (var dev in candidates)
        {
            var r = await shell.RunAsync(["btrfs", "filesystem", "label", dev], cancellationToken).ConfigureAwait(false);
            if (r.Succeeded && r.StdOut.Trim() == label)
                matches.Add(dev);
        }
        return matches.Count switch
        {
            1 => matches[0],
            0 when mountedOnly => throw new StepFailedException(
                $"{rid}: no btrfs labelled {label} is mounted on {shell.Node} " +
                $"(btrfs mounted there: {(mounted.Count == 0 ? "none" : string.Join(", ", mounted))}): refusing to sync; start the service's standby fs on {shell.Node} first",
                permanent: true),
            0 => throw new StepFailedException(
                $"{rid}: no btrfs labelled {label} among the filesystems {shell.Node} uses (mounted: {(mounted.Count == 0 ? "none" : string.Join(", ", mounted))}; configured: {string.Join(", ", configured)})"),
            _ => throw new StepFailedException($"{rid}: several btrfs devices labelled {label} on {shell.Node}: {string.Join(", ", matches)}; refusing to guess"),
        };
    }

    /// <summary>Mounts the top-level subvolume of <paramref name="dev"/> at <paramref name="root"/> unless it already is.</summary>
    static async Task MountTopLevelAsync(INodeShell shell, string dev, string root, ResourceId rid, CancellationToken cancellationToken)
    {
        var at = MountInfo.At(await shell.MountsAsync(cancellationToken).ConfigureAwait(false), root);
        if (at is not null)
        {
            if (at.FsType == "btrfs" && at.Source == dev && at.Root == "/")
                return;
            throw new StepFailedException($"{rid}: {root} on {shell.Node} already holds {at.Source} ({at.FsType}, {at.Root}), not the top level of {dev}");
        }
        await shell.CheckedAsync(["mkdir", "-p", root], cancellationToken).ConfigureAwait(false);
        await shell.CheckedAsync(["mount", "-t", "btrfs", "-o", "subvolid=5", dev, root], cancellationToken).ConfigureAwait(false);
        await shell.CheckedAsync(["mount", "--make-private", root], cancellationToken).ConfigureAwait(false);
    }

    static async Task<SubvolumeInfo?> ShowAsync(INodeShell shell, string path, CancellationToken cancellationToken)
    {
        var r = await shell.RunAsync(["btrfs", "subvolume", "show", path], cancellationToken).ConfigureAwait(false);
        return r.Succeeded ? BtrfsSend.ParseShow(r.StdOut) : null;
    }

    public Task<ResourceProbe> StatusAsync(StatusContext context, CancellationToken cancellationToken) =>
        Task.FromResult(SyncStep.Status(context, time));
}
