using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

public sealed class ServicePathTests
{
    [Theory]
    [InlineData("svc1")]
    [InlineData("ns1/svc1")]
    [InlineData("web-front_2.prod")]
    public void ordinary_names_are_valid(string name) => ServicePath.Invalid(name).Should().BeNull();

    [Theory]
    [InlineData("../../etc", "more than one '/'")]
    [InlineData("../etc", "start each part with a letter or digit")]
    [InlineData("a..b", "may not contain '..'")]
    [InlineData("/x", "empty or over-long part")]
    [InlineData("a/b/c", "more than one '/'")]
    [InlineData(".hidden", "start each part with a letter or digit")]
    [InlineData("svc 1", "may only use")]
    [InlineData("", "a service name is required")]
    public void names_that_would_escape_a_path_or_break_a_container_name_are_refused(string name, string reason) =>
        ServicePath.Invalid(name).Should().Contain(reason);
}
