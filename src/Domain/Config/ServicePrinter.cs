using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpenSvc.Domain.Config;

/// <summary>
/// Renders a resolved service as one node sees it: human text, or stable JSON whose fields are
/// documented in docs/config-print.md (field order is fixed; keywords are sorted by name).
/// </summary>
public static class ServicePrinter
{
    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Text(ResolvedService service)
    {
        var text = new StringBuilder();
        text.AppendLine($"service {service.Path} on {service.Node} ({RoleText(service.Role)})");
        text.AppendLine($"  topology:     {TopologyText(service.Topology)}");
        text.AppendLine($"  nodes:        {string.Join(' ', service.Nodes)}");
        text.AppendLine($"  drpnodes:     {string.Join(' ', service.DrpNodes)}");
        text.AppendLine($"  flex_primary: {service.FlexPrimary?.Value ?? "-"}");
        text.AppendLine($"  orchestrate:  {service.Orchestrate.ToString().ToLowerInvariant()}");
        foreach (var resource in service.Resources)
        {
            var flags = new List<string>();
            if (resource.Standby)
                flags.Add("standby");
            if (resource.Disabled)
                flags.Add("disabled");
            if (resource.Optional)
                flags.Add("optional");
            text.AppendLine($"  {resource.Id} {resource.Driver}{(flags.Count == 0 ? "" : " [" + string.Join(", ", flags) + "]")}");
            foreach (var (name, value) in resource.Keywords)
                text.AppendLine($"    {name} = {value.Replace("\n", "\n      ", StringComparison.Ordinal)}");
            switch (resource)
            {
                case SyncResource sync:
                    text.AppendLine($"    -> targets: {(sync.Targets.Count == 0 ? "(none)" : string.Join(' ', sync.Targets))}");
                    if (sync is DockerSync docker)
                        text.AppendLine($"    -> dstfs: {docker.DstFs ?? "(none)"}");
                    break;
                case DockerContainer container:
                    text.AppendLine($"    -> name: {container.Name}");
                    text.AppendLine($"    -> network: {container.EffectiveNetwork ?? "(default)"}");
                    break;
            }
        }
        if (service.ConfigSyncKeywords is { } i0)
        {
            text.AppendLine($"  {ConfigSync.Section} config sync [ignored: the config store distributes configs to every agent]");
            foreach (var (name, value) in i0)
                text.AppendLine($"    {name} = {value} (ignored)");
        }
        if (service.Problems.Count > 0)
        {
            text.AppendLine("problems:");
            foreach (var problem in service.Problems)
                text.AppendLine($"  {problem}");
        }
        return text.ToString();
    }

    public static string Json(ResolvedService service) => ToJson(service).ToJsonString(JsonOptions);

    public static JsonObject ToJson(ResolvedService service) => new()
    {
        ["name"] = service.Name,
        ["namespace"] = service.Path.Namespace,
        ["node"] = service.Node.Value,
        ["role"] = RoleText(service.Role),
        ["topology"] = TopologyText(service.Topology),
        ["nodes"] = Array(service.Nodes.Select(n => n.Value)),
        ["drpnodes"] = Array(service.DrpNodes.Select(n => n.Value)),
        ["flexPrimary"] = service.FlexPrimary?.Value,
        ["drpFlexPrimary"] = service.DrpFlexPrimary?.Value,
        ["flexMin"] = service.FlexMin,
        ["flexMax"] = service.FlexMax,
        ["flexTarget"] = service.FlexTarget,
        ["orchestrate"] = service.Orchestrate.ToString().ToLowerInvariant(),
        ["rollback"] = service.Rollback,
        ["containerDataDir"] = service.ContainerDataDir,
        ["bwlimitKbps"] = service.BwLimitKbps,
        ["syncMaxDelaySeconds"] = service.SyncMaxDelaySeconds,
        ["resources"] = new JsonArray(service.Resources.Select(r => (JsonNode)ResourceJson(r)).ToArray()),
        ["problems"] = new JsonArray(service.Problems.Select(p => (JsonNode)ProblemJson(p)).ToArray()),
    };

    static JsonObject ResourceJson(ServiceResource resource)
    {
        var json = new JsonObject
        {
            ["rid"] = resource.Id.ToString(),
            ["driver"] = resource.Driver,
            ["standby"] = resource.Standby,
            ["disabled"] = resource.Disabled,
            ["optional"] = resource.Optional,
            ["tags"] = Array(resource.Tags),
            ["keywords"] = new JsonObject(resource.Keywords.Select(k => KeyValuePair.Create(k.Key, (JsonNode?)JsonValue.Create(k.Value)))),
        };
        switch (resource)
        {
            case SyncResource sync:
                json["targetTokens"] = Array(sync.TargetTokens);
                json["targets"] = Array(sync.Targets.Select(n => n.Value));
                json["schedule"] = sync.Schedule;
                if (sync is DockerSync docker)
                    json["dstfs"] = docker.DstFs;
                break;
            case DockerContainer container:
                json["containerName"] = container.Name;
                json["runArgs"] = Array(container.RunArgs);
                json["command"] = Array(container.Command);
                json["network"] = container.EffectiveNetwork;
                json["joinsNetworkOf"] = container.JoinsNetworkOf?.ToString();
                break;
        }
        return json;
    }

    static JsonObject ProblemJson(ConfigProblem problem) => new()
    {
        ["file"] = problem.File,
        ["line"] = problem.Line,
        ["section"] = problem.Section,
        ["keyword"] = problem.Keyword,
        ["severity"] = problem.Severity.ToString().ToLowerInvariant(),
        ["reason"] = problem.Reason,
        ["fix"] = problem.Fix,
        ["node"] = problem.Node?.Value,
    };

    static JsonArray Array(IEnumerable<string> items) => new(items.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());

    static string RoleText(NodeRole role) => role switch
    {
        NodeRole.PrimaryNode => "primary node",
        NodeRole.DrpNode => "drp node",
        _ => "not a member",
    };

    static string TopologyText(Topology topology) => topology == Topology.Flex ? "flex" : "failover";
}
