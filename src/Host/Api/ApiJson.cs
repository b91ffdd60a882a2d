using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSvc.Host.Api;

/// <summary>The API's JSON: web defaults (camelCase), enums as camelCase strings. The CLI client uses the same.</summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        o.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        return o;
    }
}

/// <summary>The body of an action request.</summary>
public sealed record ActionBody(string Node, string? To = null, string? Rid = null, string? Target = null, bool Force = false, string? Reason = null, string? Keep = null);

public sealed record CancelBody(string? Reason = null);

/// <summary>A freeze or thaw: optionally one node's instance only (services), and why.</summary>
public sealed record FreezeBody(string? Node = null, string? Reason = null);

/// <summary>A service's config in a request: the OpenSVC INI text as a JSON string (the API takes JSON bodies only).</summary>
public sealed record ConfigBody(string? Config)
{
    public const string Missing = "the body has no config: send {\"config\": \"<INI text>\"}";
}
