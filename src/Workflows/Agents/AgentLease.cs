using System.Collections.Concurrent;

namespace OpenSvc.Workflows.Agents;

/// <summary>
/// This agent's lease on the steps it runs. The heartbeat renews it with each write the database accepts; it lapses
/// <see cref="Term"/> after the start of the last successful renewal, on this process's monotonic clock, which is before
/// the database can see the heartbeat as expired (the write reached the database after it started). When it lapses,
/// every step execution of this agent is cancelled (the agent fences itself) and no new one is claimed until a renewal
/// succeeds: so when another agent's reconciler requeues a step of this agent after the lease expired (by the
/// database's clock, plus a grace), the first execution has stopped. The lease also knows which executions run here,
/// so the agent can tell a step it started and then lost (a database outage during the step) from one that still runs.
/// </summary>
public sealed class AgentLease(TimeProvider time) : IDisposable
{
    readonly object _gate = new();
    readonly ConcurrentDictionary<(Guid RunId, int Step, int Execution), byte> _running = new();
    CancellationTokenSource _epoch = new();
    long _validUntil = long.MinValue;

    /// <summary>How long a renewal keeps the lease (shorter than the time after which others deem this agent dead).</summary>
    public TimeSpan Term { get; init; } = AgentLiveness.LeaseTerm(AgentLiveness.DeadAfter);

    public bool IsHeld => time.GetTimestamp() < Interlocked.Read(ref _validUntil);

    /// <summary>Cancelled when the lease lapses: every step execution links its cancellation to it.</summary>
    public CancellationToken Token
    {
        get
        {
            lock (_gate)
                return _epoch.Token;
        }
    }

    /// <summary>A renewal that started at <paramref name="startedAt"/> (<see cref="TimeProvider.GetTimestamp"/>) was written.</summary>
    public void Renewed(long startedAt)
    {
        lock (_gate)
        {
            if (_epoch.IsCancellationRequested)
            {
                _epoch.Dispose();
                _epoch = new CancellationTokenSource();
            }
            var until = startedAt + (long)(Term.TotalSeconds * time.TimestampFrequency);
            if (until > _validUntil)
                Interlocked.Exchange(ref _validUntil, until);
        }
    }

    /// <summary>Cancels this agent's executions when the lease has lapsed; true when it just lapsed.</summary>
    public bool CheckLapsed()
    {
        lock (_gate)
        {
            if (IsHeld || _epoch.IsCancellationRequested || _validUntil == long.MinValue)
                return false;
            _epoch.Cancel();
            return true;
        }
    }

    /// <summary>Waits up to <paramref name="within"/> for the lease (an agent that just started has not renewed it yet).</summary>
    public async Task<bool> WaitHeldAsync(TimeSpan within, CancellationToken cancellationToken)
    {
        var deadline = time.GetTimestamp() + (long)(within.TotalSeconds * time.TimestampFrequency);
        while (!IsHeld)
        {
            if (time.GetTimestamp() >= deadline)
                return false;
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>Marks an execution as running here, before it is claimed; disposed when it ended (its outcome written or not).</summary>
    public IDisposable Running(Guid runId, int step, int execution)
    {
        var key = (runId, step, execution);
        _running[key] = 0;
        return new Release(() => _running.TryRemove(key, out _));
    }

    public bool IsRunning(Guid runId, int step, int execution) => _running.ContainsKey((runId, step, execution));

    public void Dispose()
    {
        lock (_gate)
            _epoch.Dispose();
    }

    sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }
}
