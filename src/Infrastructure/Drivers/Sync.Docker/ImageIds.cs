namespace OpenSvc.Infrastructure.Drivers.Sync.Docker;

/// <summary>
/// Image ids compared across nodes. OpenSVC stripped <c>sha256:</c> on one side only and so re-sent every
/// image every time; here both sides go through <see cref="Normalize"/>.
/// </summary>
public static class ImageIds
{
    public static string Normalize(string id)
    {
        var t = id.Trim().ToLowerInvariant();
        return t.StartsWith("sha256:", StringComparison.Ordinal) ? t["sha256:".Length..] : t;
    }

    /// <summary>The ids printed one per line by <c>docker images -q --no-trunc</c> (or <c>image inspect --format {{.Id}}</c>).</summary>
    public static IReadOnlySet<string> ParseList(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Normalize).Where(i => i.Length > 0).ToHashSet(StringComparer.Ordinal);
}
