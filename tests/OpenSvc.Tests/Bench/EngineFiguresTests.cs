using FluentAssertions;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Bench;
using OpenSvc.Tests.Support;
using Xunit;

namespace OpenSvc.Tests.Bench;

public sealed class EngineFiguresTests
{
    static readonly DateTimeOffset T0 = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    static DateTimeOffset At(double ms) => T0.AddMilliseconds(ms);

    static IReadOnlyList<object> TwoStepRun(Guid id, double offset, double dispatch1, double work, double dispatch2)
    {
        var plan = Plans.Start("svc", Plans.Step(0, "n1", "app#0", ResourceAction.Start), Plans.Step(1, "n2", "app#1", ResourceAction.Start));
        var n1 = new NodeName("n1");
        var n2 = new NodeName("n2");
        var t = offset;
        var events = new List<object>
        {
            new RunRequested(id, "svc", ServiceAction.Start, n1, null, "bench", null, false, At(t), "v", "", plan),
            new StepScheduled(id, 0, 1, n1, n1.QueueName, At(t), null),
            new StepStarted(id, 0, 1, n1, "a", At(t += dispatch1)),
            new StepSucceeded(id, 0, 1, At(t += work), TimeSpan.FromMilliseconds(work), true, "", null),
            new StepScheduled(id, 1, 1, n2, n2.QueueName, At(t), null),
            new StepStarted(id, 1, 1, n2, "b", At(t += dispatch2)),
            new StepSucceeded(id, 1, 1, At(t += work), TimeSpan.FromMilliseconds(work), true, "", null),
            new RunCompleted(id, At(t)),
        };
        return events;
    }

    [Fact]
    public void dispatch_and_step_to_step_latencies_are_read_from_event_times()
    {
        var figures = EngineFigures.From([TwoStepRun(Guid.NewGuid(), 0, 10, 5, 30), TwoStepRun(Guid.NewGuid(), 100, 20, 5, 40)]);

        figures.Completed.Should().Be(2);
        figures.Steps.Should().Be(4);
        figures.Dispatch.Count.Should().Be(4);
        figures.Dispatch.P50.Should().Be(20);
        figures.Dispatch.Max.Should().Be(40);
        figures.StepToStep.Count.Should().Be(2);
        figures.StepToStep.P50.Should().Be(30);
        figures.Span.Should().Be(TimeSpan.FromMilliseconds(100 + 20 + 5 + 40 + 5));
        figures.WorkflowsPerSecond.Should().BeApproximately(2 / 0.170, 0.001);
    }

    [Fact]
    public void percentiles_use_the_nearest_rank()
    {
        var p = Percentiles.Of(Enumerable.Range(1, 100).Select(i => (double)i).ToList());
        (p.P50, p.P95, p.P99, p.Max).Should().Be((50, 95, 99, 100));
        Percentiles.Of([]).Count.Should().Be(0);
    }

    [Fact]
    public void the_aims_line_says_which_aims_were_met()
    {
        var fast = EngineFigures.From([TwoStepRun(Guid.NewGuid(), 0, 10, 5, 12)]);
        EngineReport.Aims(fast, steps: 2).Should().Contain("dispatch p50 < 20 ms: met").And.Contain("dispatch p99 < 100 ms: met")
            .And.Contain("not measured (--steps 2");
        var slow = EngineFigures.From([TwoStepRun(Guid.NewGuid(), 0, 300, 5, 300)]);
        EngineReport.Aims(slow, steps: 3).Should().Contain("dispatch p50 < 20 ms: NOT met").And.Contain("three-step workflows/s: NOT met");
    }

    [Fact]
    public void the_table_puts_each_comparison_next_to_the_measured_phase_with_its_ratio_and_leaves_out_skipped_ones()
    {
        var fast = EngineFigures.From([TwoStepRun(Guid.NewGuid(), 0, 10, 5, 12)]);
        var slow = EngineFigures.From([TwoStepRun(Guid.NewGuid(), 0, 40, 5, 48)]);

        var table = EngineReport.Table("notified queues", fast, [("default polling", slow), ("skipped", EngineFigures.From([]))], steps: 2);

        var lines = table.Split('\n');
        lines[0].Should().Contain("notified queues").And.Contain("default polling").And.NotContain("skipped");
        lines.Should().Contain(l => l.StartsWith("dispatch p50 ms", StringComparison.Ordinal) && l.Contains("4.0x", StringComparison.Ordinal),
            "the other phase's dispatch over the measured one's");
        table.Should().Contain("aims (notified queues)");
    }
}
