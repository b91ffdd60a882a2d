namespace OpenSvc.Domain;

/// <summary>A resource id such as <c>fs#0</c>: a driver group, '#', and a free-text index.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(ResourceIdJsonConverter))]
public readonly record struct ResourceId
{
    public string Group { get; }
    public string Index { get; }

    public ResourceId(string group, string index)
    {
        if (string.IsNullOrEmpty(group) || group.Contains('#'))
            throw new ArgumentException($"'{group}' is not a resource group", nameof(group));
        if (string.IsNullOrEmpty(index))
            throw new ArgumentException("a resource id needs an index after '#'", nameof(index));
        Group = group;
        Index = index;
    }

    public static bool TryParse(string? text, out ResourceId rid)
    {
        rid = default;
        if (string.IsNullOrEmpty(text))
            return false;
        var hash = text.IndexOf('#');
        if (hash <= 0 || hash == text.Length - 1)
            return false;
        rid = new ResourceId(text[..hash], text[(hash + 1)..]);
        return true;
    }

    public static ResourceId Parse(string text) =>
        TryParse(text, out var rid) ? rid : throw new FormatException($"'{text}' is not a resource id (expected group#index)");

    public override string ToString() => $"{Group}#{Index}";
}
