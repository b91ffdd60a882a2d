using FluentAssertions;
using OpenSvc.Host.Bench;
using Xunit;

namespace OpenSvc.Tests.Bench;

public sealed class DrillBenchmarkTests
{
    static DrillRound Round(int n, double drillMs, double takeoverMs, long? clone) =>
        new(n, TimeSpan.FromMilliseconds(drillMs), clone, clone * 40, TimeSpan.FromMilliseconds(takeoverMs));

    [Fact]
    public void the_report_gives_the_median_and_spread_of_each_figure_and_says_which_aims_are_met()
    {
        var report = DrillBenchmark.Report([Round(1, 2200, 2000, 16384), Round(2, 2000, 2000, 32768), Round(3, 2100, 2000, 20480)]);

        report.Should().Contain("drill RTO (request → every drill resource up):    median 2100 ms (min 2000, max 2200)")
            .And.Contain("drill/takeover RTO ratio:                         median 1.05 (min 1.00, max 1.10)")
            .And.Contain("bytes written to n3's disk by the clones:         median 20480 B (min 16384, max 32768)")
            .And.Contain("aims: drill RTO within 10 % of the takeover's: met (median ratio 1.05); clones under 1 MiB: met");
    }

    [Fact]
    public void a_round_beyond_the_aims_is_reported_as_not_met()
    {
        var report = DrillBenchmark.Report([Round(1, 3000, 2000, 2 << 20), Round(2, 2000, 2000, null)]);

        report.Should().Contain("median 1.25 (min 1.00, max 1.50)")
            .And.Contain("drill RTO within 10 % of the takeover's: NOT met").And.Contain("clones under 1 MiB: NOT met");
    }

    [Fact]
    public void a_failed_drill_is_reported_with_its_reason_and_its_clones_still_count()
    {
        var report = DrillBenchmark.Report([new DrillRound(1, null, 16384, null, TimeSpan.FromMilliseconds(9000), "step 6 (drill-start ip#0 on n3) failed: no dummy links")]);

        report.Should().Contain("no drill completed").And.Contain("median 9000 ms")
            .And.Contain("round 1: the drill failed: step 6 (drill-start ip#0 on n3) failed: no dummy links")
            .And.Contain("bytes written to n3's disk by the clones:         median 16384 B")
            .And.Contain("drill RTO within 10 % of the takeover's: NOT met");
    }

    [Fact]
    public void the_takeovers_engine_overhead_is_what_its_steps_driver_time_leaves_of_request_to_end()
    {
        var at = DateTimeOffset.Parse("2026-12-02T16:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        static EngineBenchmark.TakeoverFigures Takeover(DateTimeOffset at, double totalMs, double driverMs) =>
            new(at, at.AddMilliseconds(totalMs), true, 5, TimeSpan.FromMilliseconds(driverMs));
        var report = DrillBenchmark.Report([
            Round(1, 2000, 2000, 16384) with { Takeover = Takeover(at, 2000, 1900) },
            Round(2, 2000, 2000, 16384) with { Takeover = Takeover(at, 1000, 980) },
            Round(3, 2000, 2000, 16384) with { Takeover = Takeover(at, 1500, 1470) },
        ]);

        report.Should().Contain("takeover's engine overhead (request → last step's end, less the steps' driver time): median 2.0 % (min 2.0, max 5.0); 30 ms of 1500 ms");
    }
}
