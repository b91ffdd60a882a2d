using OpenSvc.Domain.Runs;

namespace OpenSvc.Domain.Planning;

/// <summary>The words operators read and type for actions, step actions and sync targets, and how a step is named.</summary>
public static class ActionWords
{
    /// <summary>Every service action's word, in the order help texts list them.</summary>
    public static IReadOnlyList<string> ServiceActions { get; } = Enum.GetValues<ServiceAction>().Select(Of).ToArray();

    /// <summary>start, stop, startstandby, switch, takeover, sync, drill, drill-cleanup, reprotect, giveback.</summary>
    public static string Of(ServiceAction action) => action switch
    {
        ServiceAction.StartStandby => "startstandby",
        ServiceAction.DrillCleanup => "drill-cleanup",
        _ => action.ToString().ToLowerInvariant(),
    };

    /// <summary>start, stop, startstandby, sync, prepare-receive, drill-start, drill-stop, drill-check.</summary>
    public static string Of(ResourceAction action) => action switch
    {
        ResourceAction.StartStandby => "startstandby",
        ResourceAction.PrepareReceive => "prepare-receive",
        ResourceAction.DrillStart => "drill-start",
        ResourceAction.DrillStop => "drill-stop",
        ResourceAction.DrillCheck => "drill-check",
        _ => action.ToString().ToLowerInvariant(),
    };

    /// <summary>The service action an operator's word names, or null.</summary>
    public static ServiceAction? ParseServiceAction(string? text) =>
        Enum.GetValues<ServiceAction>().Select(a => (ServiceAction?)a).FirstOrDefault(a => Of(a!.Value) == text);

    /// <summary><c>nodes</c>, <c>drpnodes</c> (or <c>drp</c>), <c>all</c> (or nothing); null for any other word.</summary>
    public static SyncTargets? ParseSyncTargets(string? text) => text switch
    {
        null or "all" => SyncTargets.All,
        "nodes" => SyncTargets.Nodes,
        "drpnodes" or "drp" => SyncTargets.DrpNodes,
        _ => null,
    };

    /// <summary>"start fs#0", "sync sync#1 to n3".</summary>
    public static string Step(PlanStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return $"{Of(step.Action)} {step.Rid}{(step.Target is { } t ? $" to {t}" : "")}";
    }

    /// <summary>"step 3 (start container#0 on n1)": how messages and refusals name a step.</summary>
    public static string Describe(PlanStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return $"step {step.Index + 1} ({Of(step.Action)} {step.Rid} on {step.Node}{(step.Target is { } t ? $" to {t}" : "")})";
    }

    /// <summary>"svc1 start fs#0 on n1": the name of a step's job in the Hangfire dashboard.</summary>
    public static string Job(string service, PlanStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return $"{service} {Step(step)} on {step.Node}";
    }

    /// <summary>
    /// The name of the job that starts at <paramref name="first"/>: the steps it will run in one go when nothing interrupts
    /// them (the following steps on the same node that wait only for the one before), "svc1 start fs#0, fs#1, container#0 on n1".
    /// </summary>
    public static string Job(string service, IReadOnlyList<PlanStep> steps, int first)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var segment = new List<PlanStep> { steps[first] };
        for (var i = first + 1; i < steps.Count && steps[i].Node == steps[first].Node && steps[i].WaitsFor is [var only] && only == i - 1
             && steps.Skip(first + 1).All(s => s.Index == i || !s.WaitsFor.Contains(i - 1)); i++)
            segment.Add(steps[i]);
        if (segment.Count == 1)
            return Job(service, steps[first]);
        var words = segment.Select((s, k) => k > 0 && s.Action == segment[k - 1].Action && s.Target is null ? $"{s.Rid}" : Step(s));
        return $"{service} {string.Join(", ", words)} on {steps[first].Node}";
    }

    public static string Describe(StepState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return Describe(state.Step);
    }
}
