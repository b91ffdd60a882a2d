using System.Diagnostics;
using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace OpenSvc.Infrastructure.Execution.Ssh;

/// <summary>A remote host's key is unknown, changed or revoked: the connection was refused before any command ran.</summary>
public sealed class SshHostKeyException(string message) : Exception(message);

/// <summary>The node could not be reached or did not accept our key: a message naming the node and the cause.</summary>
public sealed class SshConnectException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What one remote command did: exit code, output, duration, and the bytes fed to its stdin.</summary>
public sealed record SshResult(int ExitCode, string StdOut, string StdErr, TimeSpan Duration, long BytesSent = 0)
{
    public bool Succeeded => ExitCode == 0;

    public string Tail(int maxChars = 2000) => Domain.OutputTail.Of(StdOut, StdErr, maxChars);
}

/// <summary>
/// The one SSH client of the agent (SSH.NET): host keys verified against known_hosts (an unknown or changed
/// key refuses, naming the node and the SHA256 fingerprint), key authentication only (never a password),
/// a connect timeout, AES ciphers preferred over chacha20 for throughput, no compression.
/// </summary>
public sealed class SshRunner(SshOptions options)
{
    /// <summary>Ciphers proposed first: AES-NI makes them several times faster than chacha20-poly1305.</summary>
    public static readonly IReadOnlyList<string> PreferredCiphers = ["aes128-gcm@openssh.com", "aes128-ctr", "aes256-gcm@openssh.com", "aes256-ctr"];

    public SshOptions Options => options;

    public static SshRunner FromEnvironment() => new(SshOptions.FromEnvironment());

    /// <summary>Connects to a node (name or address as known_hosts lists it), verifying its host key.</summary>
    public async Task<SshConnection> ConnectAsync(string node, CancellationToken cancellationToken)
    {
        if (!File.Exists(options.KeyPath))
            throw new SshConnectException($"cannot connect to {node}: private key {options.KeyPath} not found (set {SshOptions.KeyVariable})");
        if (KeyPermissionProblem(options.KeyPath, File.GetUnixFileMode(options.KeyPath)) is { } exposed)
            throw new SshConnectException($"cannot connect to {node}: {exposed}");
        var known = KnownHosts.Load(options.KnownHostsPath);
        var expected = known.For(node, options.Port);
        PrivateKeyFile key;
        try
        {
            key = new PrivateKeyFile(options.KeyPath);
        }
        catch (Exception e) when (e is SshException or InvalidOperationException or ArgumentException or IOException)
        {
            throw new SshConnectException($"cannot connect to {node}: private key {options.KeyPath} is unreadable: {e.Message}", e);
        }
        var info = new ConnectionInfo(node, options.Port, options.User, new PrivateKeyAuthenticationMethod(options.User, key))
        {
            Timeout = options.ConnectTimeout,
        };
        Prefer(info.Encryptions, PreferredCiphers);
        foreach (var name in info.CompressionAlgorithms.Keys.Where(k => k != "none").ToList())
            info.CompressionAlgorithms.Remove(name);
        // Like OpenSSH, ask for the key types known_hosts holds for this host, so a second key type is not taken for a changed key.
        var knownTypes = expected.Select(k => k.KeyType).ToHashSet(StringComparer.Ordinal);
        if (knownTypes.Count > 0)
        {
            var keep = info.HostKeyAlgorithms.Keys.Where(a => knownTypes.Contains(KeyTypeOf(a))).ToList();
            if (keep.Count > 0)
                foreach (var name in info.HostKeyAlgorithms.Keys.Except(keep).ToList())
                    info.HostKeyAlgorithms.Remove(name);
        }

        var client = new SshClient(info);
        string? refusal = null;
        client.HostKeyReceived += (_, e) =>
        {
            refusal = HostKeyVerdict(node, options.KnownHostsPath, known, expected, e.HostKeyName, e.HostKey);
            e.CanTrust = refusal is null;
        };
        try
        {
            await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (refusal is not null && e is not OperationCanceledException)
        {
            client.Dispose();
            throw new SshHostKeyException(refusal);
        }
        catch (Exception e) when (e is SshException or SocketException or IOException or TimeoutException)
        {
            client.Dispose();
            var why = e is SshAuthenticationException
                ? $"key {options.KeyPath} was not accepted for {options.User}"
                : e.Message;
            throw new SshConnectException($"cannot connect to {node}:{options.Port} as {options.User}: {why}", e);
        }
        return new SshConnection(node, client);
    }

    /// <summary>Null when the key is one known_hosts lists for the node; otherwise the refusal an operator reads.</summary>
    /// <summary>
    /// As OpenSSH refuses an unprotected private key ("UNPROTECTED PRIVATE KEY FILE!"): a key that group or others may
    /// read or write is not used, since anyone who read it can be this node to its peers.
    /// </summary>
    public static string? KeyPermissionProblem(string path, UnixFileMode mode)
    {
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                                    | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        return (mode & others) == 0 ? null
            : $"private key {path} is accessible by group or others (mode {Convert.ToString((int)mode & 0x1FF, 8).PadLeft(4, '0')}), as OpenSSH refuses too: chmod 600 {path}";
    }

    public static string? HostKeyVerdict(string node, string knownHostsPath, KnownHosts known, IReadOnlyList<KnownHostKey> expected, string keyName, byte[] key)
    {
        var fingerprint = KnownHosts.Fingerprint(key);
        if (known.IsRevoked(key))
            return $"host key of {node} ({KeyTypeOf(keyName)} {fingerprint}) is marked @revoked in {knownHostsPath}: refusing to connect";
        if (expected.Any(k => k.Key.AsSpan().SequenceEqual(key)))
            return null;
        if (expected.Count == 0)
            return $"host key of {node} is unknown: {KeyTypeOf(keyName)} {fingerprint} is not in {knownHostsPath}; refusing to connect " +
                   $"(verify the fingerprint on {node}, then add its key: ssh-keyscan {node} >> {knownHostsPath})";
        return $"host key of {node} has CHANGED: it presents {KeyTypeOf(keyName)} {fingerprint}, " +
               $"{knownHostsPath} lists {string.Join(", ", expected.Select(k => $"{k.KeyType} {KnownHosts.Fingerprint(k.Key)}"))}; " +
               "refusing to connect (possible man-in-the-middle, or the node was reinstalled)";
    }

    static string KeyTypeOf(string algorithm) => algorithm switch
    {
        "rsa-sha2-256" or "rsa-sha2-512" => "ssh-rsa",
        _ => algorithm,
    };

    static void Prefer<T>(IDictionary<string, T> algorithms, IReadOnlyList<string> first)
    {
        var ordered = first.Where(algorithms.ContainsKey).Select(k => KeyValuePair.Create(k, algorithms[k]))
            .Concat(algorithms.Where(kv => !first.Contains(kv.Key))).ToList();
        algorithms.Clear();
        foreach (var (k, v) in ordered)
            algorithms.Add(k, v);
    }
}

/// <summary>An authenticated connection to one node; commands are argv lists, quoted in one place (<see cref="RemoteShell"/>).</summary>
public sealed class SshConnection(string node, SshClient client) : IDisposable
{
    public string Node => node;

    /// <summary>The cipher negotiated, for benchmarks and logs.</summary>
    public string Cipher => client.ConnectionInfo.CurrentClientEncryption ?? "?";

    public Task<SshResult> RunAsync(IReadOnlyList<string> argv, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        RunCommandLineAsync(RemoteShell.Join(argv), null, timeout, cancellationToken);

    /// <summary>Commands run one after the other, stopping at the first that fails.</summary>
    public Task<SshResult> RunChainAsync(IReadOnlyList<IReadOnlyList<string>> commands, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        RunCommandLineAsync(RemoteShell.AndThen([.. commands]), null, timeout, cancellationToken);

    /// <summary>
    /// Runs argv with its stdin fed by <paramref name="feed"/> (which returns the bytes it wrote), e.g.
    /// <c>docker save</c> or <c>btrfs send</c> output streamed into <c>docker load</c> / <c>btrfs receive</c>.
    /// </summary>
    public Task<SshResult> RunWithInputAsync(IReadOnlyList<string> argv, Func<Stream, CancellationToken, Task<long>> feed, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        RunCommandLineAsync(RemoteShell.Join(argv), feed, timeout, cancellationToken);

    /// <summary>
    /// One exec in two parts: the command first prints what the caller needs to decide (its prelude), then a line equal to
    /// <paramref name="marker"/>, then reads its stdin. <paramref name="feed"/> is called with the prelude once the marker
    /// line arrived, and feeds stdin (e.g. a remote preparation then <c>btrfs receive</c>, the send chosen from what the
    /// preparation printed). When the command ends before printing the marker, feed is not called and the result says why
    /// (<see cref="SshResult.StdOut"/> holds the whole output either way; <c>Prelude</c> is null then).
    /// </summary>
    public async Task<(SshResult Result, string? Prelude)> RunWithPreludeAsync(IReadOnlyList<string> argv, string marker,
        Func<string, Stream, CancellationToken, Task<long>> feed, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(feed);
        string? prelude = null;
        var result = await RunCommandLineAsync(RemoteShell.Join(argv), null, timeout, cancellationToken, new PreludeFeed(marker, p => prelude = p, feed)).ConfigureAwait(false);
        return (result, prelude);
    }

    sealed record PreludeFeed(string Marker, Action<string> Seen, Func<string, Stream, CancellationToken, Task<long>> Feed);

    /// <summary>
    /// Reads stdout up to the marker line. Returns the prelude (text before the marker line, or everything when the stream
    /// ended first: then <c>Found</c> is false) and the bytes read past the marker line, which belong to the rest of stdout.
    /// </summary>
    static async Task<(bool Found, string Before, byte[] After)> ReadPreludeAsync(Stream output, string marker, CancellationToken cancellationToken)
    {
        var line = System.Text.Encoding.UTF8.GetBytes(marker + "\n");
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        while (true)
        {
            var n = await output.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (n == 0)
                return (false, System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), []);
            buffer.Write(chunk, 0, n);
            var data = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            for (var at = data.IndexOf(line); at >= 0; at = NextAt(data, line, at))
                if (at == 0 || data[at - 1] == (byte)'\n')
                    return (true, System.Text.Encoding.UTF8.GetString(data[..at]), data[(at + line.Length)..].ToArray());
        }

        static int NextAt(ReadOnlySpan<byte> data, ReadOnlySpan<byte> line, int at)
        {
            var next = data[(at + 1)..].IndexOf(line);
            return next < 0 ? -1 : at + 1 + next;
        }
    }

    async Task<SshResult> RunCommandLineAsync(string commandLine, Func<Stream, CancellationToken, Task<long>>? feed, TimeSpan? timeout, CancellationToken cancellationToken,
        PreludeFeed? withPrelude = null)
    {
        var sw = Stopwatch.StartNew();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(5));
        using var command = client.CreateCommand(commandLine);
        Task execution;
        try
        {
            execution = command.ExecuteAsync(limit.Token);
        }
        catch (SshConnectionException e)
        {
            throw new SshConnectException($"connection to {node} lost: {e.Message}", e);
        }
        var head = "";
        if (withPrelude is not null)
        {
            bool found;
            string before;
            byte[] after;
            try
            {
                (found, before, after) = await ReadPreludeAsync(command.OutputStream, withPrelude.Marker, limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{node}: '{commandLine}' did not print its prelude within {timeout ?? TimeSpan.FromMinutes(5)}");
            }
            if (found)
            {
                withPrelude.Seen(before);
                head = before + withPrelude.Marker + "\n" + System.Text.Encoding.UTF8.GetString(after);
                feed = (stdin, ct) => withPrelude.Feed(before, stdin, ct);
            }
            else
            {
                // Ended before its marker: no feeding; stdin closed so a command still waiting on it ends too.
                head = before;
                try
                {
                    command.CreateInputStream().Dispose();
                }
                catch (Exception e) when (e is SshException or ObjectDisposedException or InvalidOperationException)
                {
                    // Already closed.
                }
            }
        }
        long sent = 0;
        Exception? feedError = null;
        if (feed is not null)
        {
            using var stopFeeding = CancellationTokenSource.CreateLinkedTokenSource(limit.Token);
            // The remote command may exit early (a failed receive): stop feeding then instead of writing into a closed channel.
            _ = execution.ContinueWith(_ => stopFeeding.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            var input = command.CreateInputStream();
            try
            {
                sent = await feed(input, stopFeeding.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (execution.IsCompleted && !limit.IsCancellationRequested)
            {
                // Reported below with the remote command's exit status and stderr.
            }
            catch (Exception e) when (e is SshException or ObjectDisposedException or InvalidOperationException or IOException)
            {
                // Writing into a channel the remote side closed (it exited early): its exit status and stderr say why, below.
                feedError = e;
            }
            finally
            {
                try
                {
                    await input.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is SshException or ObjectDisposedException or InvalidOperationException)
                {
                    // The channel is already closed: the exit status below tells why.
                }
            }
        }
        try
        {
            await execution.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{node}: '{commandLine}' did not finish within {timeout ?? TimeSpan.FromMinutes(5)}");
        }
        catch (SshConnectionException e)
        {
            throw new SshConnectException($"connection to {node} lost while running '{commandLine}': {e.Message}", e);
        }
        var exit = command.ExitStatus ?? (command.ExitSignal is { } signal ? 128 : -1);
        var stderr = command.Error;
        if (command.ExitStatus is null && command.ExitSignal is { } sig)
            stderr += $"\nkilled by signal {sig}";
        if (feedError is not null)
        {
            stderr += $"\nits input could not be written: {feedError.Message}";
            if (exit == 0)
                exit = -1;
        }
        return new SshResult(exit, head + command.Result, stderr, sw.Elapsed, sent);
    }

    public void Dispose()
    {
        if (client.IsConnected)
            client.Disconnect();
        client.Dispose();
    }
}
