using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Monitoring;
using OpenSvc.Workflows.Services;

namespace OpenSvc.Workflows.Runs;

/// <summary>
/// Everything an operator asks of the cluster. The REST API serves it from the database
/// (DirectClusterClient); the CLI reaches it through the API (ApiClusterClient), so every command takes
/// the same authorization path.
/// </summary>
public interface IClusterClient
{
    Task<ConfigureResult> ConfigureAsync(ConfigureService request, CancellationToken cancellationToken);
    Task<DeleteResult> DeleteServiceAsync(DeleteService request, CancellationToken cancellationToken);
    Task<IReadOnlyList<ServiceActivity>> ServicesAsync(CancellationToken cancellationToken);
    Task<ServiceActivity?> ServiceAsync(string service, CancellationToken cancellationToken);
    /// <summary>The service's config change history: versions with who, when and the diff.</summary>
    Task<IReadOnlyList<ServiceConfigured>> ConfigHistoryAsync(string service, CancellationToken cancellationToken);
    Task<ServiceStatusView?> StatusAsync(string service, CancellationToken cancellationToken);

    /// <summary>Whether the service can be activated on a node now (default: its first DR node), check by check; null: no such service.</summary>
    Task<Readiness?> ReadinessAsync(GetReadiness request, CancellationToken cancellationToken);

    /// <summary>Plan an action against the cluster's facts without running it.</summary>
    Task<ActionResult> PlanAsync(ActionRequest request, CancellationToken cancellationToken);
    /// <summary>Plan and run an action as a workflow (or record its refusal).</summary>
    Task<ActionResult> RequestActionAsync(ActionRequest request, CancellationToken cancellationToken);

    Task<IReadOnlyList<WorkflowRun>> ListRunsAsync(RunFilter filter, CancellationToken cancellationToken);
    Task<(WorkflowRun? Run, string? Problem)> FindRunAsync(string idOrPrefix, CancellationToken cancellationToken);
    Task<CancelResult> CancelAsync(CancelRun request, CancellationToken cancellationToken);

    /// <summary>Takeovers, switches and drills with their RTO and RPO.</summary>
    Task<IReadOnlyList<RecoveryReportRow>> RecoveryReportAsync(Reports.GetRecoveryReport request, CancellationToken cancellationToken);

    Task<IReadOnlyList<AgentStatus>> AgentsAsync(CancellationToken cancellationToken);

    /// <summary>Freeze or thaw a service, or its instance on one node (the orchestrator's automatic starts only).</summary>
    Task<FreezeResult> FreezeAsync(FreezeService request, CancellationToken cancellationToken);

    /// <summary>Freeze or thaw a node: no service starts there by itself while it is frozen.</summary>
    Task<FreezeResult> FreezeNodeAsync(FreezeNode request, CancellationToken cancellationToken);
}
