using System.Globalization;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using OpenSvc.Host.Cli;
using OpenSvc.Infrastructure.Drivers;

namespace OpenSvc.Host.Access;

/// <summary>
/// The agent's API on a Unix socket (default <c>{run}/agent.sock</c>, /run/opensvc/agent.sock): the one way in without a
/// token. The socket is 0600 in a directory only its owner may write, so only the agent's user (root) and root can
/// connect; the kernel names the caller (SO_PEERCRED), which the audit records as <c>user@local</c>. The CLI on the
/// agent's machine uses it by default.
/// </summary>
public static class LocalSocket
{
    public const string Variable = "OPENSVC_SOCKET";

    /// <summary>
    /// OPENSVC_SOCKET, else <c>agent.sock</c> in the agent's run directory (/run/opensvc, or OPENSVC_RUN_DIR); for a user
    /// other than root without OPENSVC_RUN_DIR, in the product's home (~/.local/share/opensvc), which that user may create.
    /// </summary>
    public static string DefaultPath =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } p ? p
        : Environment.IsPrivilegedProcess || Environment.GetEnvironmentVariable("OPENSVC_RUN_DIR") is { Length: > 0 }
            ? Path.Combine(AgentPaths.FromEnvironment().RunDir, "agent.sock")
            : Path.Combine(Infrastructure.Postgres.EmbeddedPostgres.DefaultHome(), "agent.sock");

    /// <summary>
    /// Before binding: the directory exists (created 0700) and nobody but its owner can swap the socket in it; a socket
    /// left by an agent that died is removed, one that still answers is another agent's.
    /// </summary>
    public static void Prepare(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir))
        {
            try
            {
                Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                throw new UserError($"cannot create the agent's socket directory {dir}: {e.Message}; run the agent as root, or pass --socket PATH (or none)", ExitCodes.Failed);
            }
        }
        else if ((File.GetUnixFileMode(dir) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            throw new UserError($"the agent's socket directory {dir} is writable by group or others (mode {TokenFile.Octal(File.GetUnixFileMode(dir))}), " +
                                "so another user could put their own socket in its place: use a directory only root may write (--socket PATH)", ExitCodes.Failed);
        if (!File.Exists(path))
            return;
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new UserError($"another agent answers on {path}: stop it, or give this one another socket (--socket PATH)", ExitCodes.Failed);
            }
            catch (SocketException)
            {
                // Nobody listens: a socket left by an agent that was killed.
            }
        }
        File.Delete(path);
    }

    /// <summary>After binding: only the owner may connect (connecting needs write permission on the socket).</summary>
    public static void Restrict(string path) => File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

    /// <summary>The uid of the process at the other end when the request came in on a Unix socket, else null.</summary>
    public static int? PeerUid(HttpContext context)
    {
        var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null || socket.AddressFamily != AddressFamily.Unix)
            return null;
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } from getsockopt(SOL_SOCKET, SO_PEERCRED).
        Span<byte> cred = stackalloc byte[12];
        return socket.GetRawSocketOption(SolSocket, SoPeerCred, cred) == 12 ? BitConverter.ToInt32(cred[4..8]) : null;
    }

    const int SolSocket = 1;
    const int SoPeerCred = 17;

    static readonly System.Collections.Concurrent.ConcurrentDictionary<int, string> Names = new();

    /// <summary>The user name of a uid (from /etc/passwd, read once per uid), else <c>uid1234</c>.</summary>
    public static string UserName(int uid) => Names.GetOrAdd(uid, Lookup);

    static string Lookup(int uid)
    {
        var text = uid.ToString(CultureInfo.InvariantCulture);
        try
        {
            foreach (var line in File.ReadLines("/etc/passwd"))
                if (line.Split(':') is [var name, _, var id, ..] && id == text && TokenFile.IsValidName(name))
                    return name;
        }
        catch (IOException)
        {
        }
        return "uid" + text;
    }

    /// <summary>An HTTP handler whose connections go to the Unix socket at <paramref name="path"/> (the URL's host is ignored).</summary>
    public static SocketsHttpHandler ClientHandler(string path) => new()
    {
        ConnectCallback = async (_, ct) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}
