using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Fs;

/// <summary>
/// The <c>fs</c> driver: mounts and unmounts in the agent's own mount namespace, probing
/// <c>/proc/self/mountinfo</c> before and after each action.
/// </summary>
public sealed class FsDriver(ILogger<FsDriver> logger) : IResourceDriver<FsResource>
{
    static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(2);

    /// <summary>Mounts (start and startstandby alike).</summary>
    public Task<StepResult> StartAsync(StepContext<FsResource> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        return MountAsync(Buildable(step.Resource, step.Resolved), step, cancellationToken);
    }

    public Task<StepResult> StopAsync(StepContext<FsResource> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        return UmountAsync(Buildable(step.Resource, step.Resolved), step, cancellationToken);
    }

    public async Task<ResourceProbe> ProbeAsync(ProbeContext<FsResource> probe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var fs = probe.Resource;
        if (fs.Dev is null || fs.Mnt is null)
            return new ResourceProbe(Status.Undef, $"{fs.Id} has no {(fs.Dev is null ? "dev" : "mnt")} on {probe.LocalNode}");
        var (status, message, _) = await ProbeAsync(fs, cancellationToken).ConfigureAwait(false);
        return new ResourceProbe(status, message);
    }

    /// <summary>
    /// drill: the fs holding the private dockerd's data is used as is (drill containers get their own writable layers
    /// there, removed by cleanup); an fs that is the destination of a btrfs sync gets that sync's drill clone bind-mounted at
    /// <see cref="Drill.DrillNames.Mount"/>; any other fs has no clone, and mounting the DR copy itself would let the drill
    /// change it: refused.
    /// </summary>
    public async Task<StepResult> DrillStartAsync(StepContext<FsResource> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        var (fs, service, node) = (step.Resource, step.Resolved, step.LocalNode);
        if (fs.Mnt is null || fs.Dev is null)
            throw new StepFailedException($"{fs.Id} has no {(fs.Mnt is null ? "mnt" : "dev")} on {node}", permanent: true);
        if (service.ContainerDataDir is { } dataDir && (dataDir == fs.Mnt.TrimEnd('/') || dataDir.StartsWith(fs.Mnt.TrimEnd('/') + "/", StringComparison.Ordinal)))
        {
            var (status, message, _) = await ProbeAsync(fs, cancellationToken).ConfigureAwait(false);
            if (status != Status.Up)
                throw new StepFailedException($"{fs.Id} holds the private dockerd's data ({dataDir}) but is not mounted on {node} ({message}): start the standby resources first (opensvc svc startstandby {service.Name} --node {node})", permanent: true);
            return StepResult.Unchanged($"{fs.Id} ({fs.Mnt}) is used as is: it holds the private dockerd whose synced images the drill containers run from, each in a writable layer of its own that cleanup removes");
        }
        var label = Sync.Btrfs.BtrfsLabels.OfMounted(fs.Dev)
            ?? (await ProcessRunner.RunAsync("btrfs", ["filesystem", "label", "--", fs.Dev], new ProcessRunOptions { Timeout = CommandTimeout }, cancellationToken).ConfigureAwait(false)).StdOut.Trim();
        var subvol = (fs.MntOpt ?? "").Split(',').Select(o => o.Trim()).FirstOrDefault(o => o.StartsWith("subvol=", StringComparison.Ordinal))?["subvol=".Length..].Trim('/');
        var sync = service.Resources.OfType<BtrfsSync>().FirstOrDefault(s => !s.Disabled && s.Targets.Contains(node)
            && s.Dst is { } dst && dst.Label == label && dst.Subvolume.Trim('/') == subvol);
        if (sync is null)
            throw new StepFailedException(
                $"{fs.Id} ({fs.Mnt}): no clone of its data on {node}: it is not the destination of a btrfs sync (label {(label.Length == 0 ? "none" : label)}, subvol {subvol ?? "none"}), " +
                "and mounting the DR copy itself would let the drill change it", permanent: true);
        var varDir = Sync.Common.SyncPaths.Var();
        var clone = Drill.DrillNames.Clone($"{varDir.TrimEnd('/')}/btrfs/{label}", service.Name, sync.Id.ToString());
        var target = Drill.DrillNames.Mount(varDir, service.Name, fs.Id.ToString());
        var mounts = MountTable.Parse(await File.ReadAllTextAsync("/proc/self/mountinfo", cancellationToken).ConfigureAwait(false));
        if (MountTable.At(mounts, target) is not null)
            return StepResult.Unchanged($"the drill clone of {fs.Id} is already mounted at {target}");
        if (!Directory.Exists(clone))
            throw new StepFailedException($"{fs.Id}: the drill clone {clone} of {sync.Id} is missing on {node}: its drill-start must run first");
        await step.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
        Directory.CreateDirectory(target);
        // One mount(8) call binds and makes the mount private (util-linux applies the propagation change right after the bind).
        string[] argv = ["mount", "--bind", "--make-private", "--", clone, target];
        var r = await ProcessRunner.RunAsync(argv[0], argv.Skip(1), new ProcessRunOptions { Timeout = CommandTimeout }, cancellationToken).ConfigureAwait(false);
        if (!r.Succeeded)
            throw new StepFailedException($"{fs.Id}: {string.Join(' ', argv)} failed on {node} (exit {r.ExitCode}): {r.Tail(500)}", r.Tail());
        return new StepResult(true, $"mounted the drill clone of {sync.Id} ({clone}) at {target}: drill containers see it in place of {fs.Mnt}, which keeps receiving syncs");
    }

    /// <summary>drill-cleanup: unmounts the drill mount of this fs and removes its directory; nothing to do when there is none.</summary>
    public async Task<StepResult> DrillStopAsync(StepContext<FsResource> step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        var target = Drill.DrillNames.Mount(Sync.Common.SyncPaths.Var(), step.Service, step.Rid.ToString());
        var output = new List<string>();
        var mounts = MountTable.Parse(await File.ReadAllTextAsync("/proc/self/mountinfo", cancellationToken).ConfigureAwait(false));
        if (MountTable.At(mounts, target) is not null)
        {
            await step.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
            var r = await ProcessRunner.RunAsync("umount", ["--", target], new ProcessRunOptions { Timeout = CommandTimeout }, cancellationToken).ConfigureAwait(false);
            if (!r.Succeeded)
                throw new StepFailedException($"{step.Rid}: umount {target} failed on {step.LocalNode} (exit {r.ExitCode}): {r.Tail(500)}", r.Tail());
            output.Add($"unmounted the drill clone at {target}");
        }
        if (Directory.Exists(target) && !Directory.EnumerateFileSystemEntries(target).Any())
        {
            Directory.Delete(target);
            output.Add($"removed {target}");
        }
        return output.Count == 0 ? StepResult.Unchanged($"no drill mount of {step.Rid} on {step.LocalNode}") : new StepResult(true, string.Join('\n', output));
    }

    async Task<StepResult> MountAsync(FsResource fs, StepContext<FsResource> context, CancellationToken ct)
    {
        var (before, message, _) = await ProbeAsync(fs, ct).ConfigureAwait(false);
        if (before == Status.Up)
            return StepResult.Unchanged($"{message}: already mounted");
        if (before == Status.Warn)
            throw new StepFailedException($"{fs.Id}: cannot mount {fs.Dev} on {fs.Mnt} on {context.LocalNode}: {message}");

        await context.EnsureCurrentAsync(ct).ConfigureAwait(false);
        Directory.CreateDirectory(fs.Mnt!);
        var output = new List<string>();
        if (FsCommands.IsBtrfs(fs))
            output.Add((await RunAsync(FsCommands.BtrfsDeviceScan(fs.Dev!), fs, context, ct).ConfigureAwait(false)).Tail());
        var mount = FsCommands.Mount(fs);
        var result = await ProcessRunner.RunAsync(mount[0], mount.Skip(1), new ProcessRunOptions { Timeout = CommandTimeout }, ct).ConfigureAwait(false);
        if (!result.Succeeded)
            throw new StepFailedException($"{fs.Id}: {string.Join(' ', mount)} failed on {context.LocalNode} (exit {result.ExitCode}): {result.Tail(500)}", result.Tail());
        var (after, afterMessage, _) = await ProbeAsync(fs, ct).ConfigureAwait(false);
        if (after != Status.Up)
            throw new StepFailedException($"{fs.Id}: mount succeeded but the probe says {after.ToDisplay()}: {afterMessage}");
        logger.LogInformation("run {RunId} service {Service} node {Node}: {Rid} mounted {Dev} on {Mnt}", context.RunId, context.Service, context.LocalNode, fs.Id, fs.Dev, fs.Mnt);
        output.Add($"{string.Join(' ', mount)}: {afterMessage}");
        return new StepResult(true, string.Join('\n', output.Where(o => o.Length > 0)));
    }

    async Task<StepResult> UmountAsync(FsResource fs, StepContext<FsResource> context, CancellationToken ct)
    {
        var (before, message, _) = await ProbeAsync(fs, ct).ConfigureAwait(false);
        if (before == Status.Down)
            return StepResult.Unchanged($"{message}: already unmounted");
        if (before == Status.Warn)
            return StepResult.Unchanged($"{message}: not this resource's mount, left alone");

        await context.EnsureCurrentAsync(ct).ConfigureAwait(false);
        var umount = FsCommands.Umount(fs.Mnt!);
        var result = await ProcessRunner.RunAsync(umount[0], umount.Skip(1), new ProcessRunOptions { Timeout = CommandTimeout }, ct).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            var why = result.Tail(500);
            if (why.Contains("busy", StringComparison.OrdinalIgnoreCase))
                why += await UsersAsync(fs.Mnt!, ct).ConfigureAwait(false);
            throw new StepFailedException($"{fs.Id}: cannot unmount {fs.Mnt} on {context.LocalNode}: {why}", result.Tail());
        }
        var (after, afterMessage, _) = await ProbeAsync(fs, ct).ConfigureAwait(false);
        if (after != Status.Down)
            throw new StepFailedException($"{fs.Id}: umount succeeded but the probe says {after.ToDisplay()}: {afterMessage}");
        logger.LogInformation("run {RunId} service {Service} node {Node}: {Rid} unmounted {Mnt}", context.RunId, context.Service, context.LocalNode, fs.Id, fs.Mnt);
        return new StepResult(true, $"umount {fs.Mnt}: {afterMessage}");
    }

    /// <summary>"; in use by: ..." from fuser's table, or an explanation of why it could not tell.</summary>
    static async Task<string> UsersAsync(string mnt, CancellationToken ct)
    {
        var argv = FsCommands.Fuser(mnt);
        var r = await ProcessRunner.RunAsync(argv[0], argv.Skip(1), new ProcessRunOptions { Timeout = TimeSpan.FromSeconds(20) }, ct).ConfigureAwait(false);
        // fuser -v writes its table (USER PID ACCESS COMMAND) on stderr and exits 1 when no process was found.
        var table = r.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("USER", StringComparison.Ordinal) && !l.EndsWith(mnt + ':', StringComparison.Ordinal))
            .Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries)))
            .ToList();
        return table.Count > 0 && r.ExitCode == 0
            ? $"; in use by: {string.Join("; ", table)}"
            : "; fuser -m found no process (a mount below it, a loop device or a kernel user may hold it)";
    }

    static async Task<ProcessResult> RunAsync(IReadOnlyList<string> argv, FsResource fs, StepContext<FsResource> context, CancellationToken ct)
    {
        var r = await ProcessRunner.RunAsync(argv[0], argv.Skip(1), new ProcessRunOptions { Timeout = CommandTimeout }, ct).ConfigureAwait(false);
        if (!r.Succeeded)
            throw new StepFailedException($"{fs.Id}: {string.Join(' ', argv)} failed on {context.LocalNode} (exit {r.ExitCode}): {r.Tail(500)}", r.Tail());
        return r;
    }

    static async Task<(Status, string, MountEntry?)> ProbeAsync(FsResource fs, CancellationToken ct)
    {
        var text = await File.ReadAllTextAsync("/proc/self/mountinfo", ct).ConfigureAwait(false);
        return MountTable.Evaluate(fs, MountTable.Parse(text), CanonicalDevice);
    }

    /// <summary>Device paths with symlinks resolved; anything that is not an absolute path as is.</summary>
    public static string CanonicalDevice(string source)
    {
        if (!source.StartsWith('/'))
            return source;
        try
        {
            return new FileInfo(source).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? source;
        }
        catch (IOException)
        {
            return source;
        }
    }

    static FsResource Buildable(FsResource fs, ResolvedService resolved)
    {
        var node = resolved.Node;
        if (fs.Dev is not null && fs.Mnt is not null)
            return fs;
        var problems = resolved.Problems.Where(p => p.Section == fs.Id.ToString() && p.Severity == Severity.Error)
            .Select(p => p.Reason + (p.Fix is { } f ? $" (fix: {f})" : "")).ToList();
        var missing = fs.Dev is null ? "dev" : "mnt";
        throw new StepFailedException($"{fs.Id} has no {missing} on node {node}" + (problems.Count > 0 ? ": " + string.Join("; ", problems) : ""));
    }
}
