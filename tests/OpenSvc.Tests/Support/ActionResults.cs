using OpenSvc.Workflows.Runs;

namespace OpenSvc.Tests.Support;

public static class ActionResults
{
    /// <summary>The run an action result names: the accepted run, or the refusal recorded as a run.</summary>
    public static Guid RunId(this ActionResult result) => result switch
    {
        ActionAccepted { RunId: { } id } => id,
        ActionRefused { RunId: { } id } => id,
        _ => throw new Xunit.Sdk.XunitException($"expected a run id, got {result}"),
    };
}
