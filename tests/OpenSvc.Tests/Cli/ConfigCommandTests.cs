using System.Diagnostics;
using FluentAssertions;
using OpenSvc.Tests.Support;
using Xunit;

namespace OpenSvc.Tests.Cli;

/// <summary>
/// `opensvc config validate`, `config print` and `plan` on files, through the built executable: where the exit code is
/// the point (no database, no agent).
/// </summary>
public sealed class ConfigCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("opensvc-config-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    const string Clean = "[DEFAULT]\nnodes = n1 n2\n[container#0]\ntype = docker\nimage = nginx\n";

    /// <summary>The built `opensvc` executable with these arguments, bounded; its exit code and both outputs.</summary>
    internal static async Task<(int Code, string Out, string Err)> Opensvc(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(AgentProcess.OpensvcDll);
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task validate_exits_0_on_a_clean_file_and_2_with_file_line_keyword_and_fix_on_a_bad_one()
    {
        (await Opensvc("config", "validate", Write("svc1.conf", Clean))).Code.Should().Be(0);

        var bad = Write("svc2.conf", Clean + "run_args = -p 80:80\nstop_timeout = 2 minutes\n");
        var (code, output, _) = await Opensvc("config", "validate", bad);

        code.Should().Be(2, output);
        output.Should().Contain($"{bad}:6: error: [container#0] run_args: -p 80:80 is not supported")
            .And.Contain($"{bad}:7: error: [container#0] stop_timeout: '2 minutes' is not a duration (fix: stop_timeout = 2m)")
            .And.Contain("2 error(s), 0 warning(s)");
    }

    [Fact]
    public async Task schedule_prints_each_scheduled_action_with_its_next_due_times_in_utc_or_never()
    {
        var file = Write("svc1.conf", "[DEFAULT]\nnodes = n1 n2\n[sync#0]\ntype = rsync\nsrc = /a\ndst = /a\ntarget = nodes\nschedule = @30\nschedule@n2 = @2h\n"
            + "[sync#1]\ntype = rsync\nsrc = /b\ndst = /b\ntarget = nodes\nschedule =\n");

        var (code, output, errors) = await Opensvc("config", "schedule", file, "--count", "3", "--from", "2026-12-02T10:07:00Z");
        code.Should().Be(0, errors);
        output.Should().Be(
            "sync#0  sync all  schedule = @30\n" +
            "        2026-12-02T10:07:00Z\n" +
            "        2026-12-02T10:37:00Z\n" +
            "        2026-12-02T11:07:00Z\n" +
            "sync#1  sync all  schedule = (empty)\n" +
            "        never\n");

        var n2 = await Opensvc("config", "schedule", file, "--node", "n2", "--count", "2", "--from", "2026-12-02T10:07:00Z");
        n2.Out.Should().Contain("schedule = @2h\n        2026-12-02T10:07:00Z\n        2026-12-02T12:07:00Z\n");
        (await Opensvc("config", "schedule", file, "--node", "n9")).Code.Should().Be(2, "n9 is not a node of the service");
    }

    [Fact]
    public async Task validate_checks_every_file_even_after_a_missing_one_or_a_directory()
    {
        var missing = Path.Combine(_dir, "absent.conf");
        var bad = Write("svc2.conf", "[DEFAULT]\nnodes = n1\n[fs#0]\ntype = ext4\ndev = /dev/{svcnam}\nmnt = /m\n");

        var (code, output, errors) = await Opensvc("config", "validate", missing, _dir, bad);

        code.Should().Be(2);
        errors.Should().Contain($"opensvc: {missing}: no such file")
            .And.Contain($"opensvc: {_dir}: is a directory, not a service file");
        errors.Should().NotContain("permission denied");
        output.Should().Contain($"{bad}:5: error: [fs#0] dev: unresolved reference {{svcnam}}").And.Contain("(fix: write {svcname})")
            .And.Contain("3 error(s), 0 warning(s)");
    }

    [Fact]
    public async Task print_shows_the_view_and_exits_2_only_when_the_config_has_errors_for_that_node()
    {
        var file = Write("svc1.conf", "[DEFAULT]\nnodes = n1\ndrpnodes = n3\n[fs#0]\ntype = ext4\ndev@nodes = /dev/a\nmnt = /m\n");

        (await Opensvc("config", "print", file, "--node", "n1")).Code.Should().Be(0);
        var (code, output, errors) = await Opensvc("config", "print", file, "--node", "n3");
        code.Should().Be(2);
        output.Should().Contain("service svc1 on n3 (drp node)").And.Contain("fs#0.dev is mandatory and has no value on node n3");
        errors.Should().Contain("has 1 error(s) for n3");
    }

    [Fact]
    public async Task a_file_without_nodes_is_refused_alike_by_validate_and_plan()
    {
        var file = Write("svc1.conf", "[DEFAULT]\n[fs#0]\ntype = ext4\ndev = /dev/a\nmnt = /m\n");
        var message = $"{file}:1: error: [DEFAULT] nodes: no node declared";

        var validate = await Opensvc("config", "validate", file);
        (validate.Code, validate.Out.Contains(message, StringComparison.Ordinal)).Should().Be((2, true), validate.Out);
        var plan = await Opensvc("plan", file, "start", "--node", "n1");
        (plan.Code, plan.Err.Contains(message, StringComparison.Ordinal)).Should().Be((2, true), plan.Err);
    }
}
