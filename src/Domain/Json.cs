using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenSvc.Domain;

/// <summary>Stores a <see cref="NodeName"/> as a plain JSON string ("n1"), so events and plans read naturally.</summary>
public sealed class NodeNameJsonConverter : JsonConverter<NodeName>
{
    public override NodeName Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(reader.GetString() ?? throw new JsonException("a node name cannot be null"));

    public override void Write(Utf8JsonWriter writer, NodeName value, JsonSerializerOptions options) => writer.WriteStringValue(value.Value);
}

/// <summary>Stores a <see cref="ResourceId"/> as its text form ("fs#0").</summary>
public sealed class ResourceIdJsonConverter : JsonConverter<ResourceId>
{
    public override ResourceId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ResourceId.TryParse(reader.GetString(), out var rid) ? rid : throw new JsonException($"'{reader.GetString()}' is not a resource id");

    public override void Write(Utf8JsonWriter writer, ResourceId value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
