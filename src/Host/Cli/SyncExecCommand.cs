using System.CommandLine;
using OpenSvc.Domain;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Drivers.Sync.Btrfs;
using OpenSvc.Infrastructure.Drivers.Sync.Docker;
using OpenSvc.Infrastructure.Drivers.Sync.Rsync;
using OpenSvc.Workflows.Engine;

namespace OpenSvc.Host.Cli;

/// <summary>
/// Hidden: <c>opensvc sync exec</c> runs one sync driver step (or its status probe) in this process, exactly
/// as the node's agent would run it, without the engine. For integration tests inside lab nodes and for
/// debugging a driver on a node.
/// </summary>
public static class SyncExecCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "service config file", Required = true };
        var service = new Option<string>("--service") { Description = "service name", Required = true };
        var rid = new Option<string>("--rid") { Description = "sync resource id (sync#1)", Required = true };
        var action = new Option<string>("--action") { Description = "sync, status, or prepare-receive (on the receiving node, as its agent does before a sync)", DefaultValueFactory = _ => "sync" };
        var target = new Option<string?>("--target") { Description = "receiving node (sync)" };
        var node = new Option<string?>("--node") { Description = "this node's name (default: OPENSVC_NODENAME, else the short host name)" };
        var repeat = new Option<int>("--repeat") { Description = "run the step N times in this process and report the last (warm, as in a long-running agent)", DefaultValueFactory = _ => 1 };
        var serve = new Option<bool>("--serve")
        {
            Description = "run the step once per line read on stdin, printing each result then a 'step-done' line (a warm process, as a long-running agent; for benchmarks)",
        };
        var exec = new Command("exec", "Run one sync driver step locally (hidden; tests and debugging)") { config, service, rid, action, target, node, repeat, serve };
        exec.SetAction(async (p, ct) =>
        {
            var file = p.GetValue(config)!;
            if (!file.Exists)
                throw new UserError($"config file {file.FullName} not found");
            var text = await File.ReadAllTextAsync(file.FullName, ct).ConfigureAwait(false);
            var local = ParseNode(p.GetValue(node) ?? ClusterSession.LocalNodeName(), "--node");
            if (!ResourceId.TryParse(p.GetValue(rid), out var resourceId))
                throw new UserError($"--rid '{p.GetValue(rid)}' is not a resource id");
            var name = p.GetValue(service)!;
            var resolved = ResolvedConfigs.Resolve(text, name, local);
            var resource = resolved.Resource(resourceId.ToString())
                ?? throw new UserError($"{resourceId} is not configured for {local} in {file.Name}");
            IResourceDriver driver = resource.Driver switch
            {
                "sync.docker" => DockerSyncDriver.Create(),
                "sync.btrfs" => BtrfsSyncDriver.Create(),
                "sync.rsync" => RsyncSyncDriver.Create(),
                var other => throw new UserError($"{resourceId} is a {other}, not a sync resource"),
            };
            if (p.GetValue(action) == "status")
            {
                var probe = await driver.StatusAsync(new StatusContext(name, resourceId, resource.Driver, text, local), ct).ConfigureAwait(false);
                Console.WriteLine($"{resourceId} {probe.Status.ToDisplay()}{(probe.Message is { } m ? ": " + m : "")}");
                return ExitCodes.Ok;
            }
            var verb = p.GetValue(action) switch
            {
                "sync" => ResourceAction.Sync,
                "prepare-receive" => ResourceAction.PrepareReceive,
                var other => throw new UserError($"--action '{other}': expected sync, status or prepare-receive"),
            };
            NodeName? to = verb == ResourceAction.Sync
                ? ParseNode(p.GetValue(target) ?? throw new UserError("--target is required for a sync"), "--target")
                : null;
            var step = new PlanStep(1, local, resourceId, resource.Driver, verb, [], StepPolicy.Default, Target: to);
            if (p.GetValue(serve))
            {
                // One step per stdin line, in this one process: what a long-running agent pays per step (no process start, no JIT).
                while (await Console.In.ReadLineAsync(ct).ConfigureAwait(false) is not null)
                {
                    var code = await RunStepAsync(driver, name, step, text, local, 1, ct).ConfigureAwait(false);
                    Console.WriteLine($"step-done exit={code}");
                    await Console.Out.FlushAsync(ct).ConfigureAwait(false);
                }
                return ExitCodes.Ok;
            }
            return await RunStepAsync(driver, name, step, text, local, p.GetValue(repeat), ct).ConfigureAwait(false);
        });
        exec.Hidden = true;
        var group = new Command("sync", "Sync driver tools") { exec };
        group.Hidden = true;
        return group;
    }

    static async Task<int> RunStepAsync(IResourceDriver driver, string name, PlanStep step, string text, NodeName local, int repeat, CancellationToken ct)
    {
        try
        {
            var result = await driver.ExecuteAsync(step.Action, new StepContext(Guid.NewGuid(), name, step, 1, text, local), ct).ConfigureAwait(false);
            for (var i = 1; i < Math.Clamp(repeat, 1, 100); i++)
            {
                Console.WriteLine($"run {i}: duration_ms={result.Metrics?.GetValueOrDefault("duration_ms")} bytes_sent={result.Metrics?.GetValueOrDefault("bytes_sent")}");
                result = await driver.ExecuteAsync(step.Action, new StepContext(Guid.NewGuid(), name, step, 1, text, local), ct).ConfigureAwait(false);
            }
            Console.WriteLine(result.Output);
            Console.WriteLine($"changed={result.Changed.ToString().ToLowerInvariant()}");
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
