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
                Host.Demo.DemoRun.CopyTree(source, target);
                File.WriteAllText(marker, stamp);
            }
        }
        return Path.Combine(target, "opensvc.dll");
    }
}
