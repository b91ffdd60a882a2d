using System.Globalization;
using System.Text;
using System.Text.Json;
using OpenSvc.Domain;
using OpenSvc.Infrastructure.Execution.Ssh;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Sync.Common;

/// <summary>What a last_sync file on a node records (the node-local stamp of a success): when a sync of this resource to <see cref="Target"/> last succeeded.
/// <see cref="Images"/>: sync.docker's record of the image ids the target holds for the service after that sync.</summary>
public sealed record SyncStamp(DateTimeOffset At, string Sender, string Target, long Bytes, long DurationMs, IReadOnlyList<string>? Images = null);

/// <summary>A last_sync file's directory, path and JSON text.</summary>
public sealed record LastSyncFile(string Dir, string Path, string Json);

/// <summary>
/// The node-local truth of "last successful sync per (resource, target)", like OpenSVC's last_sync files:
/// <c>&lt;var&gt;/svc/&lt;name&gt;/&lt;rid&gt;/last_sync_&lt;target&gt;</c>, written on the sender and pushed to the
/// same path on the target after each success, so status reads it on both sides without a network call.
/// </summary>
public static class SyncState
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public static string FileFor(string service, string rid, NodeName target) => $"{SyncPaths.Resource(service, rid)}/last_sync_{target}";

    public static SyncStamp? Read(string service, string rid, NodeName target)
    {
        var path = FileFor(service, rid, target);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<SyncStamp>(File.ReadAllText(path), Json) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Records a success locally, then on the target (same path) through the given connection.</summary>
    public static async Task RecordAsync(string service, string rid, SyncStamp sync, SshConnection target, CancellationToken cancellationToken)
    {
        var record = await WriteLocalAsync(service, rid, sync, cancellationToken).ConfigureAwait(false);
        var bytes = Encoding.UTF8.GetBytes(record.Json);
        var r = await target.RunWithInputAsync(["sh", "-c", "mkdir -p \"$1\" && dd of=\"$2.tmp\" status=none && mv \"$2.tmp\" \"$2\"", "last_sync", record.Dir, record.Path],
            async (stdin, ct) =>
            {
                await stdin.WriteAsync(bytes, ct).ConfigureAwait(false);
                return bytes.Length;
            }, cancellationToken, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (!r.Succeeded)
            throw new StepFailedException($"the data reached {sync.Target} but its last_sync file {record.Path} could not be written there: {r.Tail()}");
    }

    /// <summary>
    /// Writes the sender's copy and returns what the target's copy needs (same path), for a driver that writes it within a
    /// command it runs on the target anyway (the fixed script takes the JSON as a positional parameter).
    /// </summary>
    public static async Task<LastSyncFile> WriteLocalAsync(string service, string rid, SyncStamp sync, CancellationToken cancellationToken)
    {
        var path = FileFor(service, rid, new NodeName(sync.Target));
        var text = JsonSerializer.Serialize(sync, Json);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path + ".tmp", text, cancellationToken).ConfigureAwait(false);
        File.Move(path + ".tmp", path, overwrite: true);
        return new LastSyncFile(Path.GetDirectoryName(path)!, path, text);
    }

    /// <summary>The target's copy of a last_sync file: the same path as on the sender, and its JSON.</summary>
    public static LastSyncFile FileOf(string service, string rid, SyncStamp sync)
    {
        var path = FileFor(service, rid, new NodeName(sync.Target));
        return new LastSyncFile(Path.GetDirectoryName(path)!, path, JsonSerializer.Serialize(sync, Json));
    }

    /// <summary>Seconds as OpenSVC writes durations: 1d3h, 90m, 45s.</summary>
    public static string Duration(long seconds) => SyncStatusRule.Duration(seconds);
}
