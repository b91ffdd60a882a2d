using System.Globalization;
using System.Text.Json;
using Npgsql;
using OpenSvc.Infrastructure.Engine;

namespace OpenSvc.Host.WebConsole;

/// <summary>
/// The Hangfire jobs that ran a run's steps, so each step of the console's timeline links to its job in the dashboard. A
/// step job's arguments start with the run id, the step index and the execution number; the run's events do not name
/// jobs, so they are found in Hangfire's own job table (by the run id in their arguments). Jobs Hangfire has expired are
/// simply not found.
/// </summary>
public sealed class HangfireJobs(EngineOptions options)
{
    readonly string _connection = EngineServices.HangfireConnectionString(options.ConnectionString);
    readonly string _schema = options.HangfireSchema;

    /// <summary>Step index → the job id of that step's latest execution.</summary>
    public async Task<IReadOnlyDictionary<int, long>> OfRunAsync(Guid runId, CancellationToken ct)
    {
        var found = new Dictionary<int, (int Execution, long Job)>();
        try
        {
            await using var conn = new NpgsqlConnection(_connection);
            await conn.OpenAsync(ct).ConfigureAwait(false);
            await using var cmd = new NpgsqlCommand($"select id, arguments::text from \"{_schema}\".job where arguments::text like @run", conn);
            cmd.Parameters.AddWithValue("run", "%" + runId.ToString() + "%");
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var id = reader.GetInt64(0);
                if (Parse(reader.GetString(1)) is not { } args || args.Run != runId)
                    continue;
                if (!found.TryGetValue(args.Step, out var known) || known.Execution <= args.Execution)
                    found[args.Step] = (args.Execution, id);
            }
        }
        catch (NpgsqlException)
        {
            // No links is better than no timeline.
            return new Dictionary<int, long>();
        }
        return found.ToDictionary(kv => kv.Key, kv => kv.Value.Job);
    }

    /// <summary>(run, step, execution) from a step job's stored arguments (a JSON array of JSON-serialized values).</summary>
    public static (Guid Run, int Step, int Execution)? Parse(string arguments)
    {
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            if (doc.RootElement.ValueKind != JsonValueKind.Array || doc.RootElement.GetArrayLength() < 3)
                return null;
            string? Arg(int i) => doc.RootElement[i].ValueKind == JsonValueKind.String ? doc.RootElement[i].GetString() : doc.RootElement[i].GetRawText();
            var run = Arg(0)?.Trim('"');
            return Guid.TryParse(run, out var g)
                   && int.TryParse(Arg(1), NumberStyles.Integer, CultureInfo.InvariantCulture, out var step)
                   && int.TryParse(Arg(2), NumberStyles.Integer, CultureInfo.InvariantCulture, out var execution)
                ? (g, step, execution)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
