using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using OpenSvc.Workflows.Agents;
using Xunit;

namespace OpenSvc.Tests.Engine;

/// <summary>The agent's lease on its steps, on a fake clock: held after a renewal, lapsed (cancelling its steps) after its term.</summary>
public sealed class AgentLeaseTests
{
    readonly FakeTimeProvider _time = new();

    AgentLease Lease() => new(_time) { Term = TimeSpan.FromSeconds(10) };

    [Fact]
    public void a_lease_is_held_for_its_term_from_the_start_of_the_renewal_that_was_written()
    {
        var lease = Lease();
        lease.IsHeld.Should().BeFalse("no heartbeat was accepted yet");

        var started = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(3)); // the write took 3 s
        lease.Renewed(started);

        lease.IsHeld.Should().BeTrue();
        _time.Advance(TimeSpan.FromSeconds(6.9));
        lease.IsHeld.Should().BeTrue();
        _time.Advance(TimeSpan.FromSeconds(0.2));
        lease.IsHeld.Should().BeFalse("the term counts from when the renewal started, not when it was written");
    }

    [Fact]
    public void a_lapsed_lease_cancels_the_steps_that_run_under_it_and_a_renewal_starts_a_new_epoch()
    {
        var lease = Lease();
        lease.Renewed(_time.GetTimestamp());
        var step = lease.Token;

        _time.Advance(TimeSpan.FromSeconds(11));
        lease.CheckLapsed().Should().BeTrue();
        step.IsCancellationRequested.Should().BeTrue("the agent fences itself");
        lease.CheckLapsed().Should().BeFalse("it lapses once");

        lease.Renewed(_time.GetTimestamp());
        lease.IsHeld.Should().BeTrue();
        lease.Token.IsCancellationRequested.Should().BeFalse("steps claimed after the renewal run under a new epoch");
    }

    [Fact]
    public void the_lease_knows_which_executions_run_here()
    {
        var lease = Lease();
        var run = Guid.NewGuid();
        using (lease.Running(run, 2, 7))
        {
            lease.IsRunning(run, 2, 7).Should().BeTrue();
            lease.IsRunning(run, 2, 6).Should().BeFalse();
        }
        lease.IsRunning(run, 2, 7).Should().BeFalse("an execution that ended is not running, whether its outcome was written or not");
    }

    [Fact]
    public async Task a_job_waits_a_bounded_time_for_a_lease_that_is_not_held()
    {
        var lease = Lease();
        var waiting = lease.WaitHeldAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(6));
        (await waiting).Should().BeFalse();
    }
}
