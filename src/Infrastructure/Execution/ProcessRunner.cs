using System.Diagnostics;
using System.Text;

namespace OpenSvc.Infrastructure.Execution;

/// <summary>Result of one process run: exit code, bounded output tails and duration.</summary>
public sealed record ProcessResult(int ExitCode, string StdOut, string StdErr, TimeSpan Duration, bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>The last lines of stderr (or stdout when stderr is empty), for messages and events.</summary>
    public string Tail(int maxChars = 2000) => Domain.OutputTail.Of(StdOut, StdErr, maxChars);
}

public sealed record ProcessRunOptions
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
    public string? WorkingDirectory { get; init; }
    /// <summary>Run as this OS user (through runuser) when the current process is root.</summary>
    public string? RunAsUser { get; init; }
    /// <summary>Keep at most this many characters of each output stream.</summary>
    public int OutputLimit { get; init; } = 64 * 1024;
}

/// <summary>
/// The one place where local processes are started: argv elements only (never a shell string),
/// bounded output capture, timeout and cancellation.
/// </summary>
public static class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(
        string fileName, IEnumerable<string> arguments, ProcessRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ProcessRunOptions();
        var argv = arguments.ToList();
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (options.RunAsUser is { } user && Environment.UserName == "root" && user != "root")
        {
            psi.FileName = "runuser";
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add(user);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(fileName);
        }
        else
        {
            psi.FileName = fileName;
        }
        foreach (var a in argv)
            psi.ArgumentList.Add(a);
        if (options.WorkingDirectory is { } wd)
            psi.WorkingDirectory = wd;
        if (options.Environment is { } env)
            foreach (var (k, v) in env)
                psi.Environment[k] = v;

        var stdout = new BoundedBuffer(options.OutputLimit);
        var stderr = new BoundedBuffer(options.OutputLimit);
        var sw = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return new ProcessResult(127, "", $"cannot run {fileName}: {ex.Message}", sw.Elapsed, false);
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = !cancellationToken.IsCancellationRequested;
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            if (!timedOut)
                throw;
        }
        // Drain the asynchronous readers.
        process.WaitForExit();
        return new ProcessResult(timedOut ? -1 : process.ExitCode, stdout.ToString(), stderr.ToString(), sw.Elapsed, timedOut);
    }

    /// <summary>
    /// Starts a pipeline source (<c>btrfs send</c>, ...) whose stdout is read as bytes by the caller; stderr is
    /// captured. Wait with <see cref="StreamingProcess.WaitAsync"/>; disposing kills it if it still runs.
    /// </summary>
    public static StreamingProcess StartStreaming(string fileName, IEnumerable<string> arguments, ProcessRunOptions? options = null)
    {
        options ??= new ProcessRunOptions();
        var psi = new ProcessStartInfo
        {
            FileName = fileName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
            psi.ArgumentList.Add(a);
        if (options.WorkingDirectory is { } wd)
            psi.WorkingDirectory = wd;
        if (options.Environment is { } env)
            foreach (var (k, v) in env)
                psi.Environment[k] = v;
        var process = new Process { StartInfo = psi };
        var stderr = new BoundedBuffer(options.OutputLimit);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr.AppendLine(e.Data); };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new InvalidOperationException($"cannot run {fileName}: {ex.Message}", ex);
        }
        process.StandardInput.Close();
        process.BeginErrorReadLine();
        return new StreamingProcess(process, stderr.ToString, options.Timeout);
    }

    /// <summary>A running pipeline source: read <see cref="StandardOutput"/>, then <see cref="WaitAsync"/>.</summary>
    public sealed class StreamingProcess : IAsyncDisposable
    {
        readonly Process _process;
        readonly Func<string> _stderr;
        readonly TimeSpan _timeout;
        readonly Stopwatch _sw = Stopwatch.StartNew();

        internal StreamingProcess(Process process, Func<string> stderr, TimeSpan timeout)
        {
            _process = process;
            _stderr = stderr;
            _timeout = timeout;
        }

        public Stream StandardOutput => _process.StandardOutput.BaseStream;

        public async Task<ProcessResult> WaitAsync(CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_timeout);
            try
            {
                await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Kill();
                await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested)
                    throw;
                return new ProcessResult(-1, "", _stderr(), _sw.Elapsed, true);
            }
            _process.WaitForExit();
            return new ProcessResult(_process.ExitCode, "", _stderr(), _sw.Elapsed, false);
        }

        void Kill()
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                Kill();
                await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            _process.Dispose();
        }
    }

    sealed class BoundedBuffer(int limit)
    {
        readonly StringBuilder _sb = new();
        readonly Lock _gate = new();

        public void AppendLine(string line)
        {
            lock (_gate)
            {
                _sb.Append(line).Append('\n');
                if (_sb.Length > limit * 2)
                    _sb.Remove(0, _sb.Length - limit);
            }
        }

        public override string ToString()
        {
            lock (_gate)
                return _sb.Length > limit ? _sb.ToString(_sb.Length - limit, limit) : _sb.ToString();
        }
    }
}
