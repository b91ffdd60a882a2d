using Microsoft.Extensions.Logging;
using OpenSvc.Domain;
using OpenSvc.Domain.Config;
using OpenSvc.Domain.Planning;
using OpenSvc.Infrastructure.Drivers.Container.Docker;
using OpenSvc.Infrastructure.Execution;
using OpenSvc.Workflows.Drivers;

namespace OpenSvc.Infrastructure.Drivers.Ip.Docker;

/// <summary>
/// The <c>ip.docker</c> driver (OpenSVC's ip.netns): a macvlan (bridge mode) made from <c>ipdev</c>, moved into the
/// network namespace of the <c>netns</c> container's process, addressed, brought up, default route via
/// <c>gateway</c>. Stop deletes it. Status: up when the address is in the container's namespace, n/a when the
/// container is not running.
/// </summary>
public sealed class DockerIpDriver(ServiceDocker docker, ILogger<DockerIpDriver> logger) : IResourceDriver<DockerIp>
{
    static readonly ProcessRunOptions Quick = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task<StepResult> StartAsync(StepContext<DockerIp> step, CancellationToken cancellationToken)
    {
        var (plumbing, pid, container) = await PrepareAsync(step, cancellationToken).ConfigureAwait(false);
        return await StartAsync(plumbing, pid, container, step, cancellationToken).ConfigureAwait(false);
    }

    public async Task<StepResult> StopAsync(StepContext<DockerIp> step, CancellationToken cancellationToken)
    {
        var (plumbing, pid, container) = await PrepareAsync(step, cancellationToken).ConfigureAwait(false);
        return await StopAsync(plumbing, pid, container, step, cancellationToken).ConfigureAwait(false);
    }

    async Task<(IpPlumbing Plumbing, long? Pid, DockerContainer Container)> PrepareAsync(StepContext<DockerIp> step, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(step);
        var (plumbing, errors) = IpCommands.Plan(step.Resource, step.Resolved.Path.ToString());
        if (plumbing is null)
            throw new StepFailedException(string.Join("; ", errors));
        var container = Container(step.Resolved, step.Resource);
        return (plumbing, await docker.RunningPidAsync(step.Resolved, container, ct).ConfigureAwait(false), container);
    }

    /// <summary>
    /// drill: the address in the drill container's namespace, on a macvlan of the drill's isolated link (a veth pair going
    /// nowhere, with no address and no uplink, <see cref="Drill.DrillNames.Link"/>) instead of <c>ipdev</c>: drill addresses reach
    /// each other and nothing else. No default route, no ARP announce: nothing of the drill reaches the production network.
    /// </summary>
    public async Task<StepResult> DrillStartAsync(StepContext<DockerIp> step, CancellationToken cancellationToken)
    {
        var (p, pid, container) = await PrepareDrillAsync(step, cancellationToken).ConfigureAwait(false);
        if (pid is null)
            throw new StepFailedException($"{step.Rid}: {container.Name} is not running on {step.LocalNode}: the drill address goes into its network namespace, its drill-start must run first");
        if (await DeviceAsync(p, pid.Value, cancellationToken).ConfigureAwait(false) is { } present)
            return StepResult.Unchanged($"{p.Cidr} is already on {present} in {container.Name}");
        await step.EnsureCurrentAsync(cancellationToken).ConfigureAwait(false);
        var output = new List<string>();
        var peer = Drill.DrillNames.LinkPeer(step.Resolved.Path.ToString());
        if (!(await RunAsync(IpCommands.HostLinkShow(p.HostDevice), cancellationToken).ConfigureAwait(false)).Succeeded)
        {
            await MustAsync(["ip", "link", "add", p.HostDevice, "type", "veth", "peer", "name", peer], step, cancellationToken).ConfigureAwait(false);
            output.Add($"created the drill's isolated link {p.HostDevice} (a veth pair whose other end {peer} goes nowhere: no address, no uplink)");
        }
        await MustAsync(["ip", "link", "set", "dev", peer, "up"], step, cancellationToken).ConfigureAwait(false);
        await MustAsync(["ip", "link", "set", "dev", p.HostDevice, "up"], step, cancellationToken).ConfigureAwait(false);
        if ((await RunAsync(IpCommands.HostLinkShow(p.TempName), cancellationToken).ConfigureAwait(false)).Succeeded)
            await MustAsync(IpCommands.HostLinkDelete(p.TempName), step, cancellationToken).ConfigureAwait(false);
        await MustAsync(IpCommands.CreateMacvlan(p), step, cancellationToken).ConfigureAwait(false);
        try
        {
            await MustAsync(IpCommands.MoveToNetns(p, pid.Value), step, cancellationToken).ConfigureAwait(false);
        }
        catch (StepFailedException)
        {
            await RunAsync(IpCommands.HostLinkDelete(p.TempName), CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        foreach (var argv in IpCommands.ConfigureInNetns(p, pid.Value))
            await MustAsync(argv, step, cancellationToken).ConfigureAwait(false);
        var device = await DeviceAsync(p, pid.Value, cancellationToken).ConfigureAwait(false)
            ?? throw new StepFailedException($"{step.Rid}: {p.Cidr} was added but is not found in {container.Name}'s namespace");
        output.Add($"{p.Cidr} on {device} (macvlan of the isolated {p.HostDevice}) in {container.Name} (pid {pid}): no default route, not announced");
        return new StepResult(true, string.Join('\n', output));
    }

    /// <summary>drill-cleanup: removes the address from the drill container (the isolated link goes with the last drill container).</summary>
    public async Task<StepResult> DrillStopAsync(StepContext<DockerIp> step, CancellationToken cancellationToken)
    {
        var (p, pid, container) = await PrepareDrillAsync(step, cancellationToken).ConfigureAwait(false);
        return await StopAsync(p, pid, container, step, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The plumbing of the drill address: the isolated link as parent, a name of its own, no gateway; the drill container.</summary>
    async Task<(IpPlumbing Plumbing, long? Pid, DockerContainer Container)> PrepareDrillAsync(StepContext<DockerIp> step, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(step);
        var (plumbing, errors) = IpCommands.Plan(step.Resource, step.Resolved.Path.ToString());
        if (plumbing is null)
            throw new StepFailedException(string.Join("; ", errors), permanent: true);
        var path = step.Resolved.Path.ToString();
        plumbing = plumbing with
        {
            HostDevice = Drill.DrillNames.Link(path),
            TempName = IpCommands.TempName(path, step.Rid + "@drill"),
            Gateway = null,
        };
        var production = Container(step.Resolved, step.Resource);
        var container = production with { Name = Drill.DrillNames.Container(production.Name) };
        return (plumbing, await docker.RunningPidAsync(step.Resolved, container, ct).ConfigureAwait(false), container);
    }

    public async Task<ResourceProbe> ProbeAsync(ProbeContext<DockerIp> probe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var (service, ip) = (probe.Resolved, probe.Resource);
        var (plumbing, errors) = IpCommands.Plan(ip, service.Path.ToString());
        if (plumbing is null)
            return new ResourceProbe(Status.Undef, string.Join("; ", errors));
        DockerContainer container;
        try
        {
            container = Container(service, ip);
        }
        catch (StepFailedException e)
        {
            return new ResourceProbe(Status.Undef, e.Message);
        }
        var pid = await docker.RunningPidAsync(service, container, cancellationToken).ConfigureAwait(false);
        if (pid is null)
            return new ResourceProbe(Status.NotApplicable, $"{container.Name} is not running: no network namespace to hold {plumbing.Address}");
        var device = await DeviceAsync(plumbing, pid.Value, cancellationToken).ConfigureAwait(false);
        return device is null
            ? new ResourceProbe(Status.Down, $"{plumbing.Address} is not configured in {container.Name}")
            : new ResourceProbe(Status.Up, $"{plumbing.Cidr} on {device} in {container.Name}");
    }

    async Task<StepResult> StartAsync(IpPlumbing p, long? pid, DockerContainer container, StepContext<DockerIp> context, CancellationToken ct)
    {
        if (pid is null)
            throw new StepFailedException($"{context.Step.Rid}: {container.Name} ({container.Id}) is not running on {context.LocalNode}: the address goes into its network namespace, start it first");
        if (await DeviceAsync(p, pid.Value, ct).ConfigureAwait(false) is { } present)
            return StepResult.Unchanged($"{p.Cidr} is already on {present} in {container.Name}");

        await context.EnsureCurrentAsync(ct).ConfigureAwait(false);
        // A macvlan left in the node namespace by an interrupted earlier attempt is ours (name derived from service and rid).
        if ((await RunAsync(IpCommands.HostLinkShow(p.TempName), ct).ConfigureAwait(false)).Succeeded)
            await MustAsync(IpCommands.HostLinkDelete(p.TempName), context, ct).ConfigureAwait(false);
        await MustAsync(IpCommands.CreateMacvlan(p), context, ct).ConfigureAwait(false);
        try
        {
            await MustAsync(IpCommands.MoveToNetns(p, pid.Value), context, ct).ConfigureAwait(false);
        }
        catch (StepFailedException)
        {
            await RunAsync(IpCommands.HostLinkDelete(p.TempName), CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        foreach (var argv in IpCommands.ConfigureInNetns(p, pid.Value))
            await MustAsync(argv, context, ct).ConfigureAwait(false);

        var device = await DeviceAsync(p, pid.Value, ct).ConfigureAwait(false)
            ?? throw new StepFailedException($"{context.Step.Rid}: {p.Cidr} was added but is not found in {container.Name}'s namespace");
        var announced = await AnnounceAsync(p, pid.Value, ct).ConfigureAwait(false);
        logger.LogInformation("run {RunId} service {Service} node {Node}: {Rid} plumbed {Cidr} on {Device} in {Container}", context.RunId, context.Service, context.LocalNode, context.Step.Rid, p.Cidr, device, container.Name);
        return new StepResult(true, $"{p.Cidr} on {device} (macvlan of {p.HostDevice}) in {container.Name} (pid {pid}){(p.Gateway is { } gw ? $", default via {gw}" : "")}; {announced}");
    }

    /// <summary>Best effort, as in OpenSVC: a missing or failing arping is reported in the step output, not an error.</summary>
    async Task<string> AnnounceAsync(IpPlumbing p, long pid, CancellationToken ct)
    {
        if (IpCommands.FindArping(Environment.GetEnvironmentVariable("PATH")) is not { } arping)
        {
            logger.LogWarning("no arping (iputils or busybox) on this node: {Address} not announced, neighbours may keep a stale MAC address", p.Address);
            return "not announced (no arping on this node)";
        }
        var r = await RunAsync(IpCommands.Announce(p, pid, arping), ct).ConfigureAwait(false);
        if (r.Succeeded)
            return "announced (gratuitous ARP)";
        logger.LogWarning("arp announce of {Address} failed: {Error}", p.Address, r.Tail(300));
        return $"arp announce failed: {r.Tail(200).Trim()}";
    }

    async Task<StepResult> StopAsync(IpPlumbing p, long? pid, DockerContainer container, StepContext<DockerIp> context, CancellationToken ct)
    {
        if (pid is null)
            return StepResult.Unchanged($"{container.Name} is not running: {p.Address} went with its network namespace");
        var device = await DeviceAsync(p, pid.Value, ct).ConfigureAwait(false);
        if (device is null)
            return StepResult.Unchanged($"{p.Address} is not configured in {container.Name}");
        await context.EnsureCurrentAsync(ct).ConfigureAwait(false);
        // Our device goes entirely (with its route); an address someone put on another device only loses the address.
        var argv = device == p.NsDevice && device != "lo" ? IpCommands.DeleteLink(pid.Value, device) : IpCommands.DeleteAddress(pid.Value, p.Cidr, device);
        await MustAsync(argv, context, ct).ConfigureAwait(false);
        if (await DeviceAsync(p, pid.Value, ct).ConfigureAwait(false) is { } still)
            throw new StepFailedException($"{context.Step.Rid}: {p.Address} is still on {still} in {container.Name} after removal");
        logger.LogInformation("run {RunId} service {Service} node {Node}: {Rid} removed {Cidr} from {Container}", context.RunId, context.Service, context.LocalNode, context.Step.Rid, p.Cidr, container.Name);
        return new StepResult(true, $"removed {p.Cidr} ({device}) from {container.Name}");
    }

    static async Task<string?> DeviceAsync(IpPlumbing p, long pid, CancellationToken ct)
    {
        var show = IpCommands.ShowAddresses(pid);
        var r = await ProcessRunner.RunAsync(show[0], show.Skip(1), Quick, ct).ConfigureAwait(false);
        if (!r.Succeeded)
            throw new StepFailedException($"cannot list the addresses in the namespace of pid {pid}: {r.Tail(300)}");
        return IpCommands.DeviceWithAddress(r.StdOut, p.Address);
    }

    static Task<ProcessResult> RunAsync(IReadOnlyList<string> argv, CancellationToken ct) =>
        ProcessRunner.RunAsync(argv[0], argv.Skip(1), Quick, ct);

    static async Task MustAsync(IReadOnlyList<string> argv, StepContext<DockerIp> context, CancellationToken ct)
    {
        var r = await RunAsync(argv, ct).ConfigureAwait(false);
        if (!r.Succeeded)
            throw new StepFailedException($"{context.Step.Rid}: {string.Join(' ', argv)} failed on {context.LocalNode} (exit {r.ExitCode}): {r.Tail(500)}", r.Tail());
    }

    static DockerContainer Container(ResolvedService service, DockerIp ip) =>
        ip.NetNs is { } rid && service.Resource<DockerContainer>(rid) is { } c
            ? c
            : throw new StepFailedException($"{ip.Id}: netns '{ip.NetNs}' names no docker container of {service.Name} (set netns = container#N)");
}
