using System.Diagnostics;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Infrastructure.Drivers.Sync.Common;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Domain;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Sync.Rsync;

/// <summary>
/// sync.rsync: rsync over ssh with OpenSVC's options; refuses a source that is not on its filesystem or is an empty
/// mount point (<see cref="RsyncSources"/>) and a target whose <c>dstfs</c> is not mounted (checked in the target's own
/// mount namespace over SSH.NET); bytes sent parsed from <c>--stats</c>.
/// </summary>
public sealed class RsyncSyncDriver(SshRunner ssh, TimeProvider time) : ISyncDriver<RsyncSync>
{
    public async Task<StepResult> SendAsync(StepContext<RsyncSync> context, NodeName target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var sync = context.Resource;
        var rid = context.Rid;
        if (sync.Dst is null)
            throw new StepFailedException($"{rid}: dst is not set");
        if (SyncStep.IsReverse(sync, context.LocalNode, target))
        {
            // A reversed send (reprotect, giveback): dst, where this DR node holds the data, goes back into src on the
            // primary, whose fs holding it must be mounted (its resolution of the config says which one).
            var (back, into, problem) = RsyncArgv.Reverse(sync);
            if (problem is not null)
                throw new StepFailedException($"{rid}: cannot send back to {target}: {problem}", permanent: true);
            var intoFs = context.ResolveOn(target).Resources.OfType<FsResource>()
                .Where(f => !f.Disabled && f.Mnt is { } m && (into! + "/").StartsWith(m.TrimEnd('/') + "/", StringComparison.Ordinal))
                .MaxBy(f => f.Mnt!.Length)?.Mnt;
            sync = sync with { Src = [back!], Dst = into, DstFs = intoFs };
        }
        // OpenSVC expands src as globs (/data/*.log); a word matching nothing is absent.
        var sources = RsyncGlob.Expand(sync.Src).ToList();
        var absent = sync.Src.Where(word => !RsyncGlob.Expand([word]).Any()).ToList();
        if (sources.Count == 0)
            throw new StepFailedException($"{rid}: no files to sync: {(sync.Src.Count == 0 ? "src is empty" : $"{string.Join(", ", sync.Src)} do(es) not exist on {context.LocalNode}")}");
        var mounts = MountTable.Parse(await File.ReadAllTextAsync("/proc/self/mountinfo", cancellationToken).ConfigureAwait(false));
        var fs = context.Resolved.Resources.OfType<FsResource>().ToList();
        var deletes = RsyncSources.Deletes(sync);
        foreach (var source in sources)
            if (RsyncSources.Problem(source, deletes, fs, mounts, FsDriver.CanonicalDevice, RsyncSources.IsEmptyDirectory) is { } problem)
                throw new StepFailedException($"{rid}: refusing to sync to {target}: {problem}", permanent: true);
        var sw = Stopwatch.StartNew();
        using var connection = await SyncStep.ConnectAsync(ssh, target, rid, cancellationToken).ConfigureAwait(false);
        if (sync.DstFs is { } dstfs)
            await SyncStep.RequireMountedAsync(connection, dstfs, $"dstfs of {rid}", rid, cancellationToken).ConfigureAwait(false);

        var argv = RsyncArgv.Build(sync, sources, target, ssh.Options);
        await context.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
        var r = await ProcessRunner.RunAsync(argv[0], argv.Skip(1), new ProcessRunOptions { Timeout = TimeSpan.FromHours(24), OutputLimit = 256 * 1024 }, cancellationToken).ConfigureAwait(false);
        var stats = RsyncArgv.ParseStats(r.StdOut);
        var header = $"{string.Join(' ', argv)}\n" + (absent.Count > 0 ? $"src not present on {context.LocalNode}, skipped: {string.Join(", ", absent)}\n" : "");
        if (!r.Succeeded)
            throw new StepFailedException(
                $"{rid}: rsync to {target} failed ({(r.TimedOut ? "timed out" : $"exit {r.ExitCode}")}): {r.Tail(800)}", header + r.Tail());
        var bytes = Math.Max(0, stats.BytesSent);
        await SyncStep.RecordAsync(context, target, bytes, sw, connection, time, cancellationToken).ConfigureAwait(false);
        var metrics = SyncStep.Metrics(bytes, sw);
        metrics["files_transferred"] = stats.FilesTransferred;
        metrics["files_deleted"] = stats.FilesDeleted;
        return new StepResult(stats.FilesTransferred != 0 || stats.FilesDeleted > 0,
            header + $"synced {string.Join(' ', sources)} to {target}:{sync.Dst}: {SyncStep.Rate(bytes, sw)}\n" + Domain.OutputTail.Of(r.StdOut, 1500), metrics);
    }

    /// <summary>As OpenSVC: on the sending node, a src that matches no file is n/a "no files to sync", not a sync status.</summary>
    public Task<ResourceProbe> ProbeAsync(ProbeContext<RsyncSync> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Resource.Disabled && SyncStep.Sends(context) && RsyncGlob.Expand(context.Resource.Src).Count == 0)
            return Task.FromResult(new ResourceProbe(Domain.Status.NotApplicable, "no files to sync"));
        return Task.FromResult(SyncStep.Status(context, time, drpNodeNeverSends: true));
    }

    /// <summary>
    /// drill, on the DR node: an rsync copy is plain files, which cannot be cloned cheaply (copying them would take as long
    /// as a sync and double the space): the drill says so, checks what it can instead (the destination holds the copy,
    /// and when the last sync landed), and gives this data to no drill container.
    /// </summary>
    public Task<StepResult> DrillStartAsync(StepContext<RsyncSync> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var dst = context.Resource.Dst;
        if (dst is null || !Directory.Exists(dst))
            throw new StepFailedException($"{context.Rid}: the destination {dst ?? "(no dst)"} does not exist on {context.LocalNode}: no copy to drill", permanent: true);
        var entries = Directory.EnumerateFileSystemEntries(dst).Take(1000).Count();
        if (entries == 0)
            throw new StepFailedException($"{context.Rid}: the destination {dst} on {context.LocalNode} is empty: the copy was never synced there", permanent: true);
        var last = SyncStep.Status(new ProbeContext<RsyncSync>(context.Resolved, context.Resource), time).Message;
        return Task.FromResult(StepResult.Unchanged(
            $"not cloned: {dst} is an rsync copy on a filesystem without cheap clones, and copying it would take as long as a sync. " +
            $"Checked instead: {dst} holds {(entries == 1000 ? "1000+" : entries.ToString(System.Globalization.CultureInfo.InvariantCulture))} entries; {last}. No drill container gets this data"));
    }
}
