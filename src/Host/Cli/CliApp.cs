using System.CommandLine;
using OpenSvc.Domain;
using OpenSvc.Host.Agent;

namespace OpenSvc.Host.Cli;

/// <summary>The `opensvc` command line: one executable for the agent and every operator command.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var connection = new Option<string?>("--connection") { Description = "agent and bench: PostgreSQL connection string (default: OPENSVC_CONNECTION, else the embedded database)", Recursive = true };
        var server = new ServerOptions();
        var root = new RootCommand("opensvc: OpenSVC-compatible service orchestration and DR sync, as durable audited workflows")
        {
            connection,
            server.Server,
            server.Token,
            AgentCommand(connection),
            RunCommands.Runs(server),
            RunCommands.Run(server),
            RunCommands.Agents(server),
            ConfigCommands.Create(),
            PlanCommand.Create(),
            ServiceCommands.Create(server),
            NodeCommands.Create(server),
            ReportCommands.Create(server),
            TokenCommands.Create(),
            DbCommands.Create(connection),
            Bench.EngineBenchmark.Command(connection, Bench.SyncBenchmark.Create(), Bench.DrillBenchmark.Create()),
            DriverCommands.Create(),
            Demo.DemoCommand.Create(),
        };

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            Console.Error.WriteLine($"opensvc: {parsed.Errors[0].Message} (see: opensvc {string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')).Take(2))} --help)");
            return ExitCodes.BadInput;
        }
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
        try
        {
            return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cts.Token).ConfigureAwait(false);
        }
        catch (UserError e)
        {
            Console.Error.WriteLine($"opensvc: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Console.Error.WriteLine("opensvc: interrupted");
            return 130;
        }
    }

    static Command AgentCommand(Option<string?> connection)
    {
        var node = new Option<string?>("--node") { Description = "this node's name (default: OPENSVC_NODENAME, else the short host name)" };
        var listen = new Option<string>("--listen") { Description = "address:port of the dashboard, health endpoint and API", DefaultValueFactory = _ => "127.0.0.1:7480" };
        var fake = new Option<bool>("--fake-cluster") { Description = "drive the in-process fake cluster instead of real resources (tests, demos, benchmarks)" };
        var noop = new Option<bool>("--noop-cluster") { Description = "drive the no-op driver for every resource type: nothing is done (engine benchmarks)" };
        var workers = new Option<int>("--workers") { Description = "concurrent steps on this node", DefaultValueFactory = _ => 4 };
        var socket = new Option<string>("--socket")
        {
            Description = "Unix socket serving the API to this machine's root without a token, 0600 (default: OPENSVC_SOCKET, else /run/opensvc/agent.sock; 'none': no socket)",
            DefaultValueFactory = _ => Access.LocalSocket.DefaultPath,
        };
        var cmd = new Command("agent", "Run this node's agent: Hangfire server for the node's queue, heartbeat, reconciler, dashboard and health endpoint")
        {
            node, listen, fake, noop, workers, socket,
        };
        cmd.SetAction(async (p, ct) =>
        {
            var name = p.GetValue(node) ?? ClusterSession.LocalNodeName();
            if (!NodeName.TryParse(name, out var nodeName))
                throw new UserError($"--node '{name}' is not a valid node name (letters, digits, '.', '-', '_')");
            var w = p.GetValue(workers);
            if (w is < 1 or > 64)
                throw new UserError($"--workers {w} is out of range (1-64)");
            var path = p.GetValue(socket);
            if (path is not ("none" or null) && !Path.IsPathRooted(path))
                throw new UserError($"--socket '{path}' is not an absolute path (or 'none')");
            return await AgentHost.RunAsync(new AgentSettings(nodeName, p.GetValue(listen)!, p.GetValue(connection), p.GetValue(fake), w, p.GetValue(noop),
                Socket: path is "none" ? null : path), ct).ConfigureAwait(false);
        });
        return cmd;
    }
}
