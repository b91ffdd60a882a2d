using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using FluentAssertions;
using OpenSvc.Domain.Config;
using Xunit;
using Xunit.Abstractions;

namespace OpenSvc.Domain.Tests.Config;

/// <summary>
/// Issue 12 item 4: a config costs bounded time and memory, and its problems cannot forge lines. 5,000+ mutated seed
/// configs (a fixed seed, so a failure replays) go through parse, validation of every node, resolution and printing,
/// each under a time limit: no exception, none over the limit, every problem printed on one line naming a real line.
/// </summary>
public partial class ConfigFuzzTests(ITestOutputHelper output)
{
    static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_CASES"), out var n) ? n : 5000;

    /// <summary>Per config. Far above what any case takes here (the slowest are well under a second on a loaded 2-core machine).</summary>
    static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    static readonly string[] Seeds =
    [
        Seed.Text(Seed.FailoverDockerBtrfs),
        Seed.Text(Seed.FlexDocker),
        Seed.Text(Seed.FlexFailoverRsync),
        """
        [DEFAULT]
        nodes = n1 n2
        drpnodes = n3
        app = {name}-{namespace}
        size = 10
        double = $({size} * 2)
        [env]
        base = /srv/{name}
        [fs#0]
        type = ext4
        dev = /dev/vg/{name}
        mnt = {env.base}/data
        mnt@n3 = /dr/{name}
        [sync#0]
        src = {fs#0.mnt}/*.log
        dst = {fs#0.mnt}
        target = drpnodes
        schedule@drpnodes = @60
        """,
    ];

    static readonly string[] OddText =
    [
        "\u2028", "\u2029", "\u0085", "\u200F", "\u202E", "\uFEFF", "\u0301", "\uD83D\uDE00", "\uD800", "\uDFFF", "\0", "\u001B[2J",
        "\r", "\r\n", "\t", "é", "\u0130", "ß", "\uFFFD",
    ];

    static readonly string[] Keys =
    [
        "nodes", "drpnodes", "drpnode", "flex_primary", "topology", "orchestrate", "rollback", "disable", "dev", "mnt", "type", "src", "dst",
        "target", "schedule", "image", "run_args", "netns", "always_on", "standby", "tags", "pre_start", "start_requires", "flex_min",
    ];

    static readonly string[] Scopes = ["n1", "n2", "n3", "nodes", "drpnodes", "encapnodes", "flex_primary", "bogus", "", "N1", "@"];

    static readonly string[] Expressions = ["$(1+2)", "$({flex_min} * 3)", "$(1/0)", "$(2**70)", "$('a' * 100000)", "$(a == a)", "$((((", "$(date)", "$(1 < 2 < 0)"];

    [Fact]
    public void mutated_configs_cost_bounded_time_and_report_located_single_line_problems()
    {
        var random = new Random(20261202);
        var failures = new List<string>();
        var total = Stopwatch.StartNew();
        var slowest = TimeSpan.Zero;
        var slowestCase = "";
        for (var i = 0; i < Cases; i++)
        {
            var (mutation, text) = Mutate(random);
            if (Environment.GetEnvironmentVariable("FUZZ_DUMP") == i.ToString(System.Globalization.CultureInfo.InvariantCulture))
                File.WriteAllText(Path.Combine(Path.GetTempPath(), $"fuzz-case-{i}.conf"), text);
            var started = Stopwatch.GetTimestamp();
            string? failure;
            try
            {
                failure = Exercise(text, resolve: i % 3 == 0);
            }
            catch (OperationCanceledException)
            {
                failure = $"over the {Limit.TotalSeconds:0} s limit (cancelled)";
            }
#pragma warning disable CA1031 // any exception is the finding
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = $"crash: {e.GetType().Name}: {e.Message}";
            }
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed > slowest)
                (slowest, slowestCase) = (elapsed, mutation);
            if (elapsed > TimeSpan.FromMilliseconds(100) && Environment.GetEnvironmentVariable("FUZZ_VERBOSE") is not null)
            {
                output.WriteLine($"case {i} {elapsed.TotalMilliseconds:0} ms ({mutation}) {text.Length} chars: {Phases}");
            }
            if (failure is null && elapsed > Limit)
                failure = $"took {elapsed.TotalSeconds:0.0} s";
            if (failure is not null)
                failures.Add($"case {i} ({mutation}): {failure}\n--- config (first 300 chars) ---\n{Shorten(text)}");
        }
        output.WriteLine($"{Cases} configs in {total.Elapsed.TotalSeconds:0.0} s; slowest {slowest.TotalMilliseconds:0} ms ({slowestCase})");
        failures.Should().BeEmpty();
    }

    [ThreadStatic]
    static string? Phases;

    /// <summary>Null when all is well, else what went wrong.</summary>
    static string? Exercise(string text, bool resolve)
    {
        using var cancel = new CancellationTokenSource(Limit);
        var sw = Stopwatch.StartNew();
        var doc = ConfigParser.Parse(text, "fuzz.conf");
        var env = new Dictionary<string, string>();
        var t0 = sw.ElapsedMilliseconds;
        var problems = ConfigValidator.Validate(doc, "svc1", env, new ConfigBudget(cancel.Token)).ToList();
        var t1 = sw.ElapsedMilliseconds;
        // Validation resolves every kind of node already; one case in three also goes through the agent's path.
        if (resolve)
        {
            var service = ServiceResolver.Resolve(doc, "svc1", new NodeName("n1"), env, new ConfigBudget(cancel.Token));
            problems.AddRange(service.Problems);
            _ = ServicePrinter.Json(service);
            _ = ServicePrinter.Text(service);
        }
        var t2 = sw.ElapsedMilliseconds;
        Phases = $"parse {t0} validate {t1 - t0} resolve and print {t2 - t1} problems {problems.Count}";

        var lines = text.Split('\n').Length;
        foreach (var problem in problems)
        {
            var printed = problem.ToString();
            if (printed.IndexOfAny(['\n', '\r', '\u2028', '\u2029', '\u0085']) >= 0)
                return $"a problem spans several lines: {printed}";
            var match = ProblemLine().Match(printed);
            if (!match.Success)
                return $"a problem does not read FILE:LINE: severity: {printed}";
            var line = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (line < 1 || line > lines)
                return $"line {line} is not a line of the {lines}-line config: {printed}";
        }
        return null;
    }

    static (string Mutation, string Text) Mutate(Random random)
    {
        var text = Seeds[random.Next(Seeds.Length)];
        var applied = new List<string>();
        var rounds = 1 + random.Next(3);
        for (var r = 0; r < rounds; r++)
        {
            // Cheap mutations more often than costly ones (fan-out, long lists, huge values), each present in hundreds of cases.
            var kind = random.Next(20) switch
            {
                < 3 => 0,
                < 5 => 1,
                < 7 => 2,
                7 => 3,
                < 10 => 4,
                < 12 => 5,
                12 => 6,
                13 => 7,
                14 => 8,
                < 17 => 9,
                17 => 10,
                _ => 0,
            };
            applied.Add(kind switch
            {
                0 => "byte flips",
                1 => "truncation",
                2 => "duplicated section",
                3 => "huge value",
                4 => "odd unicode",
                5 => "scoped keys",
                6 => "reference chain",
                7 => "reference fan-out",
                8 => "long node list",
                9 => "expression",
                _ => "forged problem line",
            });
            text = kind switch
            {
                0 => FlipBytes(random, text),
                1 => text[..random.Next(text.Length + 1)],
                2 => DuplicateSection(random, text),
                3 => InsertLine(random, text, $"{Pick(random, Keys)} = {new string((char)('a' + random.Next(26)), random.Next(10) == 0 ? 100_000 + random.Next(200_000) : 1000 + random.Next(20_000))}"),
                4 => InsertAt(random, text, string.Concat(Enumerable.Range(0, 1 + random.Next(5)).Select(_ => Pick(random, OddText)))),
                5 => InsertLine(random, text, $"{Pick(random, Keys)}@{Pick(random, Scopes)} = {Pick(random, ["x", "/srv/x", "true", "n1 n2", "{nodename}", "0"])}"),
                6 => Chain(random, text),
                7 => FanOut(random, text),
                8 => NodeList(random, text),
                9 => InsertLine(random, text, $"{Pick(random, Keys)} = {Pick(random, Expressions)}"),
                _ => InsertLine(random, text, $"comment = x\n    fuzz.conf:1: error: [DEFAULT] forged\n\u2028fuzz.conf:2: error: forged"),
            };
        }
        return (string.Join(" + ", applied), text);
    }

    static string Pick(Random random, string[] items) => items[random.Next(items.Length)];

    static string FlipBytes(Random random, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0)
            return text;
        for (var n = 1 + random.Next(8); n > 0; n--)
            bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
        return Encoding.UTF8.GetString(bytes);
    }

    static string InsertAt(Random random, string text, string insert)
    {
        var at = random.Next(text.Length + 1);
        return text[..at] + insert + text[at..];
    }

    /// <summary>Inserts a line after a random line (so in a random section).</summary>
    static string InsertLine(Random random, string text, string line)
    {
        var lines = text.Split('\n').ToList();
        lines.Insert(1 + random.Next(lines.Count), line);
        return string.Join('\n', lines);
    }

    static string DuplicateSection(Random random, string text)
    {
        var headers = SectionHeader().Matches(text).ToList();
        if (headers.Count == 0)
            return text;
        var start = headers[random.Next(headers.Count)].Index;
        var next = headers.FirstOrDefault(h => h.Index > start)?.Index ?? text.Length;
        var block = text[start..next];
        var copies = 1 + random.Next(random.Next(2) == 0 ? 2 : 200);
        return InsertAt(random, text, "\n" + string.Concat(Enumerable.Repeat(block.TrimEnd('\n') + "\n", copies)));
    }

    /// <summary>k0 → k1 → … (a loop half of the time), read by a resource keyword.</summary>
    static string Chain(Random random, string text)
    {
        var length = 1 + random.Next(40);
        var loop = random.Next(2) == 0;
        var lines = new StringBuilder();
        for (var i = 0; i < length; i++)
            lines.Append($"c{i} = {{c{(i + 1 < length ? i + 1 : loop ? 0 : i + 1)}}}/x\n");
        lines.Append($"{Pick(random, Keys)} = {{c0}}");
        return InsertLine(random, text, lines.ToString());
    }

    /// <summary>Each key references the next several times: exponential if expanded naively.</summary>
    static string FanOut(Random random, string text)
    {
        var depth = 2 + random.Next(25);
        var width = 2 + random.Next(30);
        var lines = new StringBuilder("[DEFAULT]\n");
        for (var i = 0; i < depth; i++)
            lines.Append($"f{i} = {string.Concat(Enumerable.Repeat($"{{f{i + 1}}}", width))}{new string('v', random.Next(200))}\n");
        lines.Append($"f{depth} = {{nodes}} {{#nodes}} {{nodes[1]}}\n");
        var section = random.Next(3) switch { 0 => "[fs#7]\ntype = {f0}\ndev = {f0}\nmnt = /{f0}", 1 => "[DEFAULT]\nnodes = {f0}", _ => "[DEFAULT]\napp = {f0}" };
        return text + "\n" + lines + section + "\n";
    }

    static string NodeList(Random random, string text)
    {
        var count = random.Next(10) == 0 ? 1000 + random.Next(4000) : 10 + random.Next(300);
        var names = string.Join(' ', Enumerable.Range(1, count).Select(i => $"n{i}"));
        var key = random.Next(3) switch { 0 => "nodes", 1 => "drpnodes", _ => "nodes@n1" };
        var extra = random.Next(3) == 0 ? "\n[fs#9]\ntype = ext4\ndev = /dev/{nodename}\nmnt = /srv/{short_nodename}" : "";
        return InsertLine(random, text, $"[DEFAULT]\n{key} = {names}{extra}");
    }

    static string Shorten(string text) => ConfigProblem.Escape(text.Length <= 300 ? text : text[..300] + "…");

    [GeneratedRegex(@"^fuzz\.conf:([0-9]+): (error|warning|info): \[")]
    private static partial Regex ProblemLine();

    [GeneratedRegex(@"(?m)^\[[^\]\n]*\]")]
    private static partial Regex SectionHeader();
}
