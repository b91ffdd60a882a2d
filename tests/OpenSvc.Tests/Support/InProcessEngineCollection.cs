using Xunit;

namespace OpenSvc.Tests.Support;

/// <summary>
/// Test classes that host Hangfire servers inside the test process run one at a time: Hangfire keeps some
/// process-wide state (JobStorage.Current, the queue's in-process wake-up), so two storages in one process
/// steal each other's wake-ups. Production runs one storage per process.
/// </summary>
[CollectionDefinition(Name)]
public sealed class InProcessEngineCollection
{
    public const string Name = "in-process engine";
}
