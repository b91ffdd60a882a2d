namespace OpenSvc.Domain.Config;

/// <summary>
/// rsync options a sync.rsync <c>options</c> value may not carry, because they replace what the agent guarantees about
/// the transport: its ssh command line (host keys checked against known_hosts, batch mode, its key: <c>-e</c>,
/// <c>--rsh</c>), the command run on the other side (<c>--rsync-path</c>, <c>-M</c>/<c>--remote-option</c>), or the
/// transport itself (<c>--daemon</c>, <c>--connect-program</c>, <c>--server</c>/<c>--sender</c>), or a bare <c>--</c>, after
/// which the agent's own options would be read as file names. Pure, table-tested.
/// </summary>
public static class RsyncTransport
{
    static readonly string[] LongOptions =
        ["--rsh", "--rsync-path", "--remote-option", "--connect-program", "--daemon", "--server", "--sender", "--config", "--address", "--port", "--sockopts"];

    /// <summary>Short options that take a value: in a cluster like <c>-avB4096</c>, what follows them is their value, not more options.</summary>
    const string ShortWithValue = "eBfTM@";

    /// <summary>The first option that takes the transport out of the agent's hands, as written, or null.</summary>
    public static string? Override(IReadOnlyList<string> options)
    {
        for (var i = 0; i < options.Count; i++)
        {
            var o = options[i];
            if (o == "--")
                return o; // ends rsync's options: the agent's own (-e, --timeout) would become file names
            if (o.StartsWith("--", StringComparison.Ordinal))
            {
                var name = o.Split('=', 2)[0];
                // rsync accepts unambiguous abbreviations of long options (--rsh-... is not one; --rs is ambiguous).
                if (name.Length > 3 && LongOptions.Any(l => l.StartsWith(name, StringComparison.Ordinal) && (name == l || !LongOptions.Any(x => x != l && x.StartsWith(name, StringComparison.Ordinal)))))
                    return o;
                continue;
            }
            if (o.Length < 2 || o[0] != '-')
                continue;
            foreach (var c in o[1..])
            {
                if (c is 'e' or 'M')
                    return o;
                if (ShortWithValue.Contains(c, StringComparison.Ordinal))
                    break;
            }
        }
        return null;
    }
}
