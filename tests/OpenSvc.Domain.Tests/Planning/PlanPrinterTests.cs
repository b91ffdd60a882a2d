using System.Text.Json;
using FluentAssertions;
using OpenSvc.Domain.Planning;
using Xunit;
using static OpenSvc.Domain.Tests.Planning.SeedServices;

namespace OpenSvc.Domain.Tests.Planning;

public class PlanPrinterTests
{
    [Fact]
    public void a_start_plan_prints_one_aligned_line_per_step()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Start, N1), Cluster()).Accepted().Plan;

        PlanPrinter.ToText(plan).Should().Be(
            "start svc1 on n1 (rollback on, 5 steps)\n" +
            "  1. n1  start  fs#0         (fs)                compensate: stop\n" +
            "  2. n1  start  fs#1         (fs)                compensate: stop\n" +
            "  3. n1  start  container#0  (container.docker)  compensate: stop\n" +
            "  4. n1  start  ip#0         (ip.docker)         compensate: stop\n" +
            "  5. n1  start  container#1  (container.docker)  compensate: stop\n");
    }

    [Fact]
    public void a_sync_plan_shows_targets_and_optional_steps()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Sync, N1), Cluster((N1, Status.Up))).Accepted().Plan;

        PlanPrinter.ToText(plan).Should().Be(
            "sync svc1 on n1 (rollback on, 2 steps)\n" +
            "  1. n1  sync  sync#0  (sync.docker)  to n3  optional\n" +
            "  2. n1  sync  sync#1  (sync.btrfs)   to n3  optional\n");
    }

    [Fact]
    public void a_dry_run_lists_the_resources_it_skips()
    {
        var result = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Stop, N3), Cluster((N3, Status.Up))).Accepted();

        PlanPrinter.ToText(result).Should().EndWith(
            "  skip n3  fs#1: standby on n3: stop leaves it up (--force stops it)\n" +
            "  skip n3  fs#0: standby on n3: stop leaves it up (--force stops it)\n");
    }

    [Fact]
    public void a_step_that_does_not_just_follow_the_previous_one_says_what_it_waits_for()
    {
        var policy = StepPolicy.Default;
        var plan = new Plan("svc1", ServiceAction.Start, N1, null, true,
        [
            new PlanStep(0, N1, Rid("fs#0"), "fs", ResourceAction.Start, [], policy),
            new PlanStep(1, N2, Rid("fs#0"), "fs", ResourceAction.Start, [], policy),
            new PlanStep(2, N1, Rid("app#0"), "app", ResourceAction.Start, [0, 1], policy),
        ]);

        var lines = PlanPrinter.ToText(plan).Split('\n');

        lines[1].Should().Be("  1. n1  start  fs#0   (fs)");
        lines[2].Should().Be("  2. n2  start  fs#0   (fs)   waits for nothing");
        lines[3].Should().Be("  3. n1  start  app#0  (app)  after 1, 2");
    }

    [Fact]
    public void a_refusal_prints_its_guard_and_reason()
    {
        var refusal = new Refusal(PlanGuard.SyncFlexNonPrimary, "only n2 sends.");

        PlanPrinter.ToText(refusal).Should().Be("refused (sync-flex-non-primary): only n2 sends.\n");
    }

    [Fact]
    public void json_has_a_fixed_shape()
    {
        var plan = new Plan("svc1", ServiceAction.Switch, N1, N2, false,
        [
            new PlanStep(1, N1, Rid("sync#1"), "sync.btrfs", ResourceAction.Sync, [],
                new StepPolicy(TimeSpan.FromHours(4), 2, TimeSpan.FromMinutes(1)), Target: N3, Optional: true),
            new PlanStep(2, N2, Rid("fs#0"), "fs", ResourceAction.Start, [1],
                new StepPolicy(TimeSpan.FromMinutes(2), 3, TimeSpan.FromSeconds(5)), Compensation: ResourceAction.Stop),
        ]);

        PlanPrinter.ToJson(plan).Should().Be("""
            {
              "service": "svc1",
              "action": "switch",
              "node": "n1",
              "to": "n2",
              "rollback": false,
              "steps": [
                {
                  "index": 1,
                  "node": "n1",
                  "rid": "sync#1",
                  "driver": "sync.btrfs",
                  "action": "sync",
                  "target": "n3",
                  "compensation": null,
                  "optional": true,
                  "waitsFor": [],
                  "policy": {
                    "timeoutSeconds": 14400,
                    "maxAttempts": 2,
                    "backoffSeconds": 60
                  }
                },
                {
                  "index": 2,
                  "node": "n2",
                  "rid": "fs#0",
                  "driver": "fs",
                  "action": "start",
                  "target": null,
                  "compensation": "stop",
                  "optional": false,
                  "waitsFor": [
                    1
                  ],
                  "policy": {
                    "timeoutSeconds": 120,
                    "maxAttempts": 3,
                    "backoffSeconds": 5
                  }
                }
              ]
            }

            """.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void json_of_a_seed_plan_lists_every_step_in_order()
    {
        var plan = Planner.Plan(FailoverDockerBtrfs(), Request(ServiceAction.Stop, N1), Cluster((N1, Status.Up))).Accepted().Plan;

        using var doc = JsonDocument.Parse(PlanPrinter.ToJson(plan));

        doc.RootElement.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("rid").GetString())
            .Should().Equal("container#1", "ip#0", "container#0", "fs#1", "fs#0");
        doc.RootElement.GetProperty("to").ValueKind.Should().Be(JsonValueKind.Null);
    }
}
