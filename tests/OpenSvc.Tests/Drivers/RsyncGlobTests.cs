using FluentAssertions;
using OpenSvc.Infrastructure.Drivers.Sync.Rsync;
using Xunit;

namespace OpenSvc.Tests.Drivers;

/// <summary>rsync src words are globs, as OpenSVC expands them; on a real directory tree.</summary>
public sealed class RsyncGlobTests : IDisposable
{
    readonly string _root = Directory.CreateTempSubdirectory("rsync-glob-").FullName;

    public RsyncGlobTests()
    {
        Directory.CreateDirectory(Path.Combine(_root, "data", "sub"));
        foreach (var file in new[] { "data/a.log", "data/b.log", "data/c.txt", "data/.hidden.log", "data/sub/d.log" })
            File.WriteAllText(Path.Combine(_root, file), "x");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void a_star_pattern_expands_to_the_matching_files_sorted_without_hidden_ones() =>
        RsyncGlob.Expand([$"{_root}/data/*.log"]).Should().Equal($"{_root}/data/a.log", $"{_root}/data/b.log");

    [Fact]
    public void classes_question_marks_and_directory_patterns_expand()
    {
        RsyncGlob.Expand([$"{_root}/data/[ab].?og"]).Should().Equal($"{_root}/data/a.log", $"{_root}/data/b.log");
        RsyncGlob.Expand([$"{_root}/*/sub/*.log"]).Should().Equal($"{_root}/data/sub/d.log");
        RsyncGlob.Expand([$"{_root}/data/[!a]*.*"]).Should().Equal($"{_root}/data/b.log", $"{_root}/data/c.txt");
    }

    [Fact]
    public void a_plain_word_is_itself_when_it_exists_and_nothing_otherwise()
    {
        RsyncGlob.Expand([$"{_root}/data/", $"{_root}/missing", $"{_root}/data/*.none"]).Should().Equal($"{_root}/data/");
        RsyncGlob.Expand([$"{_root}/nothing/*"]).Should().BeEmpty();
    }
}
