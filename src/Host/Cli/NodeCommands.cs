using System.CommandLine;
using OpenSvc.Workflows.Services;

namespace OpenSvc.Host.Cli;

/// <summary>`opensvc node freeze|thaw --node N`: freeze a whole node, every service on it, against automatic starts.</summary>
public static class NodeCommands
{
    public static Command Create(ServerOptions server)
    {
        var cmd = new Command("node", "A node of the cluster: freeze or thaw it against the orchestrator's automatic starts");
        cmd.Subcommands.Add(Freeze(server, freeze: true));
        cmd.Subcommands.Add(Freeze(server, freeze: false));
        return cmd;
    }

    static Command Freeze(ServerOptions server, bool freeze)
    {
        var node = new Option<string>("--node") { Description = "the node", Required = true };
        var reason = new Option<string?>("--reason") { Description = "why (recorded with who and when)" };
        var cmd = new Command(freeze ? "freeze" : "thaw", freeze
            ? "Freeze a node: the orchestrator starts no service there by itself; manual actions still run"
            : "Thaw a frozen node: the orchestrator may start services there again") { node, reason };
        cmd.SetAction(async (p, ct) =>
        {
            var at = ConfigFiles.Node(p.GetValue(node));
            await using var cluster = await ClusterSession.OpenAsync(p, server, ct).ConfigureAwait(false);
            var result = await cluster.Client.FreezeNodeAsync(new FreezeNode(at, freeze, RunCommands.Operator(), p.GetValue(reason)), ct).ConfigureAwait(false);
            if (!result.Accepted)
                throw new UserError(result.Message, ExitCodes.Refused);
            Console.WriteLine(result.Message);
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
