using OpenSvc.Domain.Planning;

namespace OpenSvc.Domain;

/// <summary>A service's cluster-wide status, aggregated from its instances (OpenSVC's daemon monitor rules).</summary>
public sealed record ServiceStatus(Status Avail, Status Overall)
{
    /// <summary>Aggregates the instances' avail and overall by the topology's rules.</summary>
    public static ServiceStatus Of(Topology topology, IReadOnlyCollection<InstanceStatus> instances, int flexMin = 1, int flexMax = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var avails = instances.Select(i => i.Avail).ToArray();
        var avail = topology == Topology.Flex ? FlexAvail(avails, flexMin, flexMax) : FailoverAvail(avails);
        return new ServiceStatus(avail, OverallOf(instances.Select(i => i.Overall).ToArray()));
    }

    /// <summary>
    /// Failover: no instance or only n/a → n/a; any warn → warn; more than one up → warn (it must run on one
    /// node); exactly one up → up; otherwise down.
    /// </summary>
    public static Status FailoverAvail(IReadOnlyCollection<Status> avails)
    {
        ArgumentNullException.ThrowIfNull(avails);
        if (avails.Count == 0 || avails.All(a => a == Status.NotApplicable))
            return Status.NotApplicable;
        if (avails.Contains(Status.Warn))
            return Status.Warn;
        var up = avails.Count(a => a == Status.Up);
        return up switch
        {
            > 1 => Status.Warn,
            1 => Status.Up,
            _ => Status.Down,
        };
    }

    /// <summary>
    /// Flex: no instance up → warn if any is warn, else down; more up than <paramref name="flexMax"/> or fewer
    /// than <paramref name="flexMin"/> → warn; otherwise up.
    /// </summary>
    public static Status FlexAvail(IReadOnlyCollection<Status> avails, int flexMin, int flexMax)
    {
        ArgumentNullException.ThrowIfNull(avails);
        var up = avails.Count(a => a == Status.Up);
        if (up == 0)
            return avails.Contains(Status.Warn) ? Status.Warn : Status.Down;
        if (up > flexMax || up < flexMin)
            return Status.Warn;
        return Status.Up;
    }

    static readonly Status[][] OverallUp =
    [
        [Status.Up, Status.Down],
        [Status.Up, Status.StandbyUp],
        [Status.Up, Status.Down, Status.StandbyUp],
        [Status.Up, Status.Down, Status.StandbyUp, Status.NotApplicable],
    ];

    static readonly Status[][] OverallDown =
    [
        [Status.Down, Status.StandbyUp],
        [Status.Down, Status.StandbyUp, Status.NotApplicable],
    ];

    /// <summary>
    /// Overall: no instance → n/a; any warn or stdby down → warn; one distinct value → that value; the mixes
    /// {up,down}, {up,stdby up}, {up,down,stdby up}, {up,down,stdby up,n/a} → up; {down,stdby up} with or
    /// without n/a → down; any other mix → undef. A result still saying "stdby" becomes down.
    /// </summary>
    public static Status OverallOf(IReadOnlyCollection<Status> overalls)
    {
        ArgumentNullException.ThrowIfNull(overalls);
        if (overalls.Count == 0)
            return Status.NotApplicable;
        var distinct = overalls.ToHashSet();
        Status result;
        if (distinct.Contains(Status.Warn) || distinct.Contains(Status.StandbyDown))
            result = Status.Warn;
        else if (distinct.Count == 1)
            result = distinct.Single();
        else if (OverallUp.Any(distinct.SetEquals))
            result = Status.Up;
        else if (OverallDown.Any(distinct.SetEquals))
            result = Status.Down;
        else
            result = Status.Undef;
        return result is Status.StandbyUp or Status.StandbyDown ? Status.Down : result;
    }
}
