using System.Text.RegularExpressions;

namespace OpenSvc.Domain;

/// <summary>A cluster node name as written in <c>nodes</c>/<c>drpnodes</c>. Validated in one place.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(NodeNameJsonConverter))]
public readonly partial record struct NodeName
{
    public string Value { get; }

    public NodeName(string value)
    {
        if (!TryValidate(value, out var reason))
            throw new ArgumentException(reason, nameof(value));
        Value = value;
    }

    public static bool TryParse(string? value, out NodeName node)
    {
        node = default;
        if (value is null || !TryValidate(value, out _))
            return false;
        node = new NodeName(value);
        return true;
    }

    static bool TryValidate(string? value, out string reason)
    {
        reason = "";
        if (string.IsNullOrWhiteSpace(value))
        {
            reason = "a node name cannot be empty";
            return false;
        }
        if (!Pattern().IsMatch(value))
        {
            reason = $"'{value}' is not a valid node name (letters, digits, '.', '-', '_')";
            return false;
        }
        return true;
    }

    /// <summary>Hangfire queue names accept lowercase letters, digits, '_' and '-' only.</summary>
    public string QueueName => "node_" + Value.ToLowerInvariant().Replace('.', '_');

    public override string ToString() => Value;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")]
    private static partial Regex Pattern();
}
