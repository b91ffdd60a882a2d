using OpenSvc.Domain;
using OpenSvc.Domain.Config;

namespace OpenSvc.Host.Cli;

/// <summary>Reading service files for the CLI: one clear line for a missing or unreadable file.</summary>
public static class ConfigFiles
{
    public static ConfigDocument Load(string path) => ConfigParser.Parse(ReadText(path), path);

    public static string ReadText(string path)
    {
        // Reading a directory fails with "access denied" on Linux, which would send the user after permissions.
        if (Directory.Exists(path))
            throw new UserError($"{path}: is a directory, not a service file: name the file (e.g. {Path.Combine(path, "svc1.conf")})");
        try
        {
            return File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            throw new UserError($"{path}: no such file");
        }
        catch (DirectoryNotFoundException)
        {
            throw new UserError($"{path}: no such file");
        }
        catch (UnauthorizedAccessException)
        {
            throw new UserError($"{path}: permission denied");
        }
        catch (IOException ex)
        {
            throw new UserError($"{path}: cannot read: {ex.Message}");
        }
    }

    /// <summary>The service name: --service, else the file name without its extension (OpenSVC's &lt;name&gt;.conf).</summary>
    public static string ServiceName(string path, string? option)
    {
        var name = option ?? Path.GetFileNameWithoutExtension(path);
        if (Domain.Config.ServicePath.Invalid(name) is { } reason)
            throw new UserError($"{reason}: {(option is null ? "name the service with --service NAME" : "choose another --service NAME")}");
        return name;
    }

    public static NodeName Node(string? text, string option = "--node")
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new UserError($"{option} is required");
        if (!NodeName.TryParse(text, out var node))
            throw new UserError($"{option} '{text}' is not a valid node name (letters, digits, '.', '-', '_')");
        return node;
    }

    /// <summary>Refuses a node that is neither in nodes nor drpnodes of the file.</summary>
    public static void RequirePeer(ConfigDocument doc, string service, NodeName node)
    {
        var resolved = ServiceResolver.Resolve(doc, service, node);
        if (resolved.Role == NodeRole.NotMember)
            throw new UserError($"{doc.File}: node {node} is in neither nodes ({string.Join(" ", resolved.Nodes)}) nor drpnodes ({string.Join(" ", resolved.DrpNodes)})");
    }
}
