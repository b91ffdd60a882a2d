using System.Globalization;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Infrastructure.Faults;

/// <summary>
/// Crash points for the fault-injection suite: <c>OPENSVC_FAULT=&lt;point&gt;@&lt;step&gt;</c> (points:
/// after-schedule, during-step, after-effect; steps numbered from 1) kills this process with SIGKILL the
/// first time the point is reached, once per marker file <c>OPENSVC_FAULT_MARKER</c>. A real kill, not an
/// exception: nothing gets to clean up, exactly as when a node loses power.
/// </summary>
public sealed class ProcessKillFaults : IFaultInjector
{
    readonly FaultPoint _point;
    readonly int _step;
    readonly string _marker;

    ProcessKillFaults(FaultPoint point, int step, string marker)
    {
        _point = point;
        _step = step;
        _marker = marker;
    }

    public static IFaultInjector FromEnvironment()
    {
        var spec = Environment.GetEnvironmentVariable("OPENSVC_FAULT");
        var marker = Environment.GetEnvironmentVariable("OPENSVC_FAULT_MARKER");
        if (string.IsNullOrWhiteSpace(spec) || string.IsNullOrWhiteSpace(marker))
            return new NoFaults();
        var parts = spec.Split('@', 2);
        FaultPoint? point = parts[0] switch
        {
            "after-schedule" => FaultPoint.AfterScheduleBeforeEnqueue,
            "during-step" => FaultPoint.DuringStep,
            "after-effect" => FaultPoint.AfterEffectBeforeEvent,
            _ => null,
        };
        if (point is null || parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var step) || step < 1)
            throw new ArgumentException($"OPENSVC_FAULT='{spec}' is not <after-schedule|during-step|after-effect>@<step number>");
        return new ProcessKillFaults(point.Value, step - 1, marker);
    }

    public void At(FaultPoint point, Guid runId, int step)
    {
        if (point != _point || step != _step)
            return;
        try
        {
            using var _ = new FileStream(_marker, FileMode.CreateNew, FileAccess.Write);
        }
        catch (IOException)
        {
            return; // already crashed here once
        }
        Console.Error.WriteLine($"fault injection: killing process {Environment.ProcessId} at {point} of step {step + 1} (run {runId})");
        Console.Error.Flush();
        System.Diagnostics.Process.GetCurrentProcess().Kill();
    }
}
