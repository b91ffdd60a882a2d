namespace OpenSvc.Tests.Support;

/// <summary>
/// Lab nodes have private /tmp, /run and /srv, and a checkout (CI's included) may live under /tmp: the
/// built product is copied under the lab's directory, which every node sees, before a node runs it.
/// </summary>
public static class LabBinaries
{
    static readonly Lock Gate = new();

    public static string OpensvcDll(string labDir)
    {
        var target = Path.Combine(labDir, "bin");
        lock (Gate)
        {
            var marker = Path.Combine(target, ".copied-from");
            var source = AppContext.BaseDirectory;
            var stamp = source + "|" + File.GetLastWriteTimeUtc(Path.Combine(source, "opensvc.dll")).Ticks;
            if (!File.Exists(marker) || File.ReadAllText(marker) != stamp)
            {
                if (Directory.Exists(target))
                    Directory.Delete(target, recursive: true);
                Copy(source, target);
                File.WriteAllText(marker, stamp);
            }
        }
        return Path.Combine(target, "opensvc.dll");
    }

    static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        foreach (var dir in Directory.GetDirectories(from))
            Copy(dir, Path.Combine(to, Path.GetFileName(dir)));
    }
}
