using System.Globalization;
using System.Text.RegularExpressions;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Infrastructure.Execution.Ssh;

namespace OpenSvc.Infrastructure.Drivers.Sync.Rsync;

/// <summary>The rsync command line, built purely from the resource, the target and the SSH settings (table-tested).</summary>
public static partial class RsyncArgv
{
    /// <summary>OpenSVC's defaults; <c>reset_options</c> replaces them with <c>options</c>.</summary>
    public static readonly IReadOnlyList<string> DefaultOptions = ["-HAXpogDtrlvx", "--stats", "--delete", "--force"];

    /// <summary>
    /// <c>rsync &lt;defaults&gt; &lt;options&gt; --timeout=N [--rsync-path "sudo rsync"] [--bwlimit=N] -e "&lt;ssh&gt;" &lt;src…&gt; user@node:dst</c>,
    /// as OpenSVC orders them (model case C24), with our ssh settings in <c>-e</c> (host keys verified, batch mode).
    /// </summary>
    public static IReadOnlyList<string> Build(RsyncSync resource, IReadOnlyList<string> sources, NodeName target, SshOptions ssh)
    {
        if (resource.Dst is not { Length: > 0 } dst)
            throw new ArgumentException($"{resource.Id} has no dst", nameof(resource));
        var argv = new List<string> { "rsync" };
        if (!resource.ResetOptions)
            argv.AddRange(DefaultOptions);
        argv.AddRange(resource.Options);
        argv.Add($"--timeout={resource.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)}");
        if (ssh.User != "root")
        {
            var given = argv.FindIndex(a => a == "--rsync-path" || a.StartsWith("--rsync-path=", StringComparison.Ordinal));
            if (given < 0)
                argv.AddRange(["--rsync-path", "sudo rsync"]);
            else if (argv[given] == "--rsync-path" && given + 1 < argv.Count)
                argv[given + 1] = "sudo " + argv[given + 1];
            else
                argv[given] = "--rsync-path=sudo " + argv[given]["--rsync-path=".Length..];
        }
        if (resource.BwLimitKbps is { } bw)
            argv.Add($"--bwlimit={bw.ToString(CultureInfo.InvariantCulture)}");
        if (!resource.Options.Any(o => o == "-e" || o.StartsWith("--rsh", StringComparison.Ordinal) || ShortEOption().IsMatch(o)))
            argv.AddRange(["-e", Rsh(ssh)]);
        argv.AddRange(sources);
        argv.Add($"{ssh.User}@{target}:{dst}");
        return argv;
    }

    /// <summary>The <c>-e</c> value: rsync splits it on blanks and honours quotes, so only elements with blanks or quotes are quoted.</summary>
    public static string Rsh(SshOptions ssh) =>
        string.Join(' ', ssh.SshArgv().Select(a => a.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '\\') ? RemoteShell.Quote(a) : a));

    /// <summary>Bytes sent, files transferred and deleted, from <c>--stats</c>.</summary>
    public static RsyncStats ParseStats(string output) => new(
        Number(output, "Total bytes sent"),
        Number(output, "Number of regular files transferred"),
        Number(output, "Number of deleted files"));

    static long Number(string output, string label)
    {
        var m = Regex.Match(output, "^" + Regex.Escape(label) + @":\s*([\d,.]+)", RegexOptions.Multiline);
        return m.Success && long.TryParse(m.Groups[1].Value.Replace(",", "", StringComparison.Ordinal).Replace(".", "", StringComparison.Ordinal), CultureInfo.InvariantCulture, out var n) ? n : -1;
    }

    [GeneratedRegex("^-[a-zA-Z]*e")]
    private static partial Regex ShortEOption();
}

public sealed record RsyncStats(long BytesSent, long FilesTransferred, long FilesDeleted);
