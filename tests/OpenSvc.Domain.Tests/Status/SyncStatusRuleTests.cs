using FluentAssertions;
using Xunit;

namespace OpenSvc.Domain.Tests.StatusRules;

/// <summary>OpenSVC's sync status rules (the model's sections 4 and 8): what each node reports, by its place.</summary>
public class SyncStatusRuleTests
{
    static readonly DateTimeOffset Now = new(2026, 1, 2, 12, 0, 0, TimeSpan.Zero);
    static readonly NodeName N1 = new("n1"), N2 = new("n2"), N3 = new("n3");

    static (Status Status, string Message) Eval(NodeName local, NodeName[] targets, bool sends, Func<NodeName, int?> minutesAgo,
        bool drpNeverSends = false, bool isDrp = false) =>
        SyncStatusRule.Evaluate(new SyncStatusView(local, targets, sends, drpNeverSends, isDrp,
            n => minutesAgo(n) is { } m ? Now.AddMinutes(-m) : null, TimeSpan.FromHours(1), Now));

    [Fact]
    public void a_target_keyword_that_resolves_to_no_other_node_is_not_applicable() =>
        Eval(N3, [], true, _ => null).Should().Be((Status.NotApplicable, "no target nodes"));

    [Fact]
    public void the_sender_warns_for_a_target_never_synced_or_older_than_sync_max_delay_as_opensvc_writes_it()
    {
        Eval(N1, [N3], true, _ => null).Should().Be((Status.Warn, "never synced to n3"));
        Eval(N1, [N3], true, _ => 120).Message.Should().StartWith("last sync on n3 older than 1h (");
        Eval(N1, [N3], true, _ => 5).Should().Be((Status.Up, "n3 synced 2026-01-02 11:55:00Z"));
    }

    [Fact]
    public void a_passive_node_that_is_not_a_destination_is_not_applicable_whatever_the_copies_age()
    {
        // The README demo's n2: the service runs on n1, the sync targets n3 only. It used to warn "never synced to n3".
        Eval(N2, [N3], sends: false, _ => null).Should().Be((Status.NotApplicable, "passive node, not a destination of this sync"));
    }

    [Fact]
    public void a_passive_destination_reports_its_own_copy()
    {
        Eval(N3, [N3], sends: false, _ => null).Should().Be((Status.Warn, "passive node needs update: it never received this sync"));
        Eval(N3, [N3], sends: false, n => n == N3 ? 300 : null).Message.Should().StartWith("passive node needs update: last sync received");
        Eval(N3, [N3], sends: false, n => n == N3 ? 5 : null).Status.Should().Be(Status.Up);
        Eval(N2, [N2, N3], sends: false, n => n == N2 ? 5 : null).Status.Should().Be(Status.Up, "n3's copy is the sender's concern");
    }

    [Fact]
    public void the_service_running_on_a_dr_node_does_not_send_rsync_from_there_and_says_so()
    {
        Eval(N3, [N3], sends: true, _ => null, drpNeverSends: true, isDrp: true).Status.Should().Be(Status.NotApplicable);
        Eval(N3, [N1, N2, N3], sends: true, _ => null, drpNeverSends: false, isDrp: true).Should().Be((Status.Warn, "never synced to n1; never synced to n2"));
    }

    [Fact]
    public void a_target_lacking_an_image_is_named_with_the_images()
    {
        var local = new Dictionary<string, string> { ["opensvc/httpd:lab"] = "bbb", ["opensvc/busybox:lab"] = "aaa" };
        SyncStatusRule.MissingImages(N3, local, ["aaa"], Now).Should().Be("target node n3 misses image(s) opensvc/httpd:lab (as of its last sync, 2026-01-02 12:00:00Z)");
        SyncStatusRule.MissingImages(N3, local, ["aaa", "bbb"], Now).Should().BeNull();
        SyncStatusRule.MissingImages(N3, local, null, Now).Should().BeNull("no inventory recorded yet: nothing to compare");
    }
}
