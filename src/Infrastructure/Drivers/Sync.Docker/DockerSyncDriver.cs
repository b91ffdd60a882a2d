using OpenSvc.Infrastructure.Execution;
using System.Diagnostics;
using Docker.DotNet;
using OpenSvc.Infrastructure.Drivers.Container.Docker;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Drivers.Sync.Common;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Domain;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Sync.Docker;

/// <summary>
/// sync.docker: ships the images of the service's containers that the target lacks, streaming
/// <c>docker save</c> (Docker.DotNet, on the sender's daemon) through an SSH.NET exec channel into
/// <c>docker load</c> on the target, without a temporary file. An up-to-date target receives zero bytes.
/// A service with a private dockerd (<c>docker_data_dir</c>) receives into the target's private daemon, which the
/// target's own agent starts in the run's prepare-receive step, on the service's standby fs (never on the node's root disk).
/// </summary>
public sealed class DockerSyncDriver(SshRunner ssh, IDockerSocketLocator sockets, TimeProvider time, PrivateDockerDaemon daemon) : ISyncDriver<DockerSync>
{
    public async Task<StepResult> SendAsync(StepContext<DockerSync> context, NodeName target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var sync = context.Resource;
        var resolved = context.Resolved;
        var rid = context.Rid;
        var sw = Stopwatch.StartNew();
        var log = new List<string>();

        // Which images, by id, on this node's daemon.
        var socket = sockets.LocalSocket(resolved);
        var refs = resolved.Resources.OfType<DockerContainer>()
            .Where(c => !c.Disabled && !string.IsNullOrWhiteSpace(c.Image))
            .Select(c => c.Image!).Distinct(StringComparer.Ordinal).ToList();
        if (refs.Count == 0)
            throw new StepFailedException($"{rid}: {context.Service} has no enabled container.docker resource with an image: nothing to sync");
        using var docker = new DockerClientConfiguration(new Uri($"unix://{socket}")).CreateClient();
        // The SSH handshake runs while the local daemon is asked for the ids.
        var connecting = SyncStep.ConnectAsync(ssh, target, rid, cancellationToken);
        var local = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            IReadOnlyDictionary<string, string> found;
            try
            {
                found = await ImagesOnDaemonAsync(docker, refs, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException)
            {
                throw new StepFailedException($"{rid}: cannot reach the docker daemon of {context.Service} on {context.LocalNode} at {socket}: {e.Message}");
            }
            foreach (var image in refs)
            {
                if (found.TryGetValue(image, out var id))
                    local[image] = id;
                else
                    log.Add($"image {image} is not present on {context.LocalNode} ({socket}): not sent");
            }
            if (local.Count == 0)
                throw new StepFailedException($"{rid}: none of the service's images is present on {context.LocalNode} ({string.Join(", ", refs)}): nothing to send", string.Join('\n', log));
        }
        catch
        {
            try
            {
                (await connecting.ConfigureAwait(false)).Dispose();
            }
            catch (Exception e) when (e is StepFailedException or OperationCanceledException)
            {
                // The local failure is the one reported.
            }
            throw;
        }

        using var connection = await connecting.ConfigureAwait(false);
        if (sync.DstFs is { } dstfs)
            await SyncStep.RequireMountedAsync(connection, dstfs, $"holds docker_data_dir {resolved.ContainerDataDir}", rid, cancellationToken).ConfigureAwait(false);

        var onTarget = context.ResolveOn(target);
        var remoteSocket = await sockets.TargetSocketAsync(onTarget, connection, cancellationToken).ConfigureAwait(false);
        // Listing the target's images also records an up-to-date target (the common case of a periodic sync) in the same round trip.
        // After this step the target holds every local image of the service: the stamp records them, for the status's
        // "target node misses images" when a container's image changes here later.
        var held = local.Values.Distinct().Order(StringComparer.Ordinal).ToList();
        var upToDate = SyncStep.StampOf(context, target, 0, sw, time) with { Images = held };
        var (present, recorded) = await RemoteImagesAsync(connection, remoteSocket, [.. local.Values.Distinct()],
            SyncState.FileOf(context.Service, rid.ToString(), upToDate), rid, cancellationToken).ConfigureAwait(false);
        var missing = local.Where(kv => !present.Contains(kv.Value)).Select(kv => kv.Key).ToList();
        long bytes = 0;
        if (missing.Count == 0)
        {
            log.Add($"{target} already has all {local.Count} image(s): nothing sent");
        }
        else
        {
            log.Add($"sending {string.Join(", ", missing)} to {target} ({remoteSocket})");
            // The load and the check that follows it in one round trip (a fixed script; the socket is a positional parameter).
            await context.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
            var load = await connection.RunWithInputAsync(["sh", "-c", LoadThenListScript, "load", $"unix://{remoteSocket}", onTarget.ContainerDataDir ?? ""], async (stdin, ct) =>
            {
                await using var tar = await docker.Images.SaveImagesAsync([.. missing], ct).ConfigureAwait(false);
                return await SyncStep.CopyAsync(tar, stdin, ct).ConfigureAwait(false);
            }, cancellationToken, TimeSpan.FromHours(2)).ConfigureAwait(false);
            bytes = load.BytesSent;
            var marker = load.StdOut.IndexOf(ListMarker, StringComparison.Ordinal);
            if (marker < 0 && load.ExitCode == 14)
                throw new StepFailedException($"{rid}: the images were loaded on {target} but its docker_data_dir {onTarget.ContainerDataDir} could not be committed to disk (sync -f): {load.Tail()}", string.Join('\n', log));
            if (marker < 0)
                throw new StepFailedException($"{rid}: docker load on {target} failed (exit {load.ExitCode}) after {bytes} bytes: {load.Tail()}", string.Join('\n', log));
            log.Add(load.StdOut[..marker].Trim());
            if (!load.Succeeded)
                throw new StepFailedException($"{rid}: cannot list the images of the docker daemon at {remoteSocket} on {target} after the load: {load.Tail()}", string.Join('\n', log));
            // The step is done only when the target has every image.
            var after = ImageIds.ParseList(load.StdOut[(marker + ListMarker.Length)..]);
            var still = local.Where(kv => !after.Contains(kv.Value)).Select(kv => kv.Key).ToList();
            if (still.Count > 0)
                throw new StepFailedException($"{rid}: after the load, {target} still lacks {string.Join(", ", still)}", string.Join('\n', log));
            log.Add($"sent {missing.Count} image(s) to {target}: {SyncStep.Rate(bytes, sw)}");
        }
        if (missing.Count == 0 && recorded)
            await SyncState.WriteLocalAsync(context.Service, rid.ToString(), upToDate, cancellationToken).ConfigureAwait(false);
        else
            await SyncState.RecordAsync(context.Service, rid.ToString(), SyncStep.StampOf(context, target, bytes, sw, time) with { Images = held }, connection,
                cancellationToken).ConfigureAwait(false);
        var metrics = SyncStep.Metrics(bytes, sw);
        metrics["images_sent"] = missing.Count;
        metrics["images_present"] = local.Count - missing.Count;
        metrics["images_missing_locally"] = refs.Count - local.Count;
        return new StepResult(missing.Count > 0, string.Join('\n', log), metrics);
    }

    /// <summary>
    /// On the receiving node: the service's private dockerd answers on its standby fs (started if needed, and left
    /// running: a takeover uses it, a stop of the service stops it). The fs must already be mounted: a daemon on the
    /// bare mount point would keep the images on the node's root disk.
    /// </summary>
    public async Task<StepResult> PrepareReceiveAsync(StepContext<DockerSync> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var service = context.Resolved;
        if (service.ContainerDataDir is not { } dataDir)
            return StepResult.Unchanged($"{context.Service} uses the node's dockerd on {context.LocalNode}: nothing to prepare");
        try
        {
            await ServiceDocker.RequireDataDirMountedAsync(service, dataDir, context.LocalNode, cancellationToken).ConfigureAwait(false);
        }
        catch (StepFailedException e)
        {
            throw new StepFailedException($"{context.Step.Rid}: refusing to receive images on {context.LocalNode}: {e.Message}", e.Output, permanent: true);
        }
        await context.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
        var started = await daemon.EnsureStartedAsync(context.Service, dataDir, cancellationToken).ConfigureAwait(false);
        return new StepResult(started, started
            ? $"started the private dockerd of {context.Service} on {context.LocalNode} (data root {dataDir}): ready to receive"
            : $"the private dockerd of {context.Service} already runs on {context.LocalNode}: ready to receive");
    }

    /// <summary>
    /// drill, on the DR node: images are read-only layers, so nothing needs a clone: this checks that every image the
    /// containers need is in the service's daemon there (the synced copy), which the drill's containers then run from.
    /// </summary>
    public async Task<StepResult> DrillStartAsync(StepContext<DockerSync> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var service = context.Resolved;
        var images = service.Resources.OfType<DockerContainer>().Where(c => !c.Disabled && c.Image is not null).Select(c => c.Image!).Distinct().ToList();
        if (service.ContainerDataDir is { } dataDir)
        {
            await ServiceDocker.RequireDataDirMountedAsync(service, dataDir, context.LocalNode, cancellationToken).ConfigureAwait(false);
            await context.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
            await daemon.EnsureStartedAsync(context.Service, dataDir, cancellationToken).ConfigureAwait(false);
        }
        var socket = sockets.LocalSocket(service);
        // Asked of the daemon in-process (one API round trip per image), not through the docker CLI: this is on the drill's RTO path.
        IReadOnlyDictionary<string, string> found;
        try
        {
            using var docker = new DockerClientConfiguration(new Uri($"unix://{socket}")).CreateClient();
            found = await ImagesOnDaemonAsync(docker, images, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException or DockerApiException)
        {
            throw new StepFailedException($"{context.Rid}: cannot reach the docker daemon of {context.Service} on {context.LocalNode} at {socket}: {e.Message}");
        }
        var missing = images.Where(i => !found.ContainsKey(i)).ToList();
        if (missing.Count > 0)
            throw new StepFailedException(
                $"{context.Rid}: {string.Join(", ", missing)} not in the service's dockerd on {context.LocalNode} ({socket}): the drill (and a takeover) could not start from it; sync the images first",
                permanent: true);
        return StepResult.Unchanged(
            $"nothing to clone: images are read-only; {string.Join(", ", images)} present in the dockerd of {context.Service} on {context.LocalNode}, the drill containers run from them");
    }

    /// <summary>
    /// The ids (normalized) of the images the daemon holds, by reference; a reference it does not hold is absent. A few
    /// inspects at a time: one by one, 50 images cost 50 daemon round trips in a row.
    /// </summary>
    static async Task<IReadOnlyDictionary<string, string>> ImagesOnDaemonAsync(IDockerClient docker, IReadOnlyList<string> refs, CancellationToken ct)
    {
        var ids = new string?[refs.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, refs.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (i, token) =>
        {
            try
            {
                ids[i] = ImageIds.Normalize((await docker.Images.InspectImageAsync(refs[i], token).ConfigureAwait(false)).ID);
            }
            catch (DockerImageNotFoundException)
            {
            }
        }).ConfigureAwait(false);
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < refs.Count; i++)
            if (ids[i] is { } id)
                found[refs[i]] = id;
        return found;
    }

    const string ListMarker = "--- images\n";

    /// <summary>
    /// $1 the daemon's socket URI, $2 its data root or empty: docker load from stdin; the data root's filesystem committed
    /// to disk (a DR copy held only in the page cache is not a copy; exit 14 if it cannot be); then (only if all that
    /// succeeded) the ids the daemon holds.
    /// </summary>
    const string LoadThenListScript = """
        docker -H "$1" load -q || exit
        if [ -n "$2" ]; then sync -f -- "$2" || exit 14; fi
        echo "--- images"
        docker -H "$1" images -q --no-trunc
        """;


    /// <summary>
    /// $1 the daemon's socket URI, $2 last_sync dir, $3 its path, $4 its JSON, then the image ids the target needs: prints
    /// the ids the daemon holds; when it holds every needed one (same rule as <see cref="ImageIds"/>: no sha256: prefix,
    /// any case), writes the last_sync file (exit 13 if it cannot) and prints "--- recorded".
    /// </summary>
    const string ListAndRecordScript = """
        list=$(docker -H "$1" images -q --no-trunc) || exit
        printf '%s\n' "$list"
        dir=$2 file=$3 json=$4
        shift 4
        for id in "$@"; do
          printf '%s\n' "$list" | sed 's/^sha256://' | grep -qixF -e "$id" || exit 0
        done
        { mkdir -p "$dir" && printf '%s' "$json" > "$file.tmp" && mv "$file.tmp" "$file"; } || exit 13
        echo "--- recorded"
        """;

    static async Task<(IReadOnlySet<string> Present, bool Recorded)> RemoteImagesAsync(
        SshConnection connection, string socket, IReadOnlyList<string> needed, LastSyncFile upToDate, Domain.ResourceId rid, CancellationToken cancellationToken)
    {
        var r = await connection.RunAsync(["sh", "-c", ListAndRecordScript, "list", $"unix://{socket}", upToDate.Dir, upToDate.Path, upToDate.Json, .. needed],
            cancellationToken, TimeSpan.FromMinutes(1)).ConfigureAwait(false);
        if (r.ExitCode == 13)
            throw new StepFailedException($"{rid}: {connection.Node} already has every image but its last_sync file {upToDate.Path} could not be written there: {r.Tail()}");
        if (!r.Succeeded)
            throw new StepFailedException($"{rid}: cannot list the images of the docker daemon at {socket} on {connection.Node}: {r.Tail()}");
        var lines = r.StdOut.Split('\n');
        return (ImageIds.ParseList(string.Join('\n', lines.Where(l => !l.StartsWith("--- ", StringComparison.Ordinal)))), lines.Contains("--- recorded"));
    }

    /// <summary>
    /// The last_sync rules, and on the sender a target that lacks one of the service's current images (by id, against
    /// the inventory its last sync recorded): warn "target node n3 misses image(s) ...", as OpenSVC's docker sync says.
    /// </summary>
    public async Task<ResourceProbe> ProbeAsync(ProbeContext<DockerSync> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var basic = SyncStep.Status(context, time);
        if (basic.Status is not (Status.Up or Status.Warn) || !SyncStep.Sends(context))
            return basic;
        var refs = context.Resolved.Resources.OfType<DockerContainer>().Where(c => !c.Disabled && !string.IsNullOrWhiteSpace(c.Image))
            .Select(c => c.Image!).Distinct(StringComparer.Ordinal).ToList();
        Dictionary<string, string> localIds;
        try
        {
            using var docker = new DockerClientConfiguration(new Uri($"unix://{sockets.LocalSocket(context.Resolved)}")).CreateClient();
            localIds = new Dictionary<string, string>(await ImagesOnDaemonAsync(docker, refs, cancellationToken).ConfigureAwait(false), StringComparer.Ordinal);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException or DockerApiException)
        {
            return basic; // the daemon does not answer here: the container statuses say so
        }
        var missing = context.Resource.Targets.Where(t => t != context.LocalNode).Distinct()
            .Select(t => (Target: t, Stamp: SyncState.Read(context.Service, context.Rid.ToString(), t)))
            .Select(x => SyncStatusRule.MissingImages(x.Target, localIds, x.Stamp?.Images, x.Stamp?.At))
            .OfType<string>().ToList();
        return missing.Count == 0 ? basic : new ResourceProbe(Status.Warn, string.Join("; ", [.. missing, basic.Message]));
    }
}
