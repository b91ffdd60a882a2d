using OpenSvc.Domain.Planning;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentAssertions;
using Marten;
using OpenSvc.Domain.Runs;
using OpenSvc.Workflows.Engine;
using Xunit;

namespace OpenSvc.Tests.Engine;

/// <summary>
/// Recorded event streams of real runs, checked in and replayed on every build with the store's own
/// serializer and event names: renaming an event, a registered name or a property without an upcaster
/// changes what these streams replay to, and fails here.
/// </summary>
public sealed class GoldenStreamTests
{
    public static TheoryData<string> Streams => new(Directory.GetFiles(Dir(), "*.json").Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(Streams))]
    public void a_recorded_stream_replays_to_its_recorded_outcome(string file)
    {
        var golden = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir(), file)))!.AsObject();
        var byName = RunEventNames.All.ToDictionary(kv => kv.Value, kv => kv.Key);
        var serializer = Store.Value.Options.Serializer();
        var events = new List<object>();
        foreach (var e in golden["events"]!.AsArray())
        {
            var name = e!["type"]!.GetValue<string>();
            byName.Should().ContainKey(name, $"event type '{name}' recorded in {file} must still be registered");
            using var data = new MemoryStream(Encoding.UTF8.GetBytes(e["data"]!.ToJsonString()));
            events.Add(serializer.FromJson(byName[name], data));
        }

        var run = WorkflowRun.Replay(events)!;

        var expect = golden["expect"]!;
        run.Status.ToString().Should().Be(expect["status"]!.GetValue<string>());
        run.Outcome.Should().Be(expect["outcome"]?.GetValue<string>());
        run.Steps.Select(s => $"{s.Step.Index + 1} {s.Step.Node} {ActionWords.Of(s.Step.Action)} {s.Step.Rid} {s.Status} x{s.Attempt}")
            .Should().Equal(expect["steps"]!.AsArray().Select(x => x!.GetValue<string>()));
    }

    static readonly Lazy<DocumentStore> Store = new(() => DocumentStore.For(o => WorkflowStore.Configure(o, "Host=127.0.0.1;Database=unused")));

    static string Dir() => Path.Combine(AppContext.BaseDirectory, "Fixtures", "golden-streams");
}

/// <summary>Writes golden streams from real runs (engine tests call it; it acts only with OPENSVC_UPDATE_GOLDEN=1).</summary>
public static class GoldenStreamRecorder
{
    /// <summary>Writes a golden stream from a real run (called by engine tests when OPENSVC_UPDATE_GOLDEN=1).</summary>
    public static async Task RecordAsync(IDocumentStore store, Guid runId, string name)
    {
        if (Environment.GetEnvironmentVariable("OPENSVC_UPDATE_GOLDEN") != "1")
            return;
        await using var session = store.QuerySession();
        var events = await session.Events.FetchStreamAsync(runId);
        var run = WorkflowRun.Replay(events.Select(e => e.Data))!;
        var serializer = store.Options.Serializer();
        var doc = new JsonObject
        {
            ["recorded"] = $"{name}: replayed by GoldenStreamTests; regenerate with OPENSVC_UPDATE_GOLDEN=1 only for a deliberate, upcasted change",
            ["events"] = new JsonArray(events.Select(e => (JsonNode)new JsonObject
            {
                ["type"] = RunEventNames.All[e.Data.GetType()],
                ["data"] = JsonNode.Parse(serializer.ToJson(e.Data)),
            }).ToArray()),
            ["expect"] = new JsonObject
            {
                ["status"] = run.Status.ToString(),
                ["outcome"] = run.Outcome,
                ["steps"] = new JsonArray(run.Steps.Select(s => (JsonNode)$"{s.Step.Index + 1} {s.Step.Node} {ActionWords.Of(s.Step.Action)} {s.Step.Rid} {s.Status} x{s.Attempt}").ToArray()),
            },
        };
        await File.WriteAllTextAsync(Path.Combine(SourceDir(), name + ".json"), doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    static string SourceDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OpenSvc.Tests.csproj")))
            dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("tests/OpenSvc.Tests"), "Fixtures", "golden-streams");
    }
}
