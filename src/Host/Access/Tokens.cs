using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace OpenSvc.Host.Access;

/// <summary>What an identity may do: a viewer reads (API GETs, plans, validation, the read-only dashboard); an operator also acts.</summary>
public enum Role { Viewer, Operator }

/// <summary>Who a request acts for (a token's name, or <c>user@local</c> on the agent's socket) and its role. The audit's "who" is <see cref="Name"/>.</summary>
public sealed record Caller(string Name, Role Role);

/// <summary>A named token as the agent keeps it: the SHA-256 of the secret, never the secret itself.</summary>
public sealed record NamedToken(string Name, Role Role, byte[] Hash)
{
    public static byte[] HashOf(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    /// <summary>A new token: a random 192-bit secret (shown once) and what the file keeps of it.</summary>
    public static (NamedToken Token, string Secret) Generate(string name, Role role)
    {
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        return (new NamedToken(name, role, HashOf(secret)), secret);
    }
}

/// <summary>Thrown for a tokens file the agent must not use: the message names the file (and line) and the fix.</summary>
public sealed class TokenFileException(string message) : Exception(message);

/// <summary>
/// The tokens file (OPENSVC_TOKENS_FILE, default /etc/opensvc/tokens): one token a line, <c>NAME ROLE sha256:HEX</c>,
/// <c>#</c> comments. Written by <c>opensvc token add</c> (0600, directory 0700 when created); refused when group or
/// others may write it, since whoever can write it can make themselves an operator.
/// </summary>
public static partial class TokenFile
{
    public const string Variable = "OPENSVC_TOKENS_FILE";

    public static string DefaultPath => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } p ? p : "/etc/opensvc/tokens";

    /// <summary>Token names: lowercase letters, digits, '.', '_', '-' (never '@': <c>user@local</c> names the socket's callers).</summary>
    public static bool IsValidName(string name) => NameRule().IsMatch(name);

    public static string RoleName(Role role) => role == Role.Operator ? "operator" : "viewer";

    public static Role? ParseRole(string text) => text switch
    {
        "operator" => Role.Operator,
        "viewer" => Role.Viewer,
        _ => null,
    };

    public static IReadOnlyList<NamedToken> Parse(string text, string path)
    {
        var tokens = new List<NamedToken>();
        var lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var f = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            string Where() => $"{path}:{lineNo.ToString(CultureInfo.InvariantCulture)}";
            if (f.Length != 3)
                throw new TokenFileException($"{Where()}: expected NAME ROLE sha256:HEX, found {f.Length} fields (fix: recreate the token with opensvc token add)");
            if (!IsValidName(f[0]))
                throw new TokenFileException($"{Where()}: token name '{f[0]}' is not lowercase letters, digits, '.', '_', '-' (at most 32)");
            if (ParseRole(f[1]) is not { } role)
                throw new TokenFileException($"{Where()}: role '{f[1]}' is not operator or viewer");
            if (!f[2].StartsWith("sha256:", StringComparison.Ordinal) || f[2].Length != "sha256:".Length + 64 || !IsHex(f[2]["sha256:".Length..]))
                throw new TokenFileException($"{Where()}: '{f[2]}' is not sha256: and 64 hex digits (the file keeps hashes, never secrets)");
            if (tokens.Any(t => t.Name == f[0]))
                throw new TokenFileException($"{Where()}: token {f[0]} is listed twice");
            tokens.Add(new NamedToken(f[0], role, Convert.FromHexString(f[2]["sha256:".Length..])));
        }
        return tokens;
    }

    public static string Format(IEnumerable<NamedToken> tokens) =>
        "# opensvc tokens: NAME ROLE sha256(secret); managed with opensvc token add|list|remove\n" +
        string.Concat(tokens.Select(t => $"{t.Name} {RoleName(t.Role)} sha256:{Convert.ToHexString(t.Hash).ToLowerInvariant()}\n"));

    /// <summary>The tokens of <paramref name="path"/>; none when it does not exist.</summary>
    public static IReadOnlyList<NamedToken> Load(string path)
    {
        if (!File.Exists(path))
            return [];
        var mode = File.GetUnixFileMode(path);
        if ((mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            throw new TokenFileException($"{path}: group or others may write it (mode {Octal(mode)}), so anyone could add an operator token: chmod 600 {path}");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Writes the file atomically, 0600 from its creation (its directory 0700 when this creates it).</summary>
    public static void Save(string path, IEnumerable<NamedToken> tokens)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir))
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temp = $"{path}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.tmp";
        File.Delete(temp);
        using (var stream = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        using (var writer = new StreamWriter(stream))
            writer.Write(Format(tokens));
        File.Move(temp, path, overwrite: true);
    }

    public static string Octal(UnixFileMode mode) => Convert.ToString((int)mode & 0xFFF, 8).PadLeft(4, '0');

    static bool IsHex(string s) => s.All(char.IsAsciiHexDigit);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,31}$")]
    private static partial Regex NameRule();
}

/// <summary>
/// The tokens an agent accepts: OPENSVC_TOKEN (named "operator") and OPENSVC_VIEWER_TOKEN (named "viewer") from its
/// environment, plus the named tokens of the tokens file, read again when the file changes (looked at once a second at
/// most), so <c>opensvc token add|remove</c> takes effect without a restart. A file that becomes unusable counts as empty
/// (fail closed) until it is fixed.
/// </summary>
public sealed class TokenStore
{
    readonly IReadOnlyList<NamedToken> _fixed;
    readonly string? _file;
    readonly Lock _gate = new();
    IReadOnlyList<NamedToken> _fromFile = [];
    (DateTime Mtime, long Length, UnixFileMode Mode)? _seen;
    long _checkedAt = long.MinValue;

    /// <summary>The last problem with the tokens file, or null.</summary>
    public string? FileProblem { get; private set; }

    /// <summary>Told when the tokens file becomes unusable after start-up (the agent logs it).</summary>
    public Action<string>? Report { get; set; }

    public TokenStore(IReadOnlyList<NamedToken> fixedTokens, string? file)
    {
        _fixed = fixedTokens;
        _file = file;
        if (file is not null)
        {
            // A bad file at start-up is the operator's to fix now, not a silent "no tokens".
            _fromFile = TokenFile.Load(file);
            _seen = Stamp(file);
            _checkedAt = Environment.TickCount64;
        }
    }

    /// <summary>Tokens given directly (tests, embedding): secrets with their names and roles.</summary>
    public static TokenStore Of(params (string Name, Role Role, string Secret)[] tokens) =>
        new([.. tokens.Select(t => new NamedToken(t.Name, t.Role, NamedToken.HashOf(t.Secret)))], null);

    public static TokenStore FromEnvironment()
    {
        var env = new List<NamedToken>();
        if (Environment.GetEnvironmentVariable("OPENSVC_TOKEN") is { Length: > 0 } op)
            env.Add(new NamedToken("operator", Role.Operator, NamedToken.HashOf(op)));
        if (Environment.GetEnvironmentVariable("OPENSVC_VIEWER_TOKEN") is { Length: > 0 } viewer)
            env.Add(new NamedToken("viewer", Role.Viewer, NamedToken.HashOf(viewer)));
        return new TokenStore(env, TokenFile.DefaultPath);
    }

    /// <summary>The caller a presented secret proves, or null. Every known hash is compared in constant time.</summary>
    public Caller? Find(string secret)
    {
        if (secret.Length is 0 or > 512)
            return null;
        var hash = NamedToken.HashOf(secret);
        NamedToken? found = null;
        foreach (var t in _fixed.Concat(Current()))
            if (CryptographicOperations.FixedTimeEquals(t.Hash, hash))
                found ??= t;
        return found is null ? null : new Caller(found.Name, found.Role);
    }

    /// <summary>How many tokens are accepted now.</summary>
    public int Count => _fixed.Count + Current().Count;

    IReadOnlyList<NamedToken> Current()
    {
        if (_file is null)
            return _fromFile;
        lock (_gate)
        {
            var now = Environment.TickCount64;
            if (now - _checkedAt < 1000)
                return _fromFile;
            _checkedAt = now;
            var stamp = Stamp(_file);
            if (stamp == _seen)
                return _fromFile;
            _seen = stamp;
            try
            {
                _fromFile = TokenFile.Load(_file);
                FileProblem = null;
            }
            catch (Exception e) when (e is TokenFileException or IOException or UnauthorizedAccessException)
            {
                _fromFile = [];
                FileProblem = e.Message;
                Report?.Invoke($"the tokens file is ignored until it is fixed: {e.Message}");
            }
            return _fromFile;
        }
    }

    static (DateTime, long, UnixFileMode)? Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length, info.UnixFileMode) : null;
    }
}
