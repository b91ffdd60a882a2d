using System.Reflection;
using FluentAssertions;
using Xunit;

namespace OpenSvc.Tests.Architecture;

/// <summary>Dependencies point one way: Domain (BCL only) ← Workflows ← Infrastructure ← Host.</summary>
public sealed class LayerTests
{
    static readonly Assembly Domain = typeof(OpenSvc.Domain.NodeName).Assembly;
    static readonly Assembly Workflows = typeof(OpenSvc.Workflows.Runs.SubmitRun).Assembly;
    static readonly Assembly Infrastructure = typeof(OpenSvc.Infrastructure.Engine.EngineServices).Assembly;

    static IEnumerable<string> References(Assembly a) => a.GetReferencedAssemblies().Select(r => r.Name!);

    [Fact]
    public void the_domain_references_nothing_but_the_base_class_library()
    {
        References(Domain).Should().OnlyContain(n => n == "netstandard" || n == "mscorlib" || n.StartsWith("System", StringComparison.Ordinal),
            "the domain is pure: parsing, planning and deciding need no package");
    }

    [Fact]
    public void workflows_know_no_driver_transport_or_host()
    {
        References(Workflows).Should().NotContain(n =>
            n.StartsWith("OpenSvc.Infrastructure", StringComparison.Ordinal) || n == "opensvc" ||
            n.StartsWith("Renci", StringComparison.Ordinal) || n.StartsWith("Docker.DotNet", StringComparison.Ordinal) ||
            n.StartsWith("Hangfire.PostgreSql", StringComparison.Ordinal) || n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        References(Workflows).Should().Contain("OpenSvc.Domain");
    }

    [Fact]
    public void infrastructure_does_not_reach_up_into_the_host()
    {
        References(Infrastructure).Should().NotContain(n => n == "opensvc" || n.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
    }
}
