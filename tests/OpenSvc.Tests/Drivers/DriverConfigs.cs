using OpenSvc.Domain;
using OpenSvc.Domain.Config;

namespace OpenSvc.Tests.Drivers;

/// <summary>Resources resolved from small config texts, the way drivers get them.</summary>
static class DriverConfigs
{
    public static ResolvedService Resolve(string text, string node = "n1") =>
        ServiceResolver.Resolve(ConfigParser.Parse(text, "svc1.conf"), "svc1", new NodeName(node));

    public static T Resource<T>(string text, string rid, string node = "n1") where T : ServiceResource =>
        Resolve(text, node).Resource<T>(rid) ?? throw new InvalidOperationException($"{rid} did not resolve as {typeof(T).Name}");

    public static FsResource Fs(string body) => Resource<FsResource>($"[DEFAULT]\nnodes = n1 n2\n[fs#0]\n{body}\n", "fs#0");

    public static DockerContainer Container(string body, string extra = "") =>
        Resource<DockerContainer>($"[DEFAULT]\nnodes = n1 n2\n[container#0]\ntype = docker\n{body}\n{extra}\n", "container#0");
}
