using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Drivers;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Host.Cli;

/// <summary>
/// `opensvc driver exec`: runs one resource driver action on this node, outside any workflow (no database, no
/// events). The same driver code the agent runs for a step; used by the lab integration tests and for
/// troubleshooting a resource by hand. Hidden from help: operators use `svc start|stop`.
/// </summary>
public static class DriverCommands
{
    public static Command Driver(Option<string?> connection)
    {
        _ = connection;
        var config = new Option<string>("--config") { Description = "the service's config file", Required = true };
        var service = new Option<string>("--service") { Description = "service name (ns/name or name)", Required = true };
        var rid = new Option<string>("--rid") { Description = "resource id, e.g. fs#0", Required = true };
        var action = new Option<string>("--action") { Description = "start, stop, startstandby or status", Required = true };
        var node = new Option<string?>("--node") { Description = "the node the config is resolved for (default: OPENSVC_NODENAME, else the short host name)" };
        var exec = new Command("exec", "Run one driver action for one resource on this node, without a workflow") { config, service, rid, action, node };
        exec.SetAction(async (p, ct) =>
        {
            var path = p.GetValue(config)!;
            if (!File.Exists(path))
                throw new UserError($"config file {path} not found");
            var text = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            var nodeText = p.GetValue(node) ?? ClusterSession.LocalNodeName();
            if (!NodeName.TryParse(nodeText, out var nodeName))
                throw new UserError($"--node '{nodeText}' is not a valid node name");
            if (!ResourceId.TryParse(p.GetValue(rid), out var resourceId))
                throw new UserError($"--rid '{p.GetValue(rid)}' is not a resource id (group#index)");
            var svc = p.GetValue(service)!;
            var resolved = ResolvedConfigs.Resolve(text, svc, nodeName);
            var resource = resolved.Resource(resourceId.ToString())
                ?? throw new UserError($"{resourceId} is not a resource of {svc} on {nodeName} (known: {string.Join(' ', resolved.Resources.Select(r => r.Id))})");

            var services = new ServiceCollection();
            services.AddLogging(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            services.AddResourceDrivers();
            services.AddSingleton<DriverRegistry>();
            await using var provider = services.BuildServiceProvider();
            var driver = provider.GetRequiredService<DriverRegistry>().Find(resource.Driver)
                ?? throw new UserError($"no driver for {resource.Driver} on this agent");

            var verb = p.GetValue(action)!;
            if (verb == "status")
            {
                var probe = await driver.StatusAsync(new StatusContext(svc, resourceId, resource.Driver, text, nodeName), ct).ConfigureAwait(false);
                Console.WriteLine($"{resourceId}: {probe.Status.ToDisplay()}{(probe.Message is { } m ? " (" + m + ")" : "")}");
                return ExitCodes.Ok;
            }
            var resourceAction = verb switch
            {
                "start" => ResourceAction.Start,
                "stop" => ResourceAction.Stop,
                "startstandby" => ResourceAction.StartStandby,
                _ => throw new UserError($"--action '{verb}' is not one of start, stop, startstandby, status"),
            };
            var step = new PlanStep(0, nodeName, resourceId, resource.Driver, resourceAction, [], StepPolicy.Default);
            try
            {
                var result = await driver.ExecuteAsync(resourceAction, new StepContext(Guid.CreateVersion7(), svc, step, 1, text, nodeName), ct).ConfigureAwait(false);
                Console.WriteLine($"{resourceId} {verb}: {(result.Changed ? "changed" : "unchanged")}");
                if (result.Output.Length > 0)
                    Console.WriteLine(result.Output);
                return ExitCodes.Ok;
            }
            catch (StepFailedException e)
            {
                Console.Error.WriteLine($"opensvc: {e.Message}");
                return ExitCodes.Failed;
            }
        });
        return new Command("driver", "Resource driver tools (tests, troubleshooting)") { Hidden = true, Subcommands = { exec } };
    }
}
