using System.Text.RegularExpressions;
using OpenSvc.Domain.Config;

namespace OpenSvc.Infrastructure.Drivers.Sync.Btrfs;

/// <summary>What <c>btrfs subvolume show</c> says about a snapshot: enough to decide if it can be a send parent.</summary>
public sealed record SubvolumeInfo(string Uuid, string ReceivedUuid, bool ReadOnly);

public enum SendMode { Full, Incremental }

/// <summary>
/// Full or incremental, and why: the reason goes into the step output so a full resend is never silent.
/// <paramref name="FromReceived"/>: the parent is the snapshot this node received from the target (the common parent of a
/// reversed send), not the one it last sent to it.
/// </summary>
public sealed record SendDecision(SendMode Mode, string Reason, bool FromReceived = false);

/// <summary>Pure rules of the btrfs sync: when an incremental send is possible, snapshot names, show parsing.</summary>
public static partial class BtrfsSend
{
    /// <summary>
    /// Incremental only when the sender still has its last snapshot and the target's last is the read-only
    /// copy received from exactly that snapshot (its received uuid equals the sender's uuid). Otherwise full.
    /// </summary>
    public static SendDecision Decide(SubvolumeInfo? localLast, SubvolumeInfo? remoteLast)
    {
        if (localLast is null)
            return new(SendMode.Full, remoteLast is null ? "first sync: no parent snapshot on either side" : "the sender has no parent snapshot (last is gone)");
        if (remoteLast is null)
            return new(SendMode.Full, "the target has no parent snapshot (last is gone)");
        if (remoteLast.ReceivedUuid is "-" or "")
            return new(SendMode.Full, "the target's parent snapshot was made writable (it has no received uuid)");
        if (!remoteLast.ReadOnly)
            return new(SendMode.Full, "the target's parent snapshot is writable (it may have changed)");
        if (!string.Equals(remoteLast.ReceivedUuid, localLast.Uuid, StringComparison.OrdinalIgnoreCase))
            return new(SendMode.Full, $"the target's parent was received from {remoteLast.ReceivedUuid}, not from the sender's last snapshot {localLast.Uuid}");
        return new(SendMode.Incremental, $"parent snapshot {localLast.Uuid}");
    }

    /// <summary>
    /// The decision when the sender has no usable parent of its own for this target: the snapshot the sender last received
    /// from the target (<paramref name="localReceived"/>, read-only) is a common parent when the target still holds the
    /// snapshot it was sent from (<paramref name="remoteSent"/>: its uuid is the received uuid), read-only. That is the state
    /// after a takeover: the DR node holds what the primary last sent, and the primary still holds what it sent. Otherwise
    /// the first decision stands (full), with why no common parent was usable.
    /// </summary>
    public static SendDecision DecideReverse(SendDecision first, SubvolumeInfo? localReceived, SubvolumeInfo? remoteSent)
    {
        ArgumentNullException.ThrowIfNull(first);
        if (first.Mode == SendMode.Incremental)
            return first;
        string? why = null;
        if (localReceived is null)
            why = "the sender holds no snapshot received from the target";
        else if (localReceived.ReceivedUuid is "-" or "" || !localReceived.ReadOnly)
            why = "the sender's received snapshot is not a read-only received copy";
        else if (remoteSent is null)
            why = "the target no longer holds the snapshot it sent";
        else if (!remoteSent.ReadOnly)
            why = "the target's sent snapshot is writable";
        else if (!string.Equals(localReceived.ReceivedUuid, remoteSent.Uuid, StringComparison.OrdinalIgnoreCase))
            why = $"the sender's copy was received from {localReceived.ReceivedUuid}, and the target's last sent snapshot is {remoteSent.Uuid}";
        return why is null
            ? new SendDecision(SendMode.Incremental, $"common parent: the snapshot received from the target ({localReceived!.Uuid}, a copy of the target's {remoteSent!.Uuid})", FromReceived: true)
            : first with { Reason = $"{first.Reason}; no common parent: {why}" };
    }

    /// <summary>A snapshot is named after the subvolume path with '/' replaced by '_' (OpenSVC's naming).</summary>
    public static string SnapshotName(string subvolume) => subvolume.Trim('/').Replace('/', '_');

    /// <summary>Refuses subvolume paths that would escape the filesystem root or name the root itself (<see cref="BtrfsVolume.Refusal"/>).</summary>
    public static bool IsSafeSubvolume(string subvolume) => new BtrfsVolume("label", subvolume).Refusal is null;

    public static SubvolumeInfo ParseShow(string output)
    {
        string Field(string name)
        {
            var m = Regex.Match(output, @"^\s*" + Regex.Escape(name) + @":\s*(\S*)\s*$", RegexOptions.Multiline);
            return m.Success ? m.Groups[1].Value : "";
        }
        var flags = Regex.Match(output, @"^\s*Flags:\s*(.*)$", RegexOptions.Multiline);
        return new SubvolumeInfo(Field("UUID"), Field("Received UUID"), flags.Success && flags.Groups[1].Value.Contains("readonly", StringComparison.Ordinal));
    }
}
