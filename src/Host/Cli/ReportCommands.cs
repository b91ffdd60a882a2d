using System.CommandLine;
using System.Text.Json;
using OpenSvc.Domain.Runs;
using OpenSvc.Host.Api;
using OpenSvc.Workflows.Reports;

namespace OpenSvc.Host.Cli;

/// <summary>`opensvc report drills`: the DR exercises and activations an auditor asks for, with RTO and RPO.</summary>
public static class ReportCommands
{
    public static Command Create(ServerOptions server)
    {
        var service = new Option<string?>("--service") { Description = "only this service" };
        var since = new Option<string?>("--since") { Description = "a UTC time (2026-11-24T10:00) or a duration back from now (90d, 12h)", DefaultValueFactory = _ => "90d" };
        var json = new Option<bool>("--json") { Description = "the rows as JSON" };
        var csv = new Option<bool>("--csv") { Description = "the rows as CSV (durations in seconds)" };
        var drills = new Command("drills", "Drills, takeovers and switches with who, when, result, RTO and RPO, newest first") { service, since, json, csv };
        drills.SetAction(async (p, ct) =>
        {
            if (p.GetValue(json) && p.GetValue(csv))
                throw new UserError("--json and --csv are exclusive: choose one");
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var rows = await cluster.Client.RecoveryReportAsync(new GetRecoveryReport(p.GetValue(service), RunCommands.ParseSince(p.GetValue(since))), ct)
                .ConfigureAwait(false);
            Console.Write(p.GetValue(json) ? JsonSerializer.Serialize(rows, ApiJson.Options) + "\n"
                : p.GetValue(csv) ? RecoveryReport.Csv(rows)
                : RecoveryReport.Text(rows));
            return ExitCodes.Ok;
        });
        return new Command("report", "Reports for audits and reviews") { drills };
    }
}
