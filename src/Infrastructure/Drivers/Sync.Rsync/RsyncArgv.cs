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
    /// <c>rsync &lt;defaults&gt; &lt;options&gt; --timeout=N [--rsync-path "sudo rsync"] [--bwlimit=N] -e "&lt;ssh&gt;" -- &lt;src…&gt; user@node:dst</c>,
    /// as OpenSVC orders them (model case C24), with our ssh settings in <c>-e</c> (host keys verified, batch mode). The
    /// sources and the destination come after <c>--</c>, so a value starting with '-' is never read as an option; options
    /// that would replace the transport (<see cref="RsyncTransport"/>, refused by validation) are refused here too.
    /// </summary>
    public static IReadOnlyList<string> Build(RsyncSync resource, IReadOnlyList<string> sources, NodeName target, SshOptions ssh)
    {
        if (resource.Dst is not { Length: > 0 } dst)
            throw new ArgumentException($"{resource.Id} has no dst", nameof(resource));
        if (RsyncTransport.Override(resource.Options) is { } transport)
            throw new ArgumentException($"{resource.Id}: options '{transport}' would replace the agent's ssh transport", nameof(resource));
        var argv = new List<string> { "rsync" };
        if (!resource.ResetOptions)
            argv.AddRange(DefaultOptions);
        argv.AddRange(resource.Options);
        argv.Add($"--timeout={resource.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)}");
        if (ssh.User != "root")
            argv.AddRange(["--rsync-path", "sudo rsync"]);
        if (resource.BwLimitKbps is { } bw)
            argv.Add($"--bwlimit={bw.ToString(CultureInfo.InvariantCulture)}");
        argv.AddRange(["-e", Rsh(ssh), "--"]);
        argv.AddRange(sources);
        argv.Add($"{ssh.User}@{target}:{dst}");
        return argv;
    }

    /// <summary>
    /// A reversed send (reprotect, giveback: the DR node sends back to the primary) copies what the forward send placed
    /// back where it came from: <c>src = /d/</c> (its contents into dst) comes back from <c>dst/</c> into <c>/d</c>;
    /// <c>src = /d</c> (the directory itself, placed at dst/d) comes back from <c>dst/d</c> into the parent of /d. Several
    /// sources merged into one dst cannot be told apart again: that is refused, with why.
    /// </summary>
    public static (string? Source, string? Destination, string? Problem) Reverse(RsyncSync resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (resource.Dst is not { Length: > 0 } dst)
            return (null, null, "dst is not set");
        if (resource.Src is not [var src] || src.Length == 0)
            return (null, null, $"a reversed send needs exactly one src to send dst back into (src: {string.Join(' ', resource.Src)})");
        if (src.EndsWith('/'))
            return (dst.TrimEnd('/') + "/", src.TrimEnd('/') is { Length: > 0 } into ? into : "/", null);
        var name = src[(src.LastIndexOf('/') + 1)..];
        var parent = src[..(src.LastIndexOf('/') + 1)];
        return ($"{dst.TrimEnd('/')}/{name}", parent.Length == 0 ? "." : parent, null);
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
}

public sealed record RsyncStats(long BytesSent, long FilesTransferred, long FilesDeleted);
