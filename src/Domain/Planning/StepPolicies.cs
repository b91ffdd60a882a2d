namespace OpenSvc.Domain.Planning;

/// <summary>
/// Default step policy per driver group. A sync moves data and may take hours; a mount or an ip either
/// works quickly or not at all.
/// </summary>
public static class StepPolicies
{
    static readonly Dictionary<string, StepPolicy> ByGroup = new(StringComparer.Ordinal)
    {
        ["ip"] = new(TimeSpan.FromMinutes(1), 3, TimeSpan.FromSeconds(2)),
        ["disk"] = new(TimeSpan.FromMinutes(2), 3, TimeSpan.FromSeconds(5)),
        ["fs"] = new(TimeSpan.FromMinutes(2), 3, TimeSpan.FromSeconds(5)),
        ["container"] = new(TimeSpan.FromMinutes(5), 3, TimeSpan.FromSeconds(10)),
        ["app"] = new(TimeSpan.FromMinutes(5), 2, TimeSpan.FromSeconds(10)),
        ["sync"] = new(TimeSpan.FromHours(4), 2, TimeSpan.FromMinutes(1)),
    };

    /// <summary>Getting a sync target ready (a private dockerd start): quick or not at all.</summary>
    public static readonly StepPolicy PrepareReceive = new(TimeSpan.FromMinutes(2), 2, TimeSpan.FromSeconds(5));

    /// <summary>The policy for a driver (<c>fs</c>, <c>container.docker</c>, ...); <see cref="StepPolicy.Default"/> for others.</summary>
    public static StepPolicy For(string driver)
    {
        ArgumentNullException.ThrowIfNull(driver);
        return ByGroup.TryGetValue(driver.Split('.')[0], out var policy) ? policy : StepPolicy.Default;
    }
}
