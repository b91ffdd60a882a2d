using System.CommandLine;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;

namespace OpenSvc.Host.Cli;

/// <summary>`opensvc config validate FILE...`, `config print FILE --node N [--json]` and `config schedule FILE`: no database needed.</summary>
public static class ConfigCommands
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "service configuration files", Arity = ArgumentArity.OneOrMore };
        var svcOpt = new Option<string?>("--service") { Description = "service name (default: each file's name without extension)" };
        var validate = new Command("validate", "Check service files: every problem at once as FILE:LINE: severity: [section] keyword: reason (fix: ...); exit 2 on any error or unreadable file") { files, svcOpt };
        validate.SetAction(p =>
        {
            var errors = 0;
            var warnings = 0;
            foreach (var file in p.GetValue(files)!)
            {
                // A file that cannot be read is one error: the other files are still checked.
                ConfigDocument doc;
                string service;
                try
                {
                    doc = ConfigFiles.Load(file);
                    service = ConfigFiles.ServiceName(file, p.GetValue(svcOpt));
                }
                catch (UserError e)
                {
                    Console.Error.WriteLine($"opensvc: {e.Message}");
                    errors++;
                    continue;
                }
                var problems = ConfigValidator.Validate(doc, service);
                foreach (var problem in problems.OrderBy(x => x.Line))
                    Console.WriteLine(problem.ToString());
                errors += problems.Count(x => x.Severity == Severity.Error);
                warnings += problems.Count(x => x.Severity == Severity.Warning);
            }
            Console.WriteLine($"{errors} error(s), {warnings} warning(s)");
            return errors > 0 ? ExitCodes.BadInput : ExitCodes.Ok;
        });

        var file = new Argument<string>("file") { Description = "service configuration file" };
        var node = new Option<string?>("--node") { Description = "the node whose view to print", Required = true };
        var json = new Option<bool>("--json") { Description = "stable JSON (documented in docs/config-print.md)" };
        var svcOpt2 = new Option<string?>("--service") { Description = "service name (default: the file's name without extension)" };
        var print = new Command("print", "Print the fully resolved service as one node sees it; exit 2 when the config has errors for that node") { file, node, json, svcOpt2 };
        print.SetAction(p =>
        {
            var path = p.GetValue(file)!;
            var doc = ConfigFiles.Load(path);
            var service = ConfigFiles.ServiceName(path, p.GetValue(svcOpt2));
            var nodeName = ConfigFiles.Node(p.GetValue(node));
            ConfigFiles.RequirePeer(doc, service, nodeName);
            var resolved = ServiceResolver.Resolve(doc, service, nodeName);
            Console.WriteLine(p.GetValue(json) ? ServicePrinter.Json(resolved) : ServicePrinter.Text(resolved));
            // The view is printed either way; a config with errors for this node is still bad input.
            var errors = resolved.Problems.Count(x => x.Severity == Severity.Error && (x.Node is null || x.Node == nodeName));
            if (errors == 0)
                return ExitCodes.Ok;
            Console.Error.WriteLine($"opensvc: {path} has {errors} error(s) for {nodeName} (listed under problems): fix them before running it there");
            return ExitCodes.BadInput;
        });
        var scheduleFile = new Argument<string>("file") { Description = "service configuration file" };
        var scheduleNode = new Option<string?>("--node") { Description = "the node whose view to read (default: the first of nodes, else of drpnodes)" };
        var count = new Option<int>("--count") { Description = "how many due times to print per scheduled action", DefaultValueFactory = _ => 3 };
        var from = new Option<DateTimeOffset?>("--from") { Description = "compute due times from this instant (ISO 8601; default: now)" };
        var svcOpt3 = new Option<string?>("--service") { Description = "service name (default: the file's name without extension)" };
        var schedule = new Command("schedule", "Print each scheduled action (resource id, schedule definition) and its next due times, ISO 8601 UTC, or never") { scheduleFile, scheduleNode, count, from, svcOpt3 };
        schedule.SetAction(p =>
        {
            var path = p.GetValue(scheduleFile)!;
            var doc = ConfigFiles.Load(path);
            var service = ConfigFiles.ServiceName(path, p.GetValue(svcOpt3));
            NodeName nodeName;
            if (p.GetValue(scheduleNode) is { } named)
            {
                nodeName = ConfigFiles.Node(named);
                ConfigFiles.RequirePeer(doc, service, nodeName);
            }
            else
            {
                var probe = ServiceResolver.Resolve(doc, service, new NodeName("opensvc-scheduler"));
                nodeName = probe.Nodes.Concat(probe.DrpNodes).FirstOrDefault();
                if (nodeName == default)
                    throw new UserError($"{path}: declares no nodes: name the node with --node N");
            }
            var k = p.GetValue(count);
            if (k < 1)
                throw new UserError("--count must be at least 1");
            var resolved = ServiceResolver.Resolve(doc, service, nodeName);
            var lines = ScheduledActions.Print(resolved, p.GetValue(from) ?? DateTimeOffset.UtcNow, k, TimeZoneInfo.Local);
            foreach (var line in lines)
                Console.WriteLine(line);
            return ExitCodes.Ok;
        });
        return new Command("config", "Validate and print service configuration files (OpenSVC dialect)") { validate, print, schedule };
    }
}
