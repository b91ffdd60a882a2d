using OpenSvc.Infrastructure.Drivers.Fs;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Infrastructure.Execution.Ssh;

namespace OpenSvc.Infrastructure.Drivers.Sync.Common;

public sealed record ShellResult(int ExitCode, string StdOut, string StdErr)
{
    public bool Succeeded => ExitCode == 0;

    public string Tail
    {
        get
        {
            var text = (string.IsNullOrWhiteSpace(StdErr) ? StdOut : StdErr).Trim();
            return text.Length > 1500 ? text[^1500..] : text;
        }
    }
}

/// <summary>
/// Runs argv on one side of a sync: this node (through <see cref="ProcessRunner"/>) or the target (through
/// <see cref="SshConnection"/>), so probes such as "which btrfs has this label here" are written once.
/// </summary>
public interface INodeShell
{
    string Node { get; }

    Task<ShellResult> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken);
}

public sealed class LocalShell(string node) : INodeShell
{
    public string Node => node;

    public async Task<ShellResult> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var r = await ProcessRunner.RunAsync(argv[0], argv.Skip(1), new ProcessRunOptions { Timeout = TimeSpan.FromMinutes(2) }, cancellationToken).ConfigureAwait(false);
        return new ShellResult(r.TimedOut ? -1 : r.ExitCode, r.StdOut, r.TimedOut ? $"timed out: {string.Join(' ', argv)}\n{r.StdErr}" : r.StdErr);
    }
}

public sealed class RemoteShellOf(SshConnection connection) : INodeShell
{
    public string Node => connection.Node;

    public async Task<ShellResult> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var r = await connection.RunAsync(argv, cancellationToken, TimeSpan.FromMinutes(2)).ConfigureAwait(false);
        return new ShellResult(r.ExitCode, r.StdOut, r.StdErr);
    }
}

public static class NodeShellExtensions
{
    /// <summary>Runs argv and fails the step with the node, the command and its stderr when it exits non-zero.</summary>
    public static async Task<string> CheckedAsync(this INodeShell shell, IReadOnlyList<string> argv, CancellationToken cancellationToken)
    {
        var r = await shell.RunAsync(argv, cancellationToken).ConfigureAwait(false);
        if (!r.Succeeded)
            throw new Workflows.Drivers.StepFailedException($"on {shell.Node}: '{string.Join(' ', argv)}' failed (exit {r.ExitCode}): {r.Tail}");
        return r.StdOut;
    }

    /// <summary>The node's mount table: read in-process on this node (no process to spawn), through the shell on another.</summary>
    public static async Task<IReadOnlyList<MountEntry>> MountsAsync(this INodeShell shell, CancellationToken cancellationToken) =>
        MountTable.Parse(shell is LocalShell
            ? await File.ReadAllTextAsync("/proc/self/mountinfo", cancellationToken).ConfigureAwait(false)
            : await shell.CheckedAsync(["cat", "/proc/self/mountinfo"], cancellationToken).ConfigureAwait(false));
}
