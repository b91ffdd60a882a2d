using System.Security.Cryptography;
using System.Text;

namespace OpenSvc.Infrastructure.Execution.Ssh;

/// <summary>One key line of a known_hosts file: the host patterns (or a hashed host) and the key.</summary>
public sealed record KnownHostKey(string KeyType, byte[] Key, string Hosts);

/// <summary>
/// OpenSSH known_hosts lookup: plain names and addresses (comma lists, <c>[host]:port</c>), hashed entries
/// (<c>|1|salt|hash</c>), <c>@revoked</c> markers, negated patterns (<c>!name</c>, which reject the line for that host);
/// wildcard patterns only in negations (they can only take trust away), certificates not at all.
/// </summary>
public sealed class KnownHosts
{
    readonly List<(KnownHostKey Key, bool Revoked)> _entries;

    KnownHosts(List<(KnownHostKey, bool)> entries) => _entries = entries;

    public static KnownHosts Load(string path) =>
        Parse(File.Exists(path) ? File.ReadAllLines(path) : []);

    public static KnownHosts Parse(IEnumerable<string> lines)
    {
        var entries = new List<(KnownHostKey, bool)>();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var revoked = false;
            if (fields[0].StartsWith('@'))
            {
                if (fields[0] == "@cert-authority")
                    continue;
                revoked = fields[0] == "@revoked";
                fields = fields[1..];
            }
            if (fields.Length < 3)
                continue;
            byte[] key;
            try
            {
                key = Convert.FromBase64String(fields[2]);
            }
            catch (FormatException)
            {
                continue;
            }
            entries.Add((new KnownHostKey(fields[1], key, fields[0]), revoked));
        }
        return new KnownHosts(entries);
    }

    /// <summary>The keys listed for a host (by the name or address it was reached with) and port.</summary>
    public IReadOnlyList<KnownHostKey> For(string host, int port) =>
        _entries.Where(e => !e.Revoked && Matches(e.Key.Hosts, host, port)).Select(e => e.Key).ToList();

    /// <summary>True when the key is explicitly revoked.</summary>
    public bool IsRevoked(byte[] key) => _entries.Any(e => e.Revoked && e.Key.Key.AsSpan().SequenceEqual(key));

    /// <summary>
    /// As OpenSSH's match_hostname: a negated pattern (<c>!pattern</c>, wildcards allowed) that matches rejects the whole
    /// line for that host, whatever its other patterns say; otherwise the line matches when a plain pattern equals the name.
    /// </summary>
    static bool Matches(string hosts, string host, int port)
    {
        var name = port == 22 ? host : $"[{host}]:{port}";
        if (hosts.StartsWith("|1|", StringComparison.Ordinal))
            return HashedMatches(hosts, name);
        var matched = false;
        foreach (var pattern in hosts.Split(','))
        {
            if (pattern.StartsWith('!'))
            {
                if (Glob(pattern[1..], name))
                    return false;
            }
            else if (string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase))
            {
                matched = true;
            }
        }
        return matched;
    }

    /// <summary>OpenSSH's pattern match: '*' any run, '?' one character, case-insensitive.</summary>
    static bool Glob(string pattern, string name)
    {
        int p = 0, n = 0, star = -1, mark = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || char.ToLowerInvariant(pattern[p]) == char.ToLowerInvariant(name[n])))
            {
                p++;
                n++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = n;
            }
            else if (star >= 0)
            {
                p = star + 1;
                n = ++mark;
            }
            else
            {
                return false;
            }
        }
        while (p < pattern.Length && pattern[p] == '*')
            p++;
        return p == pattern.Length;
    }

    static bool HashedMatches(string entry, string name)
    {
        var parts = entry.Split('|');
        if (parts.Length != 4)
            return false;
        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var expected = Convert.FromBase64String(parts[3]);
#pragma warning disable CA5350 // OpenSSH's hashed known_hosts format is HMAC-SHA1 of the host name: reading it needs SHA-1.
            var actual = HMACSHA1.HashData(salt, Encoding.UTF8.GetBytes(name));
#pragma warning restore CA5350
            return CryptographicOperations.FixedTimeEquals(actual, expected);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>OpenSSH's fingerprint form: SHA256: and unpadded base64 of the key blob.</summary>
    public static string Fingerprint(byte[] key) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(key)).TrimEnd('=');
}
