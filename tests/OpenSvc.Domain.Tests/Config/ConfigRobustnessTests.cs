using System.Text;
using CsCheck;
using OpenSvc.Domain.Config;
using Xunit;

namespace OpenSvc.Domain.Tests.Config;

/// <summary>Parse, Validate and Resolve must finish without throwing on any text.</summary>
public class ConfigRobustnessTests
{
    static readonly string[] Seeds =
    [
        Seed.Text(Seed.FailoverDockerBtrfs),
        Seed.Text(Seed.FlexDocker),
        Seed.Text(Seed.FlexFailoverRsync),
    ];

    static readonly string[] Fragments =
    [
        "[", "]", "[fs#", "[DEFAULT]", "[sync#9]\n", "\n", "\n   ", "=", ":", "@", "@nodes", "@drpnodes", "@n3", "#", ";",
        "{", "}", "{a}", "{b}", "{#a}", "{a[3]}", "{env.x}", "{fs#0.dev}", "{nodename}", "{rid}",
        "a = {b}{b}{b}\nb = {a}{a}{a}\n", "target = both", "type = btrfs", "src = x", "netns = container#9",
        "always_on@n1 = nodes", "nodes = ", "drpnode = N4", "flex_min = -9999999999", "sync_max_delay = 99999999999999d",
        "\0", "\uFFFF", "\r\n", "\t", "run_args = '", "options = --exclude=/srv/svc1/data/x",
    ];

    static Gen<string> Mutated =>
        Gen.Select(Gen.Int[0, Seeds.Length - 1], Gen.Int[0, 2000], Gen.Int[0, 300], Gen.Int[0, Fragments.Length - 1], Gen.Int[1, 4])
            .Select((seed, at, cut, fragment, repeat) =>
            {
                var text = Seeds[seed];
                var position = Math.Min(at, text.Length);
                var removed = Math.Min(cut, text.Length - position);
                return text[..position] + string.Concat(Enumerable.Repeat(Fragments[fragment], repeat)) + text[(position + removed)..];
            });

    static Gen<string> Junk =>
        Gen.Int[0, 10].SelectMany(kind => kind switch
        {
            < 3 => Gen.String[Gen.Char, 0, 400],
            < 6 => Gen.String[Gen.Char["[]{}#@=:;\n\r\t ab01"], 0, 400],
            6 => Gen.Int[1000, 200_000].Select(n => "[DEFAULT]\nnodes = " + new string('n', n) + "\n"),
            < 9 => Gen.Int[1, 60].Select(Loop),
            _ => Gen.Int[0, Fragments.Length - 1].Array[1, 40].Select(ix => string.Concat(ix.Select(i => Fragments[i]))),
        });

    /// <summary>A chain k0 → k1 → … → k0 of references, each fanning out.</summary>
    static string Loop(int length)
    {
        var text = new StringBuilder("[DEFAULT]\nnodes = n1 n2\ndrpnodes = n3\n");
        for (var i = 0; i < length; i++)
            text.Append($"k{i} = {{k{(i + 1) % length}}}{{k{(i + 1) % length}}}\n");
        text.Append("[fs#0]\ntype = {k0}\ndev = {k0}\nmnt = {k0}\n");
        return text.ToString();
    }

    static void Exercise(string text)
    {
        var doc = ConfigParser.Parse(text, "fuzz.conf");
        ConfigValidator.Validate(doc, "svc1", new Dictionary<string, string>());
        var service = ServiceResolver.Resolve(doc, "svc1", new NodeName("n1"), new Dictionary<string, string>());
        ServicePrinter.Json(service);
        ServicePrinter.Text(service);
    }

    [Fact]
    public void mutated_seed_configs_never_throw()
    {
        Mutated.Sample(Exercise, iter: 3000);
    }

    [Fact]
    public void random_text_never_throws()
    {
        Junk.Sample(Exercise, iter: 1500);
    }
}
