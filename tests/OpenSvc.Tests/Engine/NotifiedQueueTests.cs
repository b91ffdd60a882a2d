using FluentAssertions;
using Npgsql;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Infrastructure.Engine;
using OpenSvc.Infrastructure.Drivers.Fake;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Runs;
using Xunit;

namespace OpenSvc.Tests.Engine;

/// <summary>
/// Agents learn of their jobs from their queues' notifications alone: the safety-net poll here is a minute, so a
/// step that depended on it would make these runs time out.
/// </summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class NotifiedQueueTests : IAsyncLifetime
{
    static readonly TimeSpan NoUsefulPoll = TimeSpan.FromMinutes(1);
    static readonly TimeSpan Within = TimeSpan.FromSeconds(20);
    InProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync("notified", QueueWakeup.Notified, NoUsefulPoll, "n1", "n2");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    Task<SubmitResult> Submit(Plan plan) => _cluster.Mediator.Send(new SubmitRun(plan, "tester", "notified queue test", false, FakeCluster.ConfigFor(plan)));

    static Plan FourStepsAcrossNodes(string service) => Plans.Start(service,
        Plans.Step(0, "n1", "fs#0", ResourceAction.Start),
        Plans.Step(1, "n2", "fs#1", ResourceAction.Start),
        Plans.Step(2, "n1", "fs#2", ResourceAction.Start),
        Plans.Step(3, "n2", "container#0", ResourceAction.Start));

    [Fact]
    public async Task each_step_reaches_the_agent_of_its_node_by_notification()
    {
        var submitted = await Submit(FourStepsAcrossNodes("svc-n1"));

        var run = await _cluster.WaitForEndAsync(submitted.RunId, Within);

        run.Status.Should().Be(RunStatus.Completed);
        run.Steps.Select(s => s.Agent!.Split('/')[0]).Should().Equal("n1", "n2", "n1", "n2");
        var events = await _cluster.EventsAsync(run.Id);
        var scheduled = events.OfType<StepScheduled>().ToDictionary(e => e.Step, e => e.At);
        events.OfType<StepStarted>().Should().OnlyContain(s => s.At - scheduled[s.Step] < TimeSpan.FromSeconds(10),
            "every step was dispatched long before the one-minute poll could have found it");
    }

    [Fact]
    public async Task an_agent_whose_listening_connection_dies_listens_again_and_takes_what_came_meanwhile()
    {
        var killed = await TerminateListenersAsync();
        killed.Should().BeGreaterThanOrEqualTo(2, "each agent host listens on a connection of its own");

        var submitted = await Submit(FourStepsAcrossNodes("svc-n2"));

        var run = await _cluster.WaitForEndAsync(submitted.RunId, Within);
        run.Status.Should().Be(RunStatus.Completed);
        (await _cluster.EventsAsync(run.Id)).OfType<StepRequeued>().Should().BeEmpty("no job was lost: the listeners came back");
    }

    [Fact]
    public async Task a_job_queued_while_no_agent_listened_is_taken_when_the_agent_starts()
    {
        // n3 has no agent yet: its step waits in its queue, notified to nobody.
        var plan = Plans.Start("svc-n3", Plans.Step(0, "n3", "fs#0", ResourceAction.Start));
        var submitted = await _cluster.Mediator.Send(new SubmitRun(plan, "tester", "notified queue test", false, FakeCluster.ConfigFor(plan)));
        await _cluster.WaitForQueuedJobAsync("node_n3");

        await _cluster.AddAgentAsync("n3");

        (await _cluster.WaitForEndAsync(submitted.RunId, Within)).Status.Should().Be(RunStatus.Completed);
    }

    /// <summary>Kills the agents' listening connections, once both agents listen (they start with their workers' first fetch).</summary>
    async Task<int> TerminateListenersAsync()
    {
        await using var connection = new NpgsqlConnection(_cluster.ConnectionString);
        await connection.OpenAsync();
        const string listeners = "FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'";
        for (var i = 0; i < 100 && await ScalarAsync($"SELECT count(*) {listeners}") < 2; i++)
            await Task.Delay(100);
        return await ScalarAsync($"SELECT count(pg_terminate_backend(pid)) {listeners}");

        async Task<int> ScalarAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
