using System.Globalization;
using System.Text;
using OpenSvc.Domain.Runs;

namespace OpenSvc.Host.Bench;

/// <summary>Latency percentiles in milliseconds (nearest rank), or none when nothing was measured.</summary>
public sealed record Percentiles(int Count, double P50, double P95, double P99, double Max)
{
    public static Percentiles Of(IReadOnlyCollection<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
            return new Percentiles(0, double.NaN, double.NaN, double.NaN, double.NaN);
        var sorted = samples.Order().ToArray();
        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new Percentiles(sorted.Length, Rank(0.50), Rank(0.95), Rank(0.99), sorted[^1]);
    }
}

/// <summary>
/// What one benchmark phase measured, read from the event store only:
/// dispatch = StepScheduled.At to StepStarted.At of the same attempt;
/// step-to-step = StepSucceeded.At of the step waited for to StepStarted.At of the next;
/// throughput = completed runs over first RunRequested.At to last RunCompleted.At.
/// </summary>
public sealed record EngineFigures(
    int Runs, int Completed, int Steps, Percentiles Dispatch, Percentiles StepToStep, Percentiles RunDuration, TimeSpan Span)
{
    public double WorkflowsPerSecond => Span > TimeSpan.Zero ? Completed / Span.TotalSeconds : double.NaN;

    /// <summary>What the phase cost, from first submission to last run ended (<see cref="PhaseCost"/>), if measured.</summary>
    public PhaseCost Cost { get; init; } = PhaseCost.None;

    public double PerStep(double total) => Steps > 0 && !double.IsNaN(total) ? total / Steps : double.NaN;

    /// <summary>Figures from each run's events, in stream order.</summary>
    public static EngineFigures From(IReadOnlyCollection<IReadOnlyList<object>> streams)
    {
        ArgumentNullException.ThrowIfNull(streams);
        var dispatch = new List<double>();
        var hops = new List<double>();
        var durations = new List<double>();
        DateTimeOffset? first = null, last = null;
        int completed = 0, steps = 0;
        foreach (var events in streams)
        {
            var scheduled = new Dictionary<(int Step, int Attempt), DateTimeOffset>();
            var succeeded = new Dictionary<int, DateTimeOffset>();
            WorkflowRun? run = null;
            DateTimeOffset? requestedAt = null;
            foreach (var e in events)
            {
                run = run is null ? e is RunRequested requested ? WorkflowRun.From(requested) : null : run.Then(e);
                switch (e)
                {
                    case RunRequested r:
                        requestedAt = r.At;
                        first = first is null || r.At < first ? r.At : first;
                        break;
                    case StepScheduled s:
                        scheduled[(s.Step, s.Attempt)] = s.At;
                        break;
                    case StepStarted s:
                        if (scheduled.TryGetValue((s.Step, s.Attempt), out var at))
                            dispatch.Add(Ms(s.At - at));
                        if (run is not null && s.Step < run.Steps.Count)
                        {
                            var waits = run.Steps[s.Step].Step.WaitsFor;
                            if (waits.Count > 0 && waits.All(succeeded.ContainsKey))
                                hops.Add(Ms(s.At - waits.Max(w => succeeded[w])));
                        }
                        break;
                    case StepSucceeded s:
                        succeeded[s.Step] = s.At;
                        steps++;
                        break;
                    case RunCompleted c:
                        completed++;
                        last = last is null || c.At > last ? c.At : last;
                        if (requestedAt is { } req)
                            durations.Add(Ms(c.At - req));
                        break;
                }
            }
        }
        var span = first is { } f && last is { } l ? l - f : TimeSpan.Zero;
        return new EngineFigures(streams.Count, completed, steps, Percentiles.Of(dispatch), Percentiles.Of(hops), Percentiles.Of(durations), span);
    }

    static double Ms(TimeSpan t) => t.TotalMilliseconds;
}

/// <summary>
/// The work a phase cost, which unlike latencies barely depends on what else the machine runs: CPU time of the
/// agent processes, of the submitting process (this one) and of the PostgreSQL server (embedded server only),
/// and the transactions PostgreSQL committed or rolled back in the phase's database. NaN: not measured.
/// </summary>
public sealed record PhaseCost(double AgentCpuMs, double SubmitterCpuMs, double PostgresCpuMs, double Transactions)
{
    /// <summary>
    /// Time the agents spent in their JIT (warm-up that has not settled yet), from their /health: wall-clock time
    /// of each compilation, so on a busy machine it counts the waits for a CPU too and can exceed the CPU time.
    /// </summary>
    public double AgentJitMs { get; init; } = double.NaN;

    public static readonly PhaseCost None = new(double.NaN, double.NaN, double.NaN, double.NaN);
}

/// <summary>
/// The printed report: the measured phase (notified queues) and the comparison phases side by side, each comparison
/// with its ratio to the measured phase, and a last line stating the aims.
/// </summary>
public static class EngineReport
{
    public const double AimP50Ms = 20, AimP99Ms = 100, AimWorkflowsPerSecond = 100;

    /// <param name="measured">The phase the aims are about.</param>
    /// <param name="comparisons">Other phases of the same run (skipped ones have no runs), printed with their ratio to the measured phase.</param>
    public static string Table(string measuredName, EngineFigures measured, IReadOnlyList<(string Name, EngineFigures Figures)> comparisons, int steps)
    {
        ArgumentNullException.ThrowIfNull(measured);
        ArgumentNullException.ThrowIfNull(comparisons);
        var others = comparisons.Where(c => c.Figures.Runs > 0).ToList();
        var sb = new StringBuilder();
        void Row(string name, string a, IEnumerable<(string Value, string Ratio)> rest)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{name,-24}{a,14}");
            foreach (var (value, ratio) in rest)
                sb.Append(CultureInfo.InvariantCulture, $"{value,24}{ratio,8}");
            sb.AppendLine();
        }
        void Latency(string name, Func<EngineFigures, double> of) =>
            Row(name, F(of(measured)), others.Select(o => (F(of(o.Figures)), Ratio(of(o.Figures), of(measured)))));

        Row("", measuredName, others.Select(o => (o.Name, "ratio")));
        Row("workflows completed", $"{measured.Completed}/{measured.Runs}", others.Select(o => ($"{o.Figures.Completed}/{o.Figures.Runs}", "")));
        Row("steps succeeded", I(measured.Steps), others.Select(o => (I(o.Figures.Steps), "")));
        Latency("dispatch p50 ms", f => f.Dispatch.P50);
        Latency("dispatch p95 ms", f => f.Dispatch.P95);
        Latency("dispatch p99 ms", f => f.Dispatch.P99);
        Latency("dispatch max ms", f => f.Dispatch.Max);
        Latency("step-to-step p50 ms", f => f.StepToStep.P50);
        Latency("step-to-step p95 ms", f => f.StepToStep.P95);
        Latency("step-to-step p99 ms", f => f.StepToStep.P99);
        Latency("run p50 ms", f => f.RunDuration.P50);
        Row("workflows/s", F(measured.WorkflowsPerSecond), others.Select(o => (F(o.Figures.WorkflowsPerSecond), Ratio(measured.WorkflowsPerSecond, o.Figures.WorkflowsPerSecond))));
        Row("span s", F(measured.Span.TotalSeconds), others.Select(o => (F(o.Figures.Span.TotalSeconds), "")));
        void Cost(string name, Func<PhaseCost, double> of) =>
            Row(name, F(measured.PerStep(of(measured.Cost))), others.Select(o => (F(o.Figures.PerStep(of(o.Figures.Cost))), Ratio(o.Figures.PerStep(of(o.Figures.Cost)), measured.PerStep(of(measured.Cost))))));
        Cost("agents CPU ms/step", c => c.AgentCpuMs);
        Cost("agents JIT wall ms/step", c => c.AgentJitMs);
        Cost("submitter CPU ms/step", c => c.SubmitterCpuMs);
        Cost("PostgreSQL CPU ms/step", c => c.PostgresCpuMs);
        Cost("transactions/step", c => c.Transactions);
        if (others.Count > 0)
            sb.Append(CultureInfo.InvariantCulture, $"(ratio: the other phase over {measuredName} for latencies and costs, {measuredName} over the other phase for workflows/s: above 1x, {measuredName} does better)").AppendLine();
        sb.Append(Aims(measured, steps, measuredName)).AppendLine();
        return sb.ToString();
    }

    public static string Aims(EngineFigures f, int steps, string phase = "notified queues")
    {
        ArgumentNullException.ThrowIfNull(f);
        static string Met(bool ok) => ok ? "met" : "NOT met";
        var p50 = f.Dispatch.P50 < AimP50Ms;
        var p99 = f.Dispatch.P99 < AimP99Ms;
        var rate = f.Completed == f.Runs && f.WorkflowsPerSecond >= AimWorkflowsPerSecond;
        var rateText = steps == 3
            ? $">= {AimWorkflowsPerSecond:0} three-step workflows/s: {Met(rate)} ({F(f.WorkflowsPerSecond)})"
            : $">= {AimWorkflowsPerSecond:0} three-step workflows/s: not measured (--steps {steps}; {F(f.WorkflowsPerSecond)} {steps}-step workflows/s)";
        return string.Create(CultureInfo.InvariantCulture,
            $"aims ({phase}): dispatch p50 < {AimP50Ms:0} ms: {Met(p50)} ({F(f.Dispatch.P50)}); dispatch p99 < {AimP99Ms:0} ms: {Met(p99)} ({F(f.Dispatch.P99)}); {rateText}");
    }

    static string F(double v) => double.IsNaN(v) ? "-" : v.ToString(v >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);

    static string I(int v) => v.ToString(CultureInfo.InvariantCulture);

    static string Ratio(double numerator, double denominator) =>
        double.IsNaN(numerator) || double.IsNaN(denominator) || denominator <= 0 ? "-" : (numerator / denominator).ToString("0.0", CultureInfo.InvariantCulture) + "x";
}
