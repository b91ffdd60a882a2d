using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Runs;

namespace OpenSvc.Host.WebConsole.Pages;

/// <summary>A run's timeline (what <c>opensvc run show</c> prints), its steps linked to their Hangfire jobs, refreshed while it runs.</summary>
public sealed class RunModel(IClusterClient cluster, HangfireJobs jobs, TimeProvider time) : PageModel
{
    public WorkflowRun Run { get; private set; } = null!;
    public IReadOnlyDictionary<int, long> Jobs { get; private set; } = new Dictionary<int, long>();
    public DateTimeOffset Now { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken ct) =>
        await LoadAsync(id, ct).ConfigureAwait(false) ? Page() : NotFound();

    /// <summary>The progress section alone: what the page's script polls while the run is in flight.</summary>
    public async Task<IActionResult> OnGetProgressAsync(string id, CancellationToken ct) =>
        await LoadAsync(id, ct).ConfigureAwait(false) ? Partial("_RunProgress", this) : NotFound();

    async Task<bool> LoadAsync(string id, CancellationToken ct)
    {
        Now = time.GetUtcNow();
        if ((await cluster.FindRunAsync(id, ct).ConfigureAwait(false)).Run is not { } run)
            return false;
        Run = run;
        Jobs = await jobs.OfRunAsync(run.Id, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>The job that ran a step: its own, else the job of the segment it ran in (the nearest earlier step on its node with a job).</summary>
    public long? JobOf(StepState step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (Jobs.TryGetValue(step.Step.Index, out var own))
            return own;
        if (step.Status is StepStatus.Pending)
            return null;
        for (var i = step.Step.Index - 1; i >= 0; i--)
        {
            if (Run.Steps[i].Step.Node != step.Step.Node)
                break;
            if (Jobs.TryGetValue(i, out var segment))
                return segment;
        }
        return null;
    }
}
