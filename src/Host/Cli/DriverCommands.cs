using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Drivers;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Host.Cli;

/// <summary>
/// `opensvc driver exec`: runs one driver action for one resource on this node, outside any workflow (no database, no
/// events): start, stop, startstandby, sync (to --target), prepare-receive, or the status probe. The same driver code,
/// registered the same way, that the node's agent runs for a step; used by the lab integration tests, the sync
/// benchmark (--serve: a warm process) and for troubleshooting a resource by hand. Hidden from help: operators use
/// `svc start|stop|sync`.
/// </summary>
public static class DriverCommands
{
    static readonly IReadOnlyDictionary<string, ResourceAction> Actions = Enum.GetValues<ResourceAction>().ToDictionary(ActionWords.Of);

    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "the service's config file", Required = true };
        var service = new Option<string>("--service") { Description = "service name (ns/name or name)", Required = true };
        var rid = new Option<string>("--rid") { Description = "resource id, e.g. fs#0 or sync#1", Required = true };
        var action = new Option<string>("--action")
        {
            Description = $"{string.Join(", ", Actions.Keys)} or status", Required = true,
        };
        var target = new Option<string?>("--target") { Description = "sync: the receiving node" };
        var node = new Option<string?>("--node") { Description = "the node the config is resolved for (default: OPENSVC_NODENAME, else the short host name)" };
        var repeat = new Option<int>("--repeat") { Description = "run the step N times in this process and report the last (warm, as in a long-running agent)", DefaultValueFactory = _ => 1 };
        var serve = new Option<bool>("--serve")
        {
            Description = "run the step once per line read on stdin, printing each result then a 'step-done' line (a warm process, as a long-running agent; for benchmarks)",
        };
        var exec = new Command("exec", "Run one driver action for one resource on this node, without a workflow") { config, service, rid, action, target, node, repeat, serve };
        exec.SetAction(async (p, ct) =>
        {
            var path = p.GetValue(config)!;
            if (!File.Exists(path))
                throw new UserError($"config file {path} not found");
            var text = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            var local = ParseNode(p.GetValue(node) ?? ClusterSession.LocalNodeName(), "--node");
            if (!ResourceId.TryParse(p.GetValue(rid), out var resourceId))
                throw new UserError($"--rid '{p.GetValue(rid)}' is not a resource id (group#index)");
            var svc = p.GetValue(service)!;

            var services = new ServiceCollection();
            services.AddLogging(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
            services.AddNodeDrivers();
            await using var provider = services.BuildServiceProvider();
            var resolver = provider.GetRequiredService<ResolvedServices>();
            var resolved = resolver.Resolve(text, svc, local);
            var resource = resolved.Resource(resourceId.ToString())
                ?? throw new UserError($"{resourceId} is not a resource of {svc} on {local} (known: {string.Join(' ', resolved.Resources.Select(r => r.Id))})");
            var drivers = provider.GetRequiredService<DriverRegistry>();
            var binding = drivers.Find(resource.Driver) ?? throw new UserError($"no driver for {resource.Driver} on this agent");

            var verb = p.GetValue(action)!;
            if (verb == "status")
            {
                var probe = await binding.ProbeAsync(resolved, resource, ct).ConfigureAwait(false);
                Console.WriteLine($"{resourceId}: {probe.Status.ToDisplay()}{(probe.Message is { } m ? " (" + m + ")" : "")}");
                return ExitCodes.Ok;
            }
            if (!Actions.TryGetValue(verb, out var resourceAction))
                throw new UserError($"--action '{verb}' is not one of {string.Join(", ", Actions.Keys)}, status");
            NodeName? to = p.GetValue(target) is { } t ? ParseNode(t, "--target") : null;
            if (resourceAction == ResourceAction.Sync && to is null)
                throw new UserError("--target NODE is required for a sync");
            var step = new PlanStep(0, local, resourceId, resource.Driver, resourceAction, [], StepPolicy.Default, Target: to);
            StepRun Run() => new(Guid.CreateVersion7(), step, 1, resolved, n => resolver.Resolve(text, svc, n));
            if (p.GetValue(serve))
            {
                // One step per stdin line, in this one process: what a long-running agent pays per step (no process start, no JIT).
                while (await Console.In.ReadLineAsync(ct).ConfigureAwait(false) is not null)
                {
                    var code = await RunStepAsync(drivers, Run, resource, verb, 1, ct).ConfigureAwait(false);
                    Console.WriteLine($"step-done exit={code}");
                    await Console.Out.FlushAsync(ct).ConfigureAwait(false);
                }
                return ExitCodes.Ok;
            }
            return await RunStepAsync(drivers, Run, resource, verb, p.GetValue(repeat), ct).ConfigureAwait(false);
        });
        exec.Hidden = true;
        return new Command("driver", "Resource driver tools (tests, troubleshooting)") { Hidden = true, Subcommands = { exec } };
    }

    /// <summary>Prints "RID ACTION: changed|unchanged", the driver's output, then one "metric NAME=VALUE" line per metric.</summary>
    static async Task<int> RunStepAsync(DriverRegistry drivers, Func<StepRun> run, Domain.Config.ServiceResource resource, string verb, int repeat, CancellationToken ct)
    {
        try
        {
            var result = await drivers.RunAsync(run(), resource, ct).ConfigureAwait(false);
            for (var i = 1; i < Math.Clamp(repeat, 1, 100); i++)
            {
                Console.WriteLine($"run {i}: duration_ms={result.Metrics?.GetValueOrDefault("duration_ms")} bytes_sent={result.Metrics?.GetValueOrDefault("bytes_sent")}");
                result = await drivers.RunAsync(run(), resource, ct).ConfigureAwait(false);
            }
            Console.WriteLine($"{resource.Id} {verb}: {(result.Changed ? "changed" : "unchanged")}");
            if (result.Output.Length > 0)
                Console.WriteLine(result.Output);
            foreach (var (k, v) in result.Metrics ?? new Dictionary<string, long>())
                Console.WriteLine($"metric {k}={v}");
            return ExitCodes.Ok;
        }
        catch (StepFailedException e)
        {
            if (e.Output.Length > 0)
                Console.WriteLine(e.Output);
            Console.Error.WriteLine($"opensvc: {e.Message}");
            return ExitCodes.Failed;
        }
    }

    static NodeName ParseNode(string text, string option) =>
        NodeName.TryParse(text, out var n) ? n : throw new UserError($"{option} '{text}' is not a valid node name");
}
