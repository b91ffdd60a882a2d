using FluentAssertions;
using Hangfire;
using Marten;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Drivers.Fake;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Engine;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using Xunit;

namespace OpenSvc.Tests.Engine;

/// <summary>
/// A fresh agent's warm-up (on by default): a takeover's code paths run once in the background, through real writes
/// rolled back and one step job of no run on the node's queue. It leaves nothing but that job's record, and the agent
/// then runs real work as usual.
/// </summary>
public sealed class AgentWarmUpTests
{
    [Fact]
    public async Task a_fresh_agent_warms_up_leaving_no_run_no_event_and_one_succeeded_job_then_runs_a_start()
    {
        var connection = await PostgresServer.NewDatabaseAsync("warm_up");
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddOpenSvcEngine(new EngineOptions(connection, new NodeName("tester")) { RunAgent = false, FakeCluster = true });
        await using var client = services.BuildServiceProvider();
        var store = client.GetRequiredService<IDocumentStore>();
        await store.Storage.ApplyAllConfiguredChangesToDatabaseAsync();
        var storage = client.GetRequiredService<JobStorage>();

        using var n1 = AgentProcess.Start("n1", connection, new Dictionary<string, string> { ["OPENSVC_AGENT_WARMUP"] = "on" });
        await n1.WaitReadyAsync(TimeSpan.FromSeconds(180));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (!n1.Log.Contains("warm-up", StringComparison.Ordinal))
        {
            n1.HasExited.Should().BeFalse(n1.Log);
            DateTime.UtcNow.Should().BeBefore(deadline, "the warm-up ends or fails within 3 minutes; the agent said:\n{0}", n1.Log);
            await Task.Delay(100);
        }
        n1.Log.Should().Contain("warm-up: a takeover's code paths ran once").And.NotContain("warm-up failed").And.NotContain("does not exist");

        // Its writes were rolled back: no run, no event, no service activity.
        await using (var query = store.QuerySession())
        {
            (await query.Query<WorkflowRun>().CountAsync()).Should().Be(0);
            (await query.Query<ServiceActivity>().CountAsync()).Should().Be(0);
            (await query.Events.QueryAllRawEvents().CountAsync()).Should().Be(0);
        }
        // Its step job of no run went through n1's queue and succeeded; nothing failed.
        var api = storage.GetMonitoringApi();
        api.SucceededJobs(0, 50).Select(j => j.Value.Job).Should().ContainSingle(j => j.Type == typeof(StepJob) && (string)j.Args[3] == "warm-up of n1");
        api.FailedCount().Should().Be(0);

        var plan = Plans.Start("svc-warm", Plans.Step(0, "n1", "fs#0", ResourceAction.Start), Plans.Step(1, "n1", "container#0", ResourceAction.Start));
        var submitted = await client.GetRequiredService<IMediator>().Send(new SubmitRun(plan, "tester", "after the warm-up", false, FakeCluster.ConfigFor(plan)));
        submitted.Accepted.Should().BeTrue(submitted.Refusal);
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            await using (var query = store.QuerySession())
                if (await query.LoadAsync<WorkflowRun>(submitted.RunId) is { IsFinished: true } run)
                {
                    run.Status.Should().Be(RunStatus.Completed, n1.Log);
                    break;
                }
            DateTime.UtcNow.Should().BeBefore(deadline, "the start run ends; the agent said:\n{0}", n1.Log);
            await Task.Delay(100);
        }
    }
}
