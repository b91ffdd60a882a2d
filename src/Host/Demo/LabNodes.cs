namespace OpenSvc.Host.Demo;

/// <summary>
/// The lab's <c>LAB_DIR/nodes.env</c>, written by <c>lab/lab.sh up</c>: each node's block device and address
/// (<c>LAB_N1_DEV</c>, <c>LAB_N1_ADDR</c>, ...). Read here only, by the demo, the sync benchmark and the tests' lab.
/// </summary>
public static class LabNodes
{
    public static IReadOnlyDictionary<string, string> Read(string labDir) =>
        File.ReadAllLines(Path.Combine(labDir, "nodes.env"))
            .Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv[1]);
}
