using System.CommandLine;
using OpenSvc.Host.Access;

namespace OpenSvc.Host.Cli;

/// <summary>
/// `opensvc token add|list|remove`: the named tokens of this machine's agent, in its tokens file (OPENSVC_TOKENS_FILE,
/// default /etc/opensvc/tokens, root's). The agent reads the file again when it changes: no restart.
/// </summary>
public static class TokenCommands
{
    public static Command Create()
    {
        var file = new Option<string>("--file")
        {
            Description = "the tokens file (default: OPENSVC_TOKENS_FILE, else /etc/opensvc/tokens)",
            DefaultValueFactory = _ => TokenFile.DefaultPath,
            Recursive = true,
        };
        var token = new Command("token", "Named tokens for the API and the dashboard: each has a name (the audit's \"who\") and a role, viewer or operator") { file };

        var name = new Argument<string>("name") { Description = "who the token is for (lowercase letters, digits, '.', '_', '-'): runs record it as the requester" };
        var role = new Option<string>("--role") { Description = "operator (acts) or viewer (reads)", DefaultValueFactory = _ => "viewer" };
        var add = new Command("add", "Create a token and print its secret once (the file keeps only its SHA-256)") { name, role };
        add.SetAction(p =>
        {
            var n = p.GetValue(name)!;
            if (!TokenFile.IsValidName(n))
                throw new UserError($"token name '{n}' is not lowercase letters, digits, '.', '_', '-' (at most 32, no '@')");
            var r = TokenFile.ParseRole(p.GetValue(role)!) ?? throw new UserError($"--role '{p.GetValue(role)}' is not operator or viewer");
            var path = p.GetValue(file)!;
            var tokens = Load(path);
            if (tokens.Any(t => t.Name == n))
                throw new UserError($"{path} already has a token named {n}: remove it first (opensvc token remove {n})");
            var (created, secret) = NamedToken.Generate(n, r);
            TokenFile.Save(path, [.. tokens, created]);
            Console.WriteLine(secret);
            Console.Error.WriteLine($"token {n} ({TokenFile.RoleName(r)}) added to {path}; the secret above is shown once: " +
                                    "send it as Authorization: Bearer <secret>, pass it to the CLI with --token, or sign in with it at /signin");
            return ExitCodes.Ok;
        });

        var list = new Command("list", "List the tokens' names and roles (never their secrets)");
        list.SetAction(p =>
        {
            var tokens = Load(p.GetValue(file)!);
            foreach (var t in tokens)
                Console.WriteLine($"{t.Name,-32} {TokenFile.RoleName(t.Role)}");
            if (tokens.Count == 0)
                Console.WriteLine($"(no tokens in {p.GetValue(file)})");
            return ExitCodes.Ok;
        });

        var removed = new Argument<string>("name") { Description = "the token to remove: requests with it are refused from then on" };
        var remove = new Command("remove", "Remove a token (its browsers are signed out, its clients refused)") { removed };
        remove.SetAction(p =>
        {
            var path = p.GetValue(file)!;
            var tokens = Load(path);
            var n = p.GetValue(removed)!;
            if (!tokens.Any(t => t.Name == n))
                throw new UserError($"{path} has no token named {n}");
            TokenFile.Save(path, tokens.Where(t => t.Name != n));
            Console.WriteLine($"token {n} removed from {path}");
            return ExitCodes.Ok;
        });

        token.Subcommands.Add(add);
        token.Subcommands.Add(list);
        token.Subcommands.Add(remove);
        return token;
    }

    static IReadOnlyList<NamedToken> Load(string path)
    {
        try
        {
            return TokenFile.Load(path);
        }
        catch (TokenFileException e)
        {
            throw new UserError(e.Message);
        }
        catch (UnauthorizedAccessException)
        {
            throw new UserError($"{path} is not readable: the tokens file is root's (run as root)", ExitCodes.Refused);
        }
    }
}
