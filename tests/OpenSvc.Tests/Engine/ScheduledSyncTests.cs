using FluentAssertions;
using Marten;
using Microsoft.Extensions.DependencyInjection;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Tests.Support;
using OpenSvc.Workflows.Runs;
using OpenSvc.Workflows.Services;
using OpenSvc.Workflows.Syncs;
using Xunit;

namespace OpenSvc.Tests.Engine;

/// <summary>Scheduled syncs on the real engine (three agents on one database): each due time fires once, at its time.</summary>
[Collection(InProcessEngineCollection.Name)]
public sealed class ScheduledSyncTests : IAsyncLifetime
{
    InProcessCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await InProcessCluster.StartAsync("scheduled_sync", "n1", "n2", "n3");

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    const string Config = """
        [DEFAULT]
        nodes = n1 n2
        drpnodes = n3
        [fs#0]
        type = ext4
        dev = /dev/fake0
        mnt = /srv/fake
        [sync#0]
        type = rsync
        src = /srv/fake/
        dst = /srv/fake
        target = drpnodes
        schedule = @15s
        [sync#1]
        type = rsync
        src = /srv/fake/
        dst = /srv/fake
        target = drpnodes
        schedule = @0
        """;

    async Task<List<WorkflowRun>> SchedulerRunsAsync()
    {
        await using var session = _cluster.Store.QuerySession();
        return (await RunQueries.ListAsync(session, new RunFilter(Service: "svc-sched", Action: ServiceAction.Sync), default))
            .Where(r => r.RequestedBy == SyncScheduleJob.Requester).OrderBy(r => r.RequestedAt).ToList();
    }

    [Fact]
    public async Task each_due_time_fires_once_across_agents_at_its_time_and_a_changed_schedule_rearms()
    {
        var schedules = _cluster.Client.GetRequiredService<SyncSchedules>();
        var configured = DateTimeOffset.UtcNow;
        (await _cluster.Mediator.Send(new ConfigureService("svc-sched", Config, "tester", false, true))).Accepted.Should().BeTrue();
        var stored = DateTimeOffset.UtcNow;
        var armed = (await schedules.ListAsync("svc-sched", default)).Should().ContainSingle("sync#1 is @0: never").Subject;
        armed.Rid.Should().Be("sync#0");

        // @15s never ran: due at once, then every 15 s. Wait for the third scheduler request (due at +30 s; bounded), the
        // fourth being 15 s away: three due times, three requests, each once.
        var period = TimeSpan.FromSeconds(15);
        var deadline = DateTimeOffset.UtcNow + 2 * period + TimeSpan.FromSeconds(20);
        List<WorkflowRun> runs;
        while ((runs = await SchedulerRunsAsync()).Count < 3 && DateTimeOffset.UtcNow < deadline)
            await Task.Delay(250);
        runs.Should().HaveCount(3, "due at +0 s, +15 s and +30 s: {0}", string.Join(", ", runs.Select(r => r.RequestedAt.ToString("HH:mm:ss.fff"))));
        // Each run names its due time; the due times are exactly one period apart, the first one the instant of configuration,
        // and each request follows its due time closely (the job's 1 s poll, then planning).
        var due = runs.Select(r => DateTimeOffset.Parse(r.Reason!["scheduled sync due ".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        runs.Should().OnlyContain(r => r.Reason!.StartsWith("scheduled sync due ", StringComparison.Ordinal));
        due[0].Should().BeOnOrAfter(configured.AddSeconds(-1)).And.BeOnOrBefore(stored.AddSeconds(1), "never ran: due when the schedule is armed");
        for (var i = 1; i < due.Count; i++)
            (due[i] - due[i - 1]).Should().Be(period);
        for (var i = 0; i < runs.Count; i++)
            (runs[i].RequestedAt - due[i]).Should().BeGreaterThanOrEqualTo(TimeSpan.Zero).And.BeLessThan(TimeSpan.FromSeconds(8), "run {0} is requested when due", i);
        var state = (await schedules.ListAsync("svc-sched", default)).Single();
        state.LastDue.Should().NotBeNull();
        (state.NextDue - state.LastDue).Should().Be(period);

        // Another agent re-applying the same config (start-up) changes nothing: no second job for the same due time.
        await schedules.ApplyAsync("svc-sched", Config, default);
        (await schedules.ListAsync("svc-sched", default)).Single().JobId.Should().Be(state.JobId);

        // A changed schedule re-arms at once; a never schedule disarms.
        (await _cluster.Mediator.Send(new ConfigureService("svc-sched", Config.Replace("@15s", "04:00 * * jan", StringComparison.Ordinal), "tester", true, false)))
            .Accepted.Should().BeTrue();
        var january = (await schedules.ListAsync("svc-sched", default)).Single();
        january.NextDue!.Value.ToLocalTime().Month.Should().Be(1);
        january.JobId.Should().NotBe(state.JobId);
        (await _cluster.Mediator.Send(new ConfigureService("svc-sched", Config.Replace("@15s", "", StringComparison.Ordinal), "tester", true, false)))
            .Accepted.Should().BeTrue();
        (await schedules.ListAsync("svc-sched", default)).Should().BeEmpty();
    }
}
