using OpenSvc.Domain.Planning;

namespace OpenSvc.Host.WebConsole;

/// <summary>
/// The actions the console guides an operator through. Only those whose word the domain knows (<see cref="ActionWords"/>)
/// are offered; the others are named as not available, so a version without drills says so instead of showing a button
/// that cannot work.
/// </summary>
/// <param name="Dr">A DR action: its readiness checks are the DR node's.</param>
/// <param name="NeedsReason">The console asks why (recorded in the run) even when it is not forced.</param>
/// <param name="Where">What the node field means for this action.</param>
public sealed record GuidedAction(string Word, string Label, string Summary, bool Dr, bool NeedsReason, string Where)
{
    public static IReadOnlyList<GuidedAction> All { get; } =
    [
        new("takeover", "Activate DR (takeover)", "bring the service up on a DR node from the data synced there", Dr: true, NeedsReason: true, "DR node to activate"),
        new("drill", "Drill", "start the DR copy in isolation, without touching production", Dr: true, NeedsReason: false, "DR node to drill on"),
        new("drill-cleanup", "Clean up the drill", "stop and remove everything a drill created on the DR node", Dr: true, NeedsReason: false, "DR node the drill ran on"),
        new("switch", "Switch", "planned move: stop where it runs, start on another node", Dr: false, NeedsReason: false, "Destination node"),
        new("giveback", "Give back", "return to the preferred primary node", Dr: false, NeedsReason: false, "Node the service runs on"),
        new("reprotect", "Reprotect", "reverse the protection after a takeover", Dr: false, NeedsReason: false, "Node the service runs on"),
        new("sync", "Sync now", "send the data to the other nodes now", Dr: false, NeedsReason: false, "Sending node"),
    ];

    public ServiceAction? Action => ActionWords.ParseServiceAction(Word);

    public static IReadOnlyList<GuidedAction> Available => [.. All.Where(a => a.Action is not null)];

    public static IReadOnlyList<string> Missing => [.. All.Where(a => a.Action is null).Select(a => a.Word)];

    public static GuidedAction? Find(string? word) => Available.FirstOrDefault(a => a.Word == word);
}
