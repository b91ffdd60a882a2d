using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Drivers;
using OpenSvc.Workflows.Drivers;
using Xunit;

namespace OpenSvc.Tests.Drivers;

public sealed class DriverCatalogTests
{
    [Fact]
    public void every_catalog_entry_gets_the_one_node_driver_that_implements_its_record_without_a_registration_line()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddNodeDrivers();
        using var provider = services.BuildServiceProvider();

        var registry = provider.GetRequiredService<DriverRegistry>();

        registry.Known.Should().BeEquivalentTo(DriverCatalog.All.Select(k => k.Name));
        foreach (var kind in DriverCatalog.All)
            registry.Find(kind.Name)!.Kind.Should().Be(kind);
    }

    [Fact]
    public void each_entry_builds_its_own_record_and_lists_its_keywords_in_the_keyword_table()
    {
        foreach (var kind in DriverCatalog.All)
        {
            kind.ResourceType.Should().NotBe<ServiceResource>($"{kind.Name} names the record its driver receives");
            kind.Keywords.Should().NotBeEmpty($"{kind.Name} accepts keywords of its own or of its group");
            foreach (var keyword in kind.Keywords)
                KeywordTable.Find(kind.Group, kind.Type, keyword.Name).Should().Be(keyword, $"{kind.Name}.{keyword.Name} is in the table");
        }
    }
}
