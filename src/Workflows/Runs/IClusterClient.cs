using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Workflows.Runs;

/// <summary>
/// Everything the CLI asks of the cluster. Today it reaches the database directly; the REST API
/// takes its place behind this same interface, so there is one path for every command.
/// </summary>
public interface IClusterClient
{
    Task<SubmitResult> SubmitAsync(SubmitRun request, CancellationToken cancellationToken);
    Task<Guid> RecordRefusalAsync(RecordRefusal refusal, CancellationToken cancellationToken);
    Task<IReadOnlyList<WorkflowRun>> ListRunsAsync(RunFilter filter, CancellationToken cancellationToken);
    Task<(WorkflowRun? Run, string? Problem)> FindRunAsync(string idOrPrefix, CancellationToken cancellationToken);
    Task<CancelResult> CancelAsync(CancelRun request, CancellationToken cancellationToken);
    Task<IReadOnlyList<Agents.AgentHeartbeat>> AgentsAsync(CancellationToken cancellationToken);

    Task<Services.ConfigureResult> ConfigureAsync(Services.ConfigureService request, CancellationToken cancellationToken);
    Task<string?> DeleteServiceAsync(Services.DeleteService request, CancellationToken cancellationToken);
    Task<IReadOnlyList<ServiceActivity>> ServicesAsync(CancellationToken cancellationToken);
    Task<ServiceActivity?> ServiceAsync(string service, CancellationToken cancellationToken);
    /// <summary>The service's config change history: versions with who, when and the diff.</summary>
    Task<IReadOnlyList<ServiceConfigured>> ConfigHistoryAsync(string service, CancellationToken cancellationToken);
    Task<IReadOnlyList<Monitoring.InstanceStatusReport>> InstanceStatusAsync(string service, CancellationToken cancellationToken);
}
