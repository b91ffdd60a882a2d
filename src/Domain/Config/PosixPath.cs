namespace OpenSvc.Domain.Config;

/// <summary>Path-prefix (not string-prefix) tests on absolute POSIX paths.</summary>
public static class PosixPath
{
    /// <summary>True when <paramref name="path"/> is <paramref name="mount"/> or lies below it.</summary>
    public static bool IsUnder(string path, string mount)
    {
        var m = mount.TrimEnd('/');
        var p = path.TrimEnd('/');
        if (m.Length == 0)
            return path.StartsWith('/');
        return p == m || p.StartsWith(m + "/", StringComparison.Ordinal);
    }

    public static int Depth(string path) => path.TrimEnd('/').Count(c => c == '/');
}
