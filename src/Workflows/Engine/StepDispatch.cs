using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Engine;

/// <summary>Enqueues every step an event batch scheduled, after that batch was committed.</summary>
public static class StepDispatch
{
    public static void DispatchAll(IStepDispatcher dispatcher, IFaultInjector faults, string service, Guid runId,
        IEnumerable<object> committed, IReadOnlyList<PlanStep> steps)
    {
        foreach (var s in committed.OfType<StepScheduled>())
        {
            faults.At(FaultPoint.AfterScheduleBeforeEnqueue, runId, s.Step);
            var step = steps.FirstOrDefault(p => p.Index == s.Step);
            dispatcher.Dispatch(runId, s.Step, s.Attempt, step?.Action ?? ResourceAction.Start, s.Node, s.NotBefore, Label(service, step, s.Node, s.Step));
        }
    }

    public static string Label(string service, PlanStep? step, Domain.NodeName node, int index) =>
        step is null
            ? $"{service} step {index + 1} on {node}"
            : $"{service} {RunDecider.ActionName(step.Action)} {step.Rid}{(step.Target is { } t ? $" to {t}" : "")} on {node}";
}
