using System.Globalization;
using System.Text;
using Marten;
using MediatR;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Agents;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Workflows.Monitoring;

/// <summary>One sample of a metric family: its labels and value.</summary>
public sealed record MetricSample(IReadOnlyList<KeyValuePair<string, string>> Labels, double Value);

/// <summary>A metric family in Prometheus' model: name, help, type (gauge or counter), samples.</summary>
public sealed record MetricFamily(string Name, string Help, string Type, IReadOnlyList<MetricSample> Samples);

/// <summary>
/// The cluster's DR metrics as every agent serves them at /metrics, computed from the database at scrape time: the
/// age of each copy against its sync_max_delay, DR readiness per service and DR node, the age of the last successful
/// drill, runs by action and outcome with their durations, and which agents answer.
/// </summary>
public sealed record GetMetrics : IRequest<IReadOnlyList<MetricFamily>>;

public sealed class GetMetricsHandler(IDocumentStore store, IDatabaseClock clock, LivenessOptions liveness)
    : IRequestHandler<GetMetrics, IReadOnlyList<MetricFamily>>
{
    public async Task<IReadOnlyList<MetricFamily>> Handle(GetMetrics request, CancellationToken cancellationToken)
    {
        IReadOnlyList<ServiceActivity> services;
        IReadOnlyList<Syncs.SyncRecord> records;
        IReadOnlyList<RunFacts> runs;
        IReadOnlyList<InstanceStatusReport> reports;
        AgentRoster roster;
        IReadOnlyList<WorkflowRun> readinessRuns;
        await using (var query = store.QuerySession())
        {
            services = (await query.Query<ServiceActivity>().Where(s => s.ConfigVersion > 0).ToListAsync(cancellationToken).ConfigureAwait(false))
                .Where(s => s.Exists).OrderBy(s => s.Service, StringComparer.Ordinal).ToList();
            records = await query.Query<Syncs.SyncRecord>().ToListAsync(cancellationToken).ConfigureAwait(false);
            // Only the fields counted, projected by the database: every run ever is read, not every run's plan and config.
            runs = await query.Query<WorkflowRun>().Where(r => r.Status != RunStatus.Running)
                .Select(r => new RunFacts(r.Service, r.Action, r.Status, r.RequestedAt, r.EndedAt)).ToListAsync(cancellationToken).ConfigureAwait(false);
            reports = await query.Query<InstanceStatusReport>().ToListAsync(cancellationToken).ConfigureAwait(false);
            readinessRuns = await GetReadinessHandler.RunsAsync(query, null, records, cancellationToken).ConfigureAwait(false);
            roster = await AgentRoster.ReadAsync(query, clock, liveness, cancellationToken).ConfigureAwait(false);
        }

        var age = new List<MetricSample>();
        var synced = new List<MetricSample>();
        var maxDelay = new List<MetricSample>();
        var ready = new List<MetricSample>();
        var drilled = new List<MetricSample>();
        foreach (var svc in services)
        {
            var doc = ConfigParser.Parse(svc.ConfigText!, svc.Service + ".conf");
            var probe = ServiceResolver.ResolveAnyNode(doc, svc.Service);
            foreach (var target in probe.Nodes.Concat(probe.DrpNodes).Distinct())
            {
                var resolved = ServiceResolver.Resolve(doc, svc.Service, target);
                foreach (var sync in resolved.Resources.OfType<SyncResource>().Where(s => !s.Disabled && s.Targets.Contains(target)))
                {
                    var labels = Labels(("service", svc.Service), ("rid", sync.Id.ToString()), ("target", target.Value));
                    var last = records.FirstOrDefault(r => r.Service == svc.Service && r.Rid == sync.Id.ToString() && r.Target == target.Value);
                    synced.Add(new MetricSample(labels, last is null ? 0 : 1));
                    if (last is not null)
                        age.Add(new MetricSample(labels, (roster.Now - last.At).TotalSeconds));
                    maxDelay.Add(new MetricSample(labels, sync.SyncMaxDelaySeconds));
                }
            }
            foreach (var node in probe.DrpNodes)
            {
                var readiness = GetReadinessHandler.Evaluate(svc, node, roster, reports, records, readinessRuns);
                ready.Add(new MetricSample(Labels(("service", svc.Service), ("node", node.Value)), readiness.Ready ? 1 : 0));
                if (Drills.LastSuccessful(readinessRuns, svc.Service, node) is { } drill)
                    drilled.Add(new MetricSample(Labels(("service", svc.Service), ("node", node.Value)), (roster.Now - (drill.EndedAt ?? drill.RequestedAt)).TotalSeconds));
            }
        }

        var outcomes = runs.GroupBy(r => (Service: r.Service, Action: ActionWords.Of(r.Action), Outcome: r.Status.ToString().ToLowerInvariant())).ToList();
        var timed = runs.Where(r => r.EndedAt is not null && r.Status != RunStatus.Refused)
            .GroupBy(r => (Action: ActionWords.Of(r.Action), Outcome: r.Status.ToString().ToLowerInvariant())).ToList();
        return
        [
            new("opensvc_sync_last_success_age_seconds", "Age of the last successful sync of a resource to a target: the data a takeover there would lose now.", "gauge", age),
            new("opensvc_sync_ever_succeeded", "1 when a sync of the resource to the target ever succeeded, 0 when the target has no copy.", "gauge", synced),
            new("opensvc_sync_max_delay_seconds", "The resource's sync_max_delay: the age beyond which its copy is out of its objective.", "gauge", maxDelay),
            new("opensvc_dr_ready", "1 when the service can be activated on the DR node now (opensvc svc readiness), 0 otherwise.", "gauge", ready),
            new("opensvc_drill_last_success_age_seconds", "Age of the last successful drill of the service on the DR node (absent: never drilled there).", "gauge", drilled),
            new("opensvc_runs_total", "Workflow runs that ended, by service, action and outcome.", "counter",
                outcomes.Select(g => new MetricSample(Labels(("service", g.Key.Service), ("action", g.Key.Action), ("outcome", g.Key.Outcome)), g.Count())).ToList()),
            new("opensvc_run_duration_seconds_sum", "Total duration of ended runs, by action and outcome.", "counter",
                timed.Select(g => new MetricSample(Labels(("action", g.Key.Action), ("outcome", g.Key.Outcome)), g.Sum(r => (r.EndedAt!.Value - r.RequestedAt).TotalSeconds))).ToList()),
            new("opensvc_run_duration_seconds_count", "Number of ended runs counted in the duration sum, by action and outcome.", "counter",
                timed.Select(g => new MetricSample(Labels(("action", g.Key.Action), ("outcome", g.Key.Outcome)), g.Count())).ToList()),
            new("opensvc_agent_up", "1 when the node's agent heartbeats (judged on the database's clock), 0 when it is silent.", "gauge",
                roster.Agents.OrderBy(a => a.Id, StringComparer.Ordinal).Select(a => new MetricSample(Labels(("node", a.Id)), roster.IsAlive(a.Id) ? 1 : 0)).ToList()),
        ];
    }

    sealed record RunFacts(string Service, ServiceAction Action, RunStatus Status, DateTimeOffset RequestedAt, DateTimeOffset? EndedAt);

    static List<KeyValuePair<string, string>> Labels(params (string Name, string Value)[] labels) =>
        labels.Select(l => new KeyValuePair<string, string>(l.Name, l.Value)).ToList();
}

/// <summary>Prometheus' text exposition format (version 0.0.4).</summary>
public static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(IReadOnlyList<MetricFamily> families)
    {
        ArgumentNullException.ThrowIfNull(families);
        var sb = new StringBuilder();
        foreach (var f in families)
        {
            sb.Append("# HELP ").Append(f.Name).Append(' ').Append(EscapeHelp(f.Help)).Append('\n');
            sb.Append("# TYPE ").Append(f.Name).Append(' ').Append(f.Type).Append('\n');
            foreach (var s in f.Samples)
            {
                sb.Append(f.Name);
                if (s.Labels.Count > 0)
                    sb.Append('{').AppendJoin(',', s.Labels.Select(l => $"{l.Key}=\"{EscapeLabel(l.Value)}\"")).Append('}');
                sb.Append(' ').Append(Value(s.Value)).Append('\n');
            }
        }
        return sb.ToString();
    }

    static string Value(double v) =>
        double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : v.ToString("0.###", CultureInfo.InvariantCulture);

    static string EscapeHelp(string text) => text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    static string EscapeLabel(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
