using System.Security.Cryptography;
using System.Text;
using OpenSvc.Domain.Config;

namespace OpenSvc.Infrastructure.Drivers.Ip.Docker;

/// <summary>An ip.docker resource's values, checked: what the commands are built from.</summary>
public sealed record IpPlumbing(string Address, int PrefixLength, string HostDevice, string TempName, string NsDevice, string? Gateway, string Mode)
{
    public string Cidr => $"{Address}/{PrefixLength}";
}

/// <summary>The ip.docker driver's command lines: pure, argv elements only, table-tested.</summary>
public static class IpCommands
{
    /// <summary>
    /// Checks the keywords (the domain's <see cref="IpAddressing"/>, which validation reports too) and names the interfaces;
    /// a list of reasons when the resource is not usable.
    /// </summary>
    public static (IpPlumbing? Plumbing, IReadOnlyList<string> Errors) Plan(DockerIp ip, string service)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ip.IpDev))
            errors.Add($"{ip.Id}: ipdev is not set");
        errors.AddRange(IpAddressing.Check(ip.IpName, ip.Netmask, ip.Gateway, ip.Mode).Select(p => $"{ip.Id}: {p.Reason} (fix: {p.Fix})"));
        if (errors.Count > 0)
            return (null, errors);
        var nsdev = ip.Keywords.GetValueOrDefault("nsdev") is { Length: > 0 } d ? d : "eth0";
        return (new IpPlumbing(ip.IpName!, IpAddressing.PrefixLength(ip.Netmask)!.Value, ip.IpDev!, TempName(service, ip.Id.ToString()), nsdev, ip.Gateway, ip.Mode), errors);
    }

    /// <summary>A node-unique interface name (15 chars max) for the macvlan before it moves into the container.</summary>
    public static string TempName(string service, string rid)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{service}/{rid}"));
        return "osv" + Convert.ToHexStringLower(hash)[..10];
    }

    public static IReadOnlyList<string> HostLinkShow(string name) => ["ip", "-o", "link", "show", "dev", name];

    public static IReadOnlyList<string> HostLinkDelete(string name) => ["ip", "link", "del", "dev", name];

    public static IReadOnlyList<string> CreateMacvlan(IpPlumbing p) =>
        ["ip", "link", "add", "link", p.HostDevice, "name", p.TempName, "type", "macvlan", "mode", "bridge"];

    public static IReadOnlyList<string> MoveToNetns(IpPlumbing p, long pid) =>
        ["ip", "link", "set", "dev", p.TempName, "netns", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    /// <summary>The commands run inside the container's network namespace, in order.</summary>
    public static IReadOnlyList<IReadOnlyList<string>> ConfigureInNetns(IpPlumbing p, long pid)
    {
        var list = new List<IReadOnlyList<string>>
        {
            InNetns(pid, "ip", "link", "set", "dev", p.TempName, "name", p.NsDevice),
            InNetns(pid, "ip", "addr", "add", p.Cidr, "dev", p.NsDevice),
            InNetns(pid, "ip", "link", "set", "dev", p.NsDevice, "up"),
        };
        if (p.Gateway is { } gw)
            list.Add(InNetns(pid, "ip", "route", "replace", "default", "via", gw, "dev", p.NsDevice));
        return list;
    }

    /// <summary>
    /// A gratuitous ARP from inside the namespace (OpenSVC's arp announce): the macvlan gets a new MAC address at every
    /// start, and neighbours that cached the old one (the service ran here or elsewhere before) would otherwise keep
    /// sending to it until their entry expires. <paramref name="arping"/> is the argv prefix: <c>arping</c> (iputils)
    /// or <c>busybox arping</c>; both take these flags.
    /// </summary>
    public static IReadOnlyList<string> Announce(IpPlumbing p, long pid, IReadOnlyList<string> arping) =>
        InNetns(pid, [.. arping, "-U", "-c", "1", "-w", "1", "-I", p.NsDevice, "-s", p.Address, p.Address]);

    /// <summary>The arping to use: iputils' if on PATH, else busybox's applet, else none.</summary>
    public static IReadOnlyList<string>? FindArping(string? path)
    {
        var dirs = (path ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries);
        if (dirs.Any(d => File.Exists(Path.Combine(d, "arping"))))
            return ["arping"];
        if (dirs.Any(d => File.Exists(Path.Combine(d, "busybox"))))
            return ["busybox", "arping"];
        return null;
    }

    public static IReadOnlyList<string> ShowAddresses(long pid) => InNetns(pid, "ip", "-o", "-4", "addr", "show");

    public static IReadOnlyList<string> DeleteLink(long pid, string device) => InNetns(pid, "ip", "link", "del", "dev", device);

    public static IReadOnlyList<string> DeleteAddress(long pid, string cidr, string device) => InNetns(pid, "ip", "addr", "del", cidr, "dev", device);

    /// <summary><c>nsenter --net=/proc/PID/ns/net CMD...</c>: enter only the container's network namespace.</summary>
    public static IReadOnlyList<string> InNetns(long pid, params string[] argv) =>
        ["nsenter", $"--net=/proc/{pid.ToString(System.Globalization.CultureInfo.InvariantCulture)}/ns/net", "--", .. argv];

    /// <summary>From <c>ip -o -4 addr show</c>: the device holding <paramref name="address"/>, or null.</summary>
    public static string? DeviceWithAddress(string ipAddrOutput, string address)
    {
        foreach (var line in ipAddrOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "2: eth0    inet 10.206.0.50/24 brd 10.206.0.255 scope global eth0\       valid_lft forever ..."
            var f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var inet = Array.IndexOf(f, "inet");
            if (inet < 2 || inet + 1 >= f.Length)
                continue;
            var cidr = f[inet + 1];
            var slash = cidr.IndexOf('/');
            if ((slash < 0 ? cidr : cidr[..slash]) == address)
                return f[1].TrimEnd(':').Split('@')[0];
        }
        return null;
    }
}
