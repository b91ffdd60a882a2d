using FluentAssertions;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Tests.Lab;

/// <summary>
/// The README's demo (`opensvc demo`, what ./scripts/start.sh runs) as a user runs it, on a lab instance of its own
/// (prefix osd) so it does not disturb the lab tests' one: it must bring the lab up, fail the service over to n3 through
/// a sync and a takeover, show the timeline and where to look, and leave nothing behind.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class DemoTests(ITestOutputHelper output)
{
    [LabFact]
    public async Task the_demo_drills_svc1_on_n3_while_n1_keeps_serving_reports_it_and_tears_the_lab_down()
    {
        var dir = "/var/lib/opensvc-lab-demo";
        var r = await ProcessRunner.RunAsync("dotnet", [AgentProcess.OpensvcDll, "demo", "--no-wait"], new ProcessRunOptions
        {
            Timeout = TimeSpan.FromMinutes(15),
            Environment = new Dictionary<string, string> { ["LAB_PREFIX"] = "osd", ["LAB_SUBNET"] = "10.211.0", ["LAB_DIR"] = dir },
        });
        output.WriteLine(r.StdOut + r.StdErr);

        r.ExitCode.Should().Be(0, r.StdErr);
        r.StdOut.Should().MatchRegex(@"run [0-9a-f]{8} completed .*\n.*\n\[demo +\d+s\] can svc1 be activated on n3 now", "the sync completed before the readiness check");
        r.StdOut.Should().Contain("svc1 on n3: READY")
            .And.Contain("drill svc1 on n3")
            .And.Contain("reason: demo: prove that n3 can run svc1")
            .And.MatchRegex(@"RTO [0-9.]+ ?m?s", "the drill's timeline shows the RTO it achieved")
            .And.Contain("production's http://10.211.0.50/ (still on n1) answers: opensvc lab")
            .And.Contain("drill-cleanup svc1 on n3")
            .And.Contain("production never stopped: from n2, http://10.211.0.50/ answers: opensvc lab")
            .And.Contain("asked by  drill-lead at ")
            .And.MatchRegex(@"\nconsole: +http://10\.211\.0\.11:7480/   \(sign in with a token below.*\ndashboard: +http://10\.211\.0\.11:7480/hangfire", "the console's address comes first")
            .And.Contain("lab down: nothing left running");
        r.StdOut.Should().NotContain("access_token", "no token travels in a URL");
        (await ProcessRunner.RunAsync("ip", ["link", "show", "osdbr0"])).Succeeded.Should().BeFalse("the demo's lab bridge is gone");
    }
}
