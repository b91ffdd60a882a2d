using System.Collections;

namespace OpenSvc.Domain.Config;

/// <summary>
/// The process environment as <c>{env.x}</c> reads it when no environment is passed (OpenSVC gives the agent's
/// environment variable X precedence over the [env] section): read once, at first use.
/// </summary>
public static class ProcessEnvironment
{
    static readonly Lazy<IReadOnlyDictionary<string, string>> Snapshot = new(() =>
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
            if (entry.Key is string key && entry.Value is string value)
                result[key] = value;
        return result;
    });

    public static IReadOnlyDictionary<string, string> Current => Snapshot.Value;
}
