using System.Security.Cryptography;
using System.Text;

namespace OpenSvc.Domain.Config;

/// <summary>A config text's short content hash: what a version label and a run record as the config they used.</summary>
public static class ConfigHash
{
    public static string Of(string configText)
    {
        ArgumentNullException.ThrowIfNull(configText);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(configText))).ToLowerInvariant()[..12];
    }
}
