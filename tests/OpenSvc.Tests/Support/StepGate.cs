using OpenSvc.Workflows.Engine;

namespace OpenSvc.Tests.Support;

/// <summary>
/// A fault injector that holds executions of one step at one point of the engine (before the driver, or after its
/// effect and before the outcome is recorded) until the test lets each go: the test, not a clock, decides what
/// happens in between. The first <c>held</c> arrivals are held, in the order they arrive; later ones pass.
/// </summary>
public sealed class StepGate : IFaultInjector
{
    /// <summary>How long a held execution waits for the test at most: a hang guard for a test that fails before releasing it.</summary>
    static readonly TimeSpan HoldAtMost = TimeSpan.FromMinutes(2);

    readonly FaultPoint _point;
    readonly int _step;
    readonly TaskCompletionSource[] _reached;
    readonly TaskCompletionSource[] _released;
    int _arrivals;

    public StepGate(FaultPoint point, int step, int held)
    {
        _point = point;
        _step = step;
        _reached = [.. Enumerable.Range(0, held).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
        _released = [.. Enumerable.Range(0, held).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
    }

    public void At(FaultPoint point, Guid runId, int step)
    {
        if (point != _point || step != _step)
            return;
        var arrival = Interlocked.Increment(ref _arrivals) - 1;
        if (arrival >= _reached.Length)
            return;
        _reached[arrival].TrySetResult();
        // The engine calls this synchronously on the step's worker: holding it blocks that worker, as a slow driver would.
        if (!_released[arrival].Task.Wait(HoldAtMost))
            throw new TimeoutException($"step {step + 1}, arrival {arrival + 1} at {point}: the test never let it go");
    }

    /// <summary>Completes when arrival <paramref name="arrival"/> (from 0) is held at the point.</summary>
    public Task ReachedAsync(int arrival, TimeSpan within) => _reached[arrival].Task.WaitAsync(within);

    /// <summary>Lets arrival <paramref name="arrival"/> go on.</summary>
    public void Release(int arrival) => _released[arrival].TrySetResult();

    /// <summary>Lets every held arrival go (a test's cleanup, so no worker stays blocked).</summary>
    public void ReleaseAll()
    {
        foreach (var released in _released)
            released.TrySetResult();
    }
}
