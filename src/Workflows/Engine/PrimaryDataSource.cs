using Npgsql;

namespace OpenSvc.Workflows.Engine;

/// <summary>
/// Data sources that follow the primary when the connection string lists several hosts (the control plane replicated
/// across sites: <c>Host=n1,n3;Target Session Attributes=primary</c>). Npgsql refuses a target session in the
/// connection string of a multi-host data source ("When creating a multi-host data source, TargetSessionAttributes
/// cannot be specified"): the attribute is taken out, the multi-host data source built, and the wrapper for that
/// attribute returned (primary when none was given). A plain NpgsqlConnection accepts the string as it is.
/// </summary>
public static class PrimaryDataSource
{
    public static bool IsMultiHost(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString).Host?.Contains(',', StringComparison.Ordinal) == true;

    public static NpgsqlDataSource Create(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        if (b.Host?.Contains(',', StringComparison.Ordinal) != true)
            return NpgsqlDataSource.Create(b.ConnectionString);
        var target = Parse(b.TargetSessionAttributes);
        b.TargetSessionAttributes = null;
        return new NpgsqlDataSourceBuilder(b.ConnectionString).BuildMultiHost().WithTargetSession(target);
    }

    /// <summary>The connection string for a multi-host list that must reach the primary (the attribute set when missing).</summary>
    public static string Primary(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        if (b.Host?.Contains(',', StringComparison.Ordinal) == true && string.IsNullOrEmpty(b.TargetSessionAttributes))
            b.TargetSessionAttributes = "primary";
        return b.ConnectionString;
    }

    static TargetSessionAttributes Parse(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "primary" => TargetSessionAttributes.Primary,
        "any" => TargetSessionAttributes.Any,
        "read-write" => TargetSessionAttributes.ReadWrite,
        "read-only" => TargetSessionAttributes.ReadOnly,
        "standby" => TargetSessionAttributes.Standby,
        "prefer-primary" => TargetSessionAttributes.PreferPrimary,
        "prefer-standby" => TargetSessionAttributes.PreferStandby,
        _ => throw new ArgumentException($"Target Session Attributes '{value}' is not one of primary, any, read-write, read-only, standby, prefer-primary, prefer-standby"),
    };
}
