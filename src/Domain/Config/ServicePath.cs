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

    /// <summary>OpenSVC's docker container name: <c>svc1.container.0</c>, or <c>ns1..svc1.container.0</c>.</summary>
    public string ContainerName(ResourceId rid) =>
        Namespace is null ? $"{Name}.{rid.Group}.{rid.Index}" : $"{Namespace}..{Name}.{rid.Group}.{rid.Index}";

    public override string ToString() => Namespace is null ? Name : $"{Namespace}/{Name}";
}
