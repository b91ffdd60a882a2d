using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OpenSvc.Domain.Planning;

/// <summary>
/// Renders plans for people (dry run) and as a stable JSON document (golden files, API). Both forms list
/// steps in index order and spell actions in lowercase as the CLI does.
/// </summary>
public static class PlanPrinter
{
    /// <summary>
    /// A header line, then one line per step, columns aligned:
    /// <c>  1. n1  start  fs#0  (fs)  compensate: stop</c>. A step that does not simply wait for the previous
    /// one says which steps it waits for.
    /// </summary>
    public static string ToText(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{ActionWords.Of(plan.Action)} {plan.Service} on {plan.Node}");
        if (plan.To is { } to)
            text.Append(CultureInfo.InvariantCulture, $" to {to}");
        text.Append(CultureInfo.InvariantCulture, $" (rollback {(plan.Rollback ? "on" : "off")}, {plan.Steps.Count} steps");
        if (plan.Keep is { } keep)
            text.Append(CultureInfo.InvariantCulture, $", cleaned up on its own {Runs.RunTimeline.Duration(keep)} after its request");
        text.Append(")\n");

        var numberWidth = plan.Steps.Count == 0 ? 1 : plan.Steps.Max(s => (s.Index + 1).ToString(CultureInfo.InvariantCulture).Length);
        var nodeWidth = Width(plan.Steps, s => s.Node.ToString());
        var actionWidth = Width(plan.Steps, s => ActionWords.Of(s.Action));
        var ridWidth = Width(plan.Steps, s => s.Rid.ToString());
        var driverWidth = Width(plan.Steps, s => $"({s.Driver})");
        foreach (var step in plan.Steps)
        {
            var number = (step.Index + 1).ToString(CultureInfo.InvariantCulture).PadLeft(numberWidth) + ".";
            var cells = new List<string>
            {
                step.Node.ToString().PadRight(nodeWidth),
                ActionWords.Of(step.Action).PadRight(actionWidth),
                step.Rid.ToString().PadRight(ridWidth),
                $"({step.Driver})".PadRight(driverWidth),
            };
            if (step.Target is { } target)
                cells.Add($"to {target}");
            if (step.Compensation is { } compensation)
                cells.Add($"compensate: {ActionWords.Of(compensation)}");
            if (step.Optional)
                cells.Add("optional");
            if (!IsChained(step))
                cells.Add(step.WaitsFor.Count == 0 ? "waits for nothing" : $"after {string.Join(", ", step.WaitsFor.Select(w => w + 1))}");
            text.Append("  ").Append(number).Append(' ').Append(string.Join("  ", cells).TrimEnd()).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The plan, then one line per resource left out and why.</summary>
    public static string ToText(AcceptedPlan accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        var text = new StringBuilder(ToText(accepted.Plan));
        foreach (var s in accepted.Skipped)
            text.Append(CultureInfo.InvariantCulture, $"  skip {s.Node}  {s.Rid}: {s.Reason}\n");
        return text.ToString();
    }

    public static string ToText(Refusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return $"refused ({Kebab(refusal.Guard.ToString())}): {refusal.Reason}\n";
    }

    /// <summary>
    /// Stable JSON: fixed property order, camelCase names, lowercase action names, durations in whole
    /// seconds, null <c>to</c>/<c>target</c>/<c>compensation</c> written out, two-space indent, '\n' line ends.
    /// </summary>
    public static string ToJson(Plan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, NewLine = "\n" }))
        {
            w.WriteStartObject();
            w.WriteString("service", plan.Service);
            w.WriteString("action", ActionWords.Of(plan.Action));
            w.WriteString("node", plan.Node.ToString());
            WriteNullable(w, "to", plan.To?.ToString());
            w.WriteBoolean("rollback", plan.Rollback);
            if (plan.Keep is { } keep)
                w.WriteNumber("keepSeconds", (long)keep.TotalSeconds);
            w.WriteStartArray("steps");
            foreach (var s in plan.Steps)
            {
                w.WriteStartObject();
                w.WriteNumber("index", s.Index);
                w.WriteString("node", s.Node.ToString());
                w.WriteString("rid", s.Rid.ToString());
                w.WriteString("driver", s.Driver);
                w.WriteString("action", ActionWords.Of(s.Action));
                WriteNullable(w, "target", s.Target?.ToString());
                WriteNullable(w, "compensation", s.Compensation is { } c ? ActionWords.Of(c) : null);
                w.WriteBoolean("optional", s.Optional);
                w.WriteStartArray("waitsFor");
                foreach (var i in s.WaitsFor)
                    w.WriteNumberValue(i);
                w.WriteEndArray();
                w.WriteStartObject("policy");
                w.WriteNumber("timeoutSeconds", (long)s.Policy.Timeout.TotalSeconds);
                w.WriteNumber("maxAttempts", s.Policy.MaxAttempts);
                w.WriteNumber("backoffSeconds", (long)s.Policy.Backoff.TotalSeconds);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    static bool IsChained(PlanStep step) =>
        step.Index == 0 ? step.WaitsFor.Count == 0 : step.WaitsFor is [var previous] && previous == step.Index - 1;

    static int Width(IReadOnlyList<PlanStep> steps, Func<PlanStep, string> cell) =>
        steps.Count == 0 ? 0 : steps.Max(s => cell(s).Length);

    static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
            w.WriteNull(name);
        else
            w.WriteString(name, value);
    }

    static string Kebab(string pascal)
    {
        var text = new StringBuilder();
        foreach (var c in pascal)
        {
            if (char.IsUpper(c) && text.Length > 0)
                text.Append('-');
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }
}
