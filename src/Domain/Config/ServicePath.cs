namespace OpenSvc.Domain.Config;

/// <summary>A service name with its optional namespace: <c>svc1</c> (root namespace) or <c>ns1/svc1</c>.</summary>
public readonly record struct ServicePath(string Name, string? Namespace)
{
    public static ServicePath Parse(string? text)
    {
        text ??= "";
        var slash = text.IndexOf('/');
        if (slash < 0)
            return new ServicePath(text, null);
        var ns = text[..slash];
        return new ServicePath(text[(slash + 1)..], ns.Length == 0 || ns == "root" ? null : ns);
    }

    /// <summary>
    /// Why <paramref name="text"/> is not a usable service name, or null. A name (and its optional namespace) is
    /// letters, digits, '-', '_' and '.', starting with a letter or digit: it ends up in paths on every node
    /// (<c>svc/&lt;name&gt;/docker.sock</c>) and in container names, so no "..", no empty segment, one '/' at most.
    /// </summary>
    public static string? Invalid(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return "a service name is required";
        var segments = text.Split('/');
        if (segments.Length > 2)
            return $"'{text}' has more than one '/': a service name is NAME or NAMESPACE/NAME";
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment.Length > 63)
                return $"'{text}' has an empty or over-long part (1 to 63 characters each)";
            if (!char.IsAsciiLetterOrDigit(segment[0]))
                return $"'{text}' must start each part with a letter or digit";
            if (segment.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
                return $"'{text}' may only use letters, digits, '-', '_' and '.'";
            if (segment.Contains(".."))
                return $"'{text}' may not contain '..'";
        }
        return null;
    }

    /// <summary>OpenSVC's docker container name: <c>svc1.container.0</c>, or <c>ns1..svc1.container.0</c>.</summary>
    public string ContainerName(ResourceId rid) =>
        Namespace is null ? $"{Name}.{rid.Group}.{rid.Index}" : $"{Namespace}..{Name}.{rid.Group}.{rid.Index}";

    /// <summary>
    /// The service's id when DEFAULT.id is not set: a UUID derived from the path (SHA-256 truncated, version nibble 8),
    /// the same on every node. OpenSVC's <c>{id}</c> and the containers' com.opensvc.id label.
    /// </summary>
    public string NameBasedId()
    {
        var bytes = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("opensvc:" + ToString()))[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true).ToString();
    }

    public override string ToString() => Namespace is null ? Name : $"{Namespace}/{Name}";
}
