using System.Diagnostics;
using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Sync.Common;

/// <summary>What the three sync drivers share: the step's target, the SSH connection, the remote mount check, metrics and status.</summary>
public static class SyncStep
{
    public static async Task<SshConnection> ConnectAsync(SshRunner ssh, NodeName target, ResourceId rid, CancellationToken cancellationToken)
    {
        try
        {
            return await ssh.ConnectAsync(target.Value, cancellationToken).ConfigureAwait(false);
        }
        catch (SshHostKeyException e)
        {
            // An unknown or changed host key does not fix itself: no retry until an operator checks it.
            throw new StepFailedException($"{rid}: refusing to sync to {target}: {e.Message}", permanent: true);
        }
        catch (SshConnectException e)
        {
            throw new StepFailedException($"{rid}: refusing to sync to {target}: {e.Message}");
        }
    }

    /// <summary>
    /// Refuses a target where <paramref name="mountPoint"/> is not a mount point in the target's own mount
    /// namespace: writing there would fill the parent filesystem (often /) instead of the service's.
    /// </summary>
    public static async Task RequireMountedAsync(SshConnection target, string mountPoint, string what, ResourceId rid, CancellationToken cancellationToken)
    {
        var mounts = await new RemoteShellOf(target).MountsAsync(cancellationToken).ConfigureAwait(false);
        if (MountTable.At(mounts, mountPoint) is null)
            throw new StepFailedException(
                $"{rid}: the destination fs {mountPoint} ({what}) is not mounted on {target.Node}: refusing to sync " +
                $"(the data would land in the parent filesystem); start the service's standby resources on {target.Node} first",
                permanent: true);
    }

    /// <summary>
    /// A reversed send: a node of the resource's target keyword sends to a node outside it (reprotect and giveback send the
    /// DR copy back to the preferred primary). The planner only plans one over a protection reprotect reversed.
    /// </summary>
    public static bool IsReverse(SyncResource sync, NodeName local, NodeName target)
    {
        ArgumentNullException.ThrowIfNull(sync);
        return sync.Targets.Contains(local) && !sync.Targets.Contains(target);
    }

    public static Dictionary<string, long> Metrics(long bytes, Stopwatch sw) => new()
    {
        ["bytes_sent"] = bytes,
        ["duration_ms"] = sw.ElapsedMilliseconds,
        ["rate_bytes_per_s"] = sw.ElapsedMilliseconds > 0 ? bytes * 1000 / sw.ElapsedMilliseconds : bytes,
    };

    public static string Rate(long bytes, Stopwatch sw) =>
        $"{bytes} bytes in {sw.Elapsed.TotalSeconds:0.00}s ({(sw.Elapsed.TotalSeconds > 0 ? bytes / sw.Elapsed.TotalSeconds / (1 << 20) : 0):0.0} MiB/s)";

    /// <summary>
    /// Status from the last_sync files, by OpenSVC's rules (<see cref="SyncStatusRule"/>): the sender's view of every
    /// target where the service runs (flex: on its flex primary), a passive node's view of its own copy elsewhere.
    /// </summary>
    public static ResourceProbe Status<TSync>(ProbeContext<TSync> probe, TimeProvider time, bool drpNodeNeverSends = false) where TSync : SyncResource
    {
        ArgumentNullException.ThrowIfNull(probe);
        var sync = probe.Resource;
        if (sync.Disabled)
            return new ResourceProbe(Domain.Status.NotApplicable, "disabled");
        var resolved = probe.Resolved;
        var (status, message) = SyncStatusRule.Evaluate(new SyncStatusView(probe.LocalNode, sync.Targets, Sends(probe), drpNodeNeverSends,
            resolved.Role == NodeRole.DrpNode, n => SyncState.Read(probe.Service, probe.Rid.ToString(), n)?.At,
            TimeSpan.FromSeconds(sync.SyncMaxDelaySeconds), time.GetUtcNow()));
        return new ResourceProbe(status, message);
    }

    /// <summary>
    /// True when this node is the one that sends: the service runs here (flex: its flex primary). Avail unknown (a probe
    /// outside the agent's status refresh, <c>driver exec --action status</c>): any node but one of the sync's targets.
    /// </summary>
    public static bool Sends<TSync>(ProbeContext<TSync> probe) where TSync : SyncResource
    {
        ArgumentNullException.ThrowIfNull(probe);
        var resolved = probe.Resolved;
        var up = probe.AvailHere is { } avail ? avail == Domain.Status.Up : !probe.Resource.Targets.Contains(probe.LocalNode);
        return up && (resolved.Topology != Topology.Flex || resolved.FlexPrimary is not { } primary || primary == probe.LocalNode);
    }

    public static Task RecordAsync<TSync>(StepContext<TSync> context, NodeName target, long bytes, Stopwatch sw, SshConnection connection, TimeProvider time,
        CancellationToken cancellationToken) where TSync : SyncResource =>
        SyncState.RecordAsync(context.Service, context.Rid.ToString(), StampOf(context, target, bytes, sw, time), connection, cancellationToken);

    public static SyncStamp StampOf<TSync>(StepContext<TSync> context, NodeName target, long bytes, Stopwatch sw, TimeProvider time) where TSync : SyncResource =>
        new(time.GetUtcNow(), context.LocalNode.Value, target.Value, bytes, sw.ElapsedMilliseconds);

    /// <summary>
    /// Copies a pipeline source into a channel; returns the bytes copied. Reading and writing overlap (a bounded
    /// queue of full buffers between them), so the source and the SSH channel each run at their own pace.
    /// </summary>
    public static async Task<long> CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        const int size = 256 * 1024;
        var queue = System.Threading.Channels.Channel.CreateBounded<(byte[] Buffer, int Count)>(
            new System.Threading.Channels.BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    // Fill the whole buffer: sources such as the docker API's chunked stream return ~16 KiB per read, and one
                    // small write is one small SSH packet (twice the packets, twice the system time of full 32 KiB packets).
                    var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(size);
                    var n = 0;
                    int read;
                    while (n < size && (read = await from.ReadAsync(buffer.AsMemory(n, size - n), stop.Token).ConfigureAwait(false)) > 0)
                        n += read;
                    if (n == 0)
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                        break;
                    }
                    await queue.Writer.WriteAsync((buffer, n), stop.Token).ConfigureAwait(false);
                    if (n < size)
                        break;
                }
                queue.Writer.Complete();
            }
            catch (Exception e)
            {
                queue.Writer.Complete(e);
            }
        }, CancellationToken.None);
        long total = 0;
        try
        {
            await foreach (var (buffer, count) in queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await to.WriteAsync(buffer.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
                total += count;
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await reader.ConfigureAwait(false);
        }
        return total;
    }
}
