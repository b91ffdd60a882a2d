using FluentAssertions;
using OpenSvc.Infrastructure.Drivers.Sync.Btrfs;
using Xunit;

namespace OpenSvc.Tests.Sync;

/// <summary>When a reversed btrfs send can be incremental: the rules of <see cref="BtrfsSend.DecideReverse"/>.</summary>
public sealed class BtrfsReverseDecisionTests
{
    static readonly SendDecision NoParent = new(SendMode.Full, "the sender has no parent snapshot (last is gone)");
    static readonly SubvolumeInfo Received = new("r-uuid", "s-uuid", ReadOnly: true);
    static readonly SubvolumeInfo Sent = new("s-uuid", "-", ReadOnly: true);

    [Fact]
    public void the_snapshot_received_from_the_target_is_the_parent_when_the_target_still_holds_what_it_sent()
    {
        var d = BtrfsSend.DecideReverse(NoParent, Received, Sent);

        d.Mode.Should().Be(SendMode.Incremental);
        d.FromReceived.Should().BeTrue();
        d.Reason.Should().Contain("common parent");
    }

    [Fact]
    public void an_incremental_decision_of_the_senders_own_parent_stands()
    {
        var own = new SendDecision(SendMode.Incremental, "parent snapshot x");

        BtrfsSend.DecideReverse(own, Received, Sent).Should().Be(own);
    }

    [Theory]
    [InlineData("received-missing", "the sender holds no snapshot received from the target")]
    [InlineData("received-writable", "the sender's received snapshot is not a read-only received copy")]
    [InlineData("sent-missing", "the target no longer holds the snapshot it sent")]
    [InlineData("sent-writable", "the target's sent snapshot is writable")]
    [InlineData("other-lineage", "the sender's copy was received from s-uuid, and the target's last sent snapshot is t-uuid")]
    public void otherwise_it_is_a_full_send_that_says_why(string case_, string why)
    {
        var (received, sent) = case_ switch
        {
            "received-missing" => (null, Sent),
            "received-writable" => (Received with { ReadOnly = false }, Sent),
            "sent-missing" => (Received, null),
            "sent-writable" => (Received, Sent with { ReadOnly = false }),
            _ => (Received, Sent with { Uuid = "t-uuid" }),
        };

        var d = BtrfsSend.DecideReverse(NoParent, received, sent);

        d.Mode.Should().Be(SendMode.Full);
        d.Reason.Should().StartWith(NoParent.Reason).And.Contain("no common parent: " + why);
    }
}
