namespace OpenSvc.Domain;

/// <summary>
/// A running merge of statuses (OpenSVC's MERGE_RULES). Besides the seven public states it carries two
/// internal ones: "stdby up with up" (ends as <c>up</c>) and "stdby up with down" (ends as <c>stdby up</c>),
/// so that a standby resource up beside stopped resources reads <c>stdby up</c> and not <c>warn</c>.
/// <c>undef</c> is neutral: it never changes the merge.
/// </summary>
public readonly record struct StatusMerge
{
    enum State { Up, Down, Warn, NotApplicable, Undef, StandbyUp, StandbyDown, StandbyUpWithUp, StandbyUpWithDown }

    readonly State state;

    StatusMerge(State state) => this.state = state;

    /// <summary>Where a merge starts: n/a.</summary>
    public static StatusMerge Start => new(State.NotApplicable);

    public static StatusMerge Of(Status status) => new(From(status));

    public static Status Merge(IEnumerable<Status> statuses)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        var merge = Start;
        foreach (var s in statuses)
            merge = merge.Add(s);
        return merge.Result;
    }

    public StatusMerge Add(Status status) => Add(Of(status));

    public StatusMerge Add(StatusMerge other) => new(Pair(state, other.state));

    /// <summary>The merged status, with the internal states resolved.</summary>
    public Status Result => state switch
    {
        State.Up => Status.Up,
        State.Down => Status.Down,
        State.Warn => Status.Warn,
        State.NotApplicable => Status.NotApplicable,
        State.Undef => Status.Undef,
        State.StandbyUp => Status.StandbyUp,
        State.StandbyDown => Status.StandbyDown,
        State.StandbyUpWithUp => Status.Up,
        State.StandbyUpWithDown => Status.StandbyUp,
        _ => throw new InvalidOperationException($"unknown merge state {state}"),
    };

    /// <summary>The internal state's name, for tests and debugging.</summary>
    public override string ToString() => state switch
    {
        State.StandbyUpWithUp => "stdby up with up",
        State.StandbyUpWithDown => "stdby up with down",
        _ => Result.ToDisplay(),
    };

    static State From(Status status) => status switch
    {
        Status.Up => State.Up,
        Status.Down => State.Down,
        Status.Warn => State.Warn,
        Status.NotApplicable => State.NotApplicable,
        Status.Undef => State.Undef,
        Status.StandbyUp => State.StandbyUp,
        Status.StandbyDown => State.StandbyDown,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a status"),
    };

    static State Pair(State a, State b)
    {
        if (a == State.Undef)
            return b;
        if (b == State.Undef)
            return a;
        if (a == State.Warn || b == State.Warn)
            return State.Warn;
        // The rules are symmetric: look each unordered pair up once.
        return Ordered(a, b) ?? Ordered(b, a) ?? throw new InvalidOperationException($"no merge rule for {a} + {b}");
    }

    static State? Ordered(State a, State b) => (a, b) switch
    {
        (State.Up, State.Up) => State.Up,
        (State.Up, State.Down) => State.Warn,
        (State.Up, State.NotApplicable) => State.Up,
        (State.Up, State.StandbyUp) => State.StandbyUpWithUp,
        (State.Up, State.StandbyDown) => State.Warn,
        (State.Up, State.StandbyUpWithUp) => State.StandbyUpWithUp,
        (State.Up, State.StandbyUpWithDown) => State.Warn,
        (State.Down, State.Down) => State.Down,
        (State.Down, State.NotApplicable) => State.Down,
        (State.Down, State.StandbyUp) => State.StandbyUpWithDown,
        (State.Down, State.StandbyDown) => State.StandbyDown,
        (State.Down, State.StandbyUpWithUp) => State.Warn,
        (State.Down, State.StandbyUpWithDown) => State.StandbyUpWithDown,
        (State.NotApplicable, State.NotApplicable) => State.NotApplicable,
        (State.NotApplicable, State.StandbyUp) => State.StandbyUp,
        (State.NotApplicable, State.StandbyDown) => State.StandbyDown,
        (State.NotApplicable, State.StandbyUpWithUp) => State.StandbyUpWithUp,
        (State.NotApplicable, State.StandbyUpWithDown) => State.StandbyUpWithDown,
        (State.StandbyUp, State.StandbyUp) => State.StandbyUp,
        (State.StandbyUp, State.StandbyDown) => State.Warn,
        (State.StandbyUp, State.StandbyUpWithUp) => State.StandbyUpWithUp,
        (State.StandbyUp, State.StandbyUpWithDown) => State.StandbyUpWithDown,
        (State.StandbyDown, State.StandbyDown) => State.StandbyDown,
        (State.StandbyDown, State.StandbyUpWithUp) => State.Warn,
        (State.StandbyDown, State.StandbyUpWithDown) => State.Warn,
        (State.StandbyUpWithUp, State.StandbyUpWithUp) => State.StandbyUpWithUp,
        (State.StandbyUpWithUp, State.StandbyUpWithDown) => State.Warn,
        (State.StandbyUpWithDown, State.StandbyUpWithDown) => State.StandbyUpWithDown,
        _ => null,
    };
}
