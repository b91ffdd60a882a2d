namespace OpenSvc.Infrastructure.Execution.Ssh;

/// <summary>
/// How this agent reaches its peers over SSH: one set of settings shared by the SSH.NET runner and the
/// <c>ssh</c> command line handed to rsync, so both verify host keys against the same known_hosts.
/// </summary>
public sealed record SshOptions
{
    public const string KnownHostsVariable = "OPENSVC_SSH_KNOWN_HOSTS";
    public const string KeyVariable = "OPENSVC_SSH_KEY";
    public const string UserVariable = "OPENSVC_SSH_USER";

    public string KnownHostsPath { get; init; } = "/root/.ssh/known_hosts";
    public string KeyPath { get; init; } = "/root/.ssh/id_ed25519";
    public string User { get; init; } = "root";
    public int Port { get; init; } = 22;
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The defaults, overridden by OPENSVC_SSH_KNOWN_HOSTS, OPENSVC_SSH_KEY and OPENSVC_SSH_USER.</summary>
    public static SshOptions FromEnvironment() => FromVariables(Environment.GetEnvironmentVariable, File.Exists);

    /// <summary>Testable form of <see cref="FromEnvironment"/>: the key defaults to id_ed25519, else id_rsa when only that exists.</summary>
    public static SshOptions FromVariables(Func<string, string?> variable, Func<string, bool> fileExists)
    {
        var options = new SshOptions();
        if (variable(KnownHostsVariable) is { Length: > 0 } knownHosts)
            options = options with { KnownHostsPath = knownHosts };
        if (variable(KeyVariable) is { Length: > 0 } key)
            options = options with { KeyPath = key };
        else if (!fileExists(options.KeyPath) && fileExists("/root/.ssh/id_rsa"))
            options = options with { KeyPath = "/root/.ssh/id_rsa" };
        if (variable(UserVariable) is { Length: > 0 } user)
            options = options with { User = user };
        return options;
    }

    /// <summary>
    /// The OpenSSH client argv with the same guarantees as the SSH.NET runner: batch mode (never a password
    /// prompt), strict host key checking against <see cref="KnownHostsPath"/>, connect timeout, this key only, and the
    /// same cipher preference (AES before chacha20-poly1305, OpenSSH's default, which is slower where AES-NI exists).
    /// </summary>
    public IReadOnlyList<string> SshArgv() =>
    [
        "ssh",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", $"UserKnownHostsFile={KnownHostsPath}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", $"ConnectTimeout={(int)Math.Ceiling(ConnectTimeout.TotalSeconds)}",
        "-o", "IdentitiesOnly=yes",
        "-o", $"Ciphers={string.Join(',', SshRunner.PreferredCiphers)},chacha20-poly1305@openssh.com",
        "-i", KeyPath,
        "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
    ];
}
