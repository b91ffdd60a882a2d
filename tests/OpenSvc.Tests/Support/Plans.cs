using OpenSvc.Domain;
using OpenSvc.Domain.Planning;

namespace OpenSvc.Tests.Support;

/// <summary>Small hand-made plans for engine tests (the planner has its own tests).</summary>
public static class Plans
{
    public static PlanStep Step(int index, string node, string rid, ResourceAction action, StepPolicy? policy = null, bool compensable = true) =>
        new(index, new NodeName(node), ResourceId.Parse(rid), ResourceId.Parse(rid).Group == "container" ? "container.docker" : ResourceId.Parse(rid).Group,
            action, index == 0 ? [] : [index - 1], policy ?? new StepPolicy(TimeSpan.FromSeconds(30), 1, TimeSpan.FromMilliseconds(100)),
            compensable && action == ResourceAction.Start ? ResourceAction.Stop : null);

    public static Plan Start(string service, params PlanStep[] steps) =>
        new(service, ServiceAction.Start, steps[0].Node, null, true, steps);
}
