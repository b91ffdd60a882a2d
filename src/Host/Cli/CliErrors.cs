namespace OpenSvc.Host.Cli;

/// <summary>Exit codes every command shares.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The action ran and failed (or the product could not do its job: database unreachable...).</summary>
    public const int Failed = 1;
    /// <summary>Bad input: missing file, bad option, invalid config.</summary>
    public const int BadInput = 2;
    /// <summary>The cluster refused the request (a guard, a busy service).</summary>
    public const int Refused = 3;
}

/// <summary>An error an operator can fix: printed as one line on stderr, never as a stack trace.</summary>
public sealed class UserError(string message, int exitCode = ExitCodes.BadInput) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
