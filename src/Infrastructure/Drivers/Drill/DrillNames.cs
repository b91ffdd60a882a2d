using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using OpenSvc.Domain.Config;

namespace OpenSvc.Infrastructure.Drivers.Drill;

/// <summary>
/// Where and under which names a drill puts what it creates on a DR node: pure, so every drill driver (and the cleanup)
/// names the same things, and none of them is a name production or replication uses.
/// </summary>
public static class DrillNames
{
    /// <summary>A drill container: the production name with <c>.drill</c> appended (<c>svc1.container.0.drill</c>).</summary>
    public static string Container(string name) => name + ".drill";

    /// <summary>The label that marks a drill container, with the drill run's id as value.</summary>
    public const string Label = "com.opensvc.drill";

    /// <summary>
    /// The writable clone of a sync.btrfs copy: <c>&lt;btrfs top level&gt;/.osync/&lt;svc&gt;/&lt;rid&gt;/drill</c>, next to the
    /// <c>next</c> and <c>last</c> snapshots the sync rotates (which it never touches).
    /// </summary>
    public static string Clone(string topLevel, string service, string syncRid) => $"{topLevel.TrimEnd('/')}/.osync/{service}/{syncRid}/drill";

    /// <summary>Where an fs resource's clone is mounted during a drill: <c>&lt;var&gt;/drill/&lt;svc&gt;/&lt;rid&gt;</c>.</summary>
    public static string Mount(string varDir, string service, string fsRid) => $"{varDir.TrimEnd('/')}/drill/{service}/{fsRid}";

    /// <summary>
    /// The drill's isolated link on the node: one end of a veth pair whose other end (<see cref="LinkPeer"/>) goes nowhere,
    /// with no address and no uplink (<c>osdrl</c> + 10 hex of the service path, 15 characters at most); the drill's
    /// addresses are macvlans of it. A veth pair, not a dummy interface: every kernel that runs docker has veth, while
    /// the dummy driver is a module some kernels lack. Deleting either end removes both.
    /// </summary>
    public static string Link(string servicePath) => "osdrl" + Hash(servicePath);

    /// <summary>The other end of the isolated link's veth pair (<c>osdrp</c> + the same 10 hex), up so the link has carrier.</summary>
    public static string LinkPeer(string servicePath) => "osdrp" + Hash(servicePath);

    static string Hash(string servicePath) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"drill/{servicePath}")))[..10];

    /// <summary>
    /// A bind source under one of the service's fs mount points, moved to that fs's drill mount; a path under no fs is
    /// kept (a host file such as /etc/localtime). Null (with the fs) when the path is under an fs the drill has no clone of.
    /// </summary>
    public static (string? Source, FsResource? Fs) BindSource(string source, IReadOnlyList<FsResource> filesystems, IReadOnlySet<string> cloned, string varDir, string service)
    {
        ArgumentNullException.ThrowIfNull(filesystems);
        ArgumentNullException.ThrowIfNull(cloned);
        var holder = filesystems.Where(f => f.Mnt is { } m && IsUnder(source, m)).OrderByDescending(f => f.Mnt!.Length).FirstOrDefault();
        if (holder is null)
            return (source, null);
        if (!cloned.Contains(holder.Id.ToString()))
            return (null, holder);
        var rest = source.Length > holder.Mnt!.TrimEnd('/').Length ? source[holder.Mnt!.TrimEnd('/').Length..] : "";
        return (Mount(varDir, service, holder.Id.ToString()) + rest, holder);
    }

    /// <summary>A bind of <c>run_args</c>/<c>volume_mounts</c>, <c>SRC:DST[:OPTS]</c>, with its source replaced.</summary>
    public static string WithSource(string bind, string source)
    {
        ArgumentNullException.ThrowIfNull(bind);
        var colon = bind.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? bind : source + bind[colon..];
    }

    public static string SourceOf(string bind)
    {
        ArgumentNullException.ThrowIfNull(bind);
        var colon = bind.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? bind : bind[..colon];
    }

    static bool IsUnder(string path, string dir)
    {
        var d = dir.TrimEnd('/');
        return path == d || path.StartsWith(d + "/", StringComparison.Ordinal);
    }

    /// <summary>The bytes a block device has written since boot, from <c>/sys/block/NAME/stat</c> (sectors of 512 bytes), or null.</summary>
    public static long? BytesWritten(string device)
    {
        try
        {
            var real = new FileInfo(device).ResolveLinkTarget(true)?.FullName ?? device;
            var stat = File.ReadAllText($"/sys/block/{Path.GetFileName(real)}/stat");
            var fields = stat.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields.Length > 6 ? long.Parse(fields[6], CultureInfo.InvariantCulture) * 512 : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
