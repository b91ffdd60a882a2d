using System.Net;
using System.Net.Sockets;

namespace OpenSvc.Domain.Config;

/// <summary>One ip keyword this agent cannot plumb: the keyword, why, and the fix.</summary>
public sealed record IpProblem(string Keyword, string Reason, string Fix);

/// <summary>
/// The address checks of an ip.docker resource, in one place: validation reports them with line and fix, the driver
/// refuses a resource that fails them. This agent plumbs an IPv4 address with a prefix length on a macvlan in bridge
/// mode; names are not resolved.
/// </summary>
public static class IpAddressing
{
    /// <summary>Modes this agent plumbs (OpenSVC's default, bridge, is a macvlan in bridge mode here).</summary>
    public static IReadOnlyList<string> Modes { get; } = ["bridge", "macvlan"];

    public static bool IsIpv4(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        // IPAddress.TryParse also reads "10" or "10.1" as shorthand addresses: only four dotted parts are an address here.
        if (string.IsNullOrWhiteSpace(text) || text.Count(c => c == '.') != 3 || !IPAddress.TryParse(text, out var parsed)
            || parsed.AddressFamily != AddressFamily.InterNetwork)
            return false;
        address = parsed;
        return true;
    }

    /// <summary>255.255.255.0 → 24; "24" → 24; null when unset or not a mask (an unset mask is refused, never taken as /32).</summary>
    public static int? PrefixLength(string? netmask)
    {
        if (string.IsNullOrWhiteSpace(netmask))
            return null;
        if (int.TryParse(netmask, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
            return n is >= 0 and <= 32 ? n : null;
        if (!IsIpv4(netmask, out var mask))
            return null;
        var bits = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(mask.GetAddressBytes());
        var length = System.Numerics.BitOperations.PopCount(bits);
        // Contiguous ones only.
        return length == 0 ? 0 : bits == uint.MaxValue << (32 - length) ? length : null;
    }

    /// <summary>Why ipname, netmask, gateway and mode cannot be plumbed; empty when they can.</summary>
    public static IReadOnlyList<IpProblem> Check(string? ipname, string? netmask, string? gateway, string mode)
    {
        var problems = new List<IpProblem>();
        var hasAddress = IsIpv4(ipname, out var address);
        if (string.IsNullOrWhiteSpace(ipname))
            problems.Add(new IpProblem("ipname", "ipname is not set: this agent plumbs the IPv4 address it names", "add ipname = <IPv4 address>"));
        else if (!hasAddress)
            problems.Add(new IpProblem("ipname", $"'{ValueReader.Shorten(ipname)}' is not an IPv4 address (names are not resolved here)",
                "write the address, e.g. ipname = 10.0.3.3"));

        var prefix = PrefixLength(netmask);
        if (string.IsNullOrWhiteSpace(netmask))
            problems.Add(new IpProblem("netmask", "netmask is not set: the address needs a prefix length", "add netmask = 255.255.255.0 (or 24)"));
        else if (prefix is null)
            problems.Add(new IpProblem("netmask", $"'{ValueReader.Shorten(netmask)}' is neither a dotted mask (255.255.255.0) nor a prefix length (24)",
                "write e.g. netmask = 255.255.255.0 or netmask = 24"));

        if (!string.IsNullOrWhiteSpace(gateway))
        {
            if (!IsIpv4(gateway, out var via))
                problems.Add(new IpProblem("gateway", $"'{ValueReader.Shorten(gateway)}' is not an IPv4 address", "write the router's address, or remove gateway"));
            else if (hasAddress && prefix is { } length && !SameSubnet(address, via, length))
                problems.Add(new IpProblem("gateway", $"{via} is outside {Network(address, length)}/{length}: the default route through it cannot be added",
                    $"use a gateway inside {Network(address, length)}/{length}, or fix ipname/netmask"));
        }

        if (!Modes.Contains(mode))
            problems.Add(new IpProblem("mode", $"mode '{ValueReader.Shorten(mode)}' is not supported (this agent plumbs a macvlan in bridge mode)", "mode = bridge"));
        return problems;
    }

    static uint Bits(IPAddress address) => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

    static uint Mask(int length) => length == 0 ? 0 : uint.MaxValue << (32 - length);

    static bool SameSubnet(IPAddress a, IPAddress b, int length) => (Bits(a) & Mask(length)) == (Bits(b) & Mask(length));

    static IPAddress Network(IPAddress address, int length)
    {
        var bytes = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(bytes, Bits(address) & Mask(length));
        return new IPAddress(bytes);
    }
}
