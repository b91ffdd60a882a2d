using OpenSvc.Domain.Config;

namespace OpenSvc.Domain.Tests.Config;

static class Seed
{
    public const string FailoverDockerBtrfs = "failover-docker-btrfs.conf";
    public const string FlexDocker = "flex-docker.conf";
    public const string FlexFailoverRsync = "flex-failover-rsync.conf";

    public static string Text(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "seed", name));

    public static ConfigDocument Parse(string name) => ConfigParser.Parse(Text(name), name);

    public static ResolvedService Resolve(string name, string node) =>
        ServiceResolver.Resolve(Parse(name), "svc1", new NodeName(node), new Dictionary<string, string>());

    public static ResolvedService ResolveText(string text, string node, IReadOnlyDictionary<string, string>? env = null) =>
        ServiceResolver.Resolve(ConfigParser.Parse(text, "svc1.conf"), "svc1", new NodeName(node), env ?? new Dictionary<string, string>());

    public static IReadOnlyList<ConfigProblem> Validate(string text) =>
        ConfigValidator.Validate(ConfigParser.Parse(text, "svc1.conf"), "svc1", new Dictionary<string, string>());
}
