namespace OpenSvc.Domain.Config;

/// <summary>
/// What reading one configuration document may cost, shared by everything that reads it (validation of every node,
/// a resolution, a plan) and by one API request: reference substitutions and the characters they produce, plus the
/// request's cancellation. A document whose references fan out or loop spends the budget and gets one located error
/// instead of minutes of CPU and gigabytes of memory. The limits are documented in docs/config-limits.md.
/// </summary>
public sealed class ConfigBudget
{
    /// <summary>Reference substitutions one document may make, over every node it is resolved for.</summary>
    public const int DefaultReferences = 20_000;

    /// <summary>Characters reference substitutions may produce, over every node (2 bytes each: 4 MiB of memory at most).</summary>
    public const long DefaultCharacters = 2L << 20;

    /// <summary>The longest a single value may become once its references are expanded.</summary>
    public const int MaxValueLength = 64 * 1024;

    /// <summary>The most nodes (nodes, drpnodes and drpnode together) a service may declare.</summary>
    public const int MaxNodes = 4096;

    int _references;
    long _characters;
    int _sinceCheck;

    public ConfigBudget(CancellationToken cancellationToken = default)
        : this(DefaultReferences, DefaultCharacters, cancellationToken)
    {
    }

    public ConfigBudget(int references, long characters, CancellationToken cancellationToken = default)
    {
        CancellationToken = cancellationToken;
        _references = references;
        _characters = characters;
        References = references;
        Characters = characters;
    }

    /// <summary>The request this reading belongs to: cancelling it stops the reading (OperationCanceledException).</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The budget's size, for messages.</summary>
    public int References { get; }

    public long Characters { get; }

    /// <summary>True once a substitution was refused: every later one is refused too.</summary>
    public bool Spent { get; private set; }

    /// <summary>Where the budget ran out: the section and the entry whose reading spent it (the entry is null for a default).</summary>
    internal (ConfigSection Section, ConfigEntry? Entry)? SpentAt { get; set; }

    /// <summary>Takes one reference substitution; false (and spent) when none is left.</summary>
    internal bool TakeReference()
    {
        CheckNow();
        if (Spent || _references <= 0)
            return !(Spent = true);
        _references--;
        return true;
    }

    /// <summary>Takes <paramref name="characters"/> characters of expansion; false (and spent) when over.</summary>
    internal bool TakeCharacters(long characters)
    {
        CheckNow();
        if (Spent || _characters < characters)
            return !(Spent = true);
        _characters -= characters;
        return true;
    }

    void CheckNow()
    {
        if (++_sinceCheck < 64)
            return;
        _sinceCheck = 0;
        CancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Checks the cancellation (called between nodes and sections).</summary>
    internal void Check() => CancellationToken.ThrowIfCancellationRequested();

    internal string Describe() =>
        $"the document's budget of {References.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} reference substitutions and {Characters / (1 << 20)} Mi expanded characters is spent";
}
