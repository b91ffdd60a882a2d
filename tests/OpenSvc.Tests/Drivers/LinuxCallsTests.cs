using FluentAssertions;
using OpenSvc.Infrastructure.Execution;
using Xunit;

namespace OpenSvc.Tests.Drivers;

/// <summary>
/// The snapshot ioctl a drill makes itself: its refusals come back as messages that name the paths and the system's
/// reason. (A clone that succeeds is made on the lab by the drill scenario and by bench drill, from n3's received snapshot.)
/// </summary>
public sealed class LinuxCallsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("opensvc-linux-calls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void a_snapshot_of_a_directory_that_is_not_a_btrfs_subvolume_is_refused_with_the_systems_reason()
    {
        var source = Directory.CreateDirectory(Path.Combine(_dir, "plain")).FullName;

        var act = () => LinuxCalls.BtrfsSnapshot(source, Path.Combine(_dir, "clone"));

        act.Should().Throw<IOException>().WithMessage($"btrfs snapshot {source} {_dir}/clone: *");
        Directory.Exists(Path.Combine(_dir, "clone")).Should().BeFalse();
    }

    [Fact]
    public void a_snapshot_of_a_missing_source_or_into_a_missing_parent_names_the_path()
    {
        var source = Directory.CreateDirectory(Path.Combine(_dir, "plain")).FullName;

        FluentActions.Invoking(() => LinuxCalls.BtrfsSnapshot(Path.Combine(_dir, "missing"), Path.Combine(_dir, "clone")))
            .Should().Throw<IOException>().WithMessage($"btrfs snapshot: cannot open {_dir}/missing: *");
        FluentActions.Invoking(() => LinuxCalls.BtrfsSnapshot(source, Path.Combine(_dir, "no", "clone")))
            .Should().Throw<IOException>().WithMessage($"btrfs snapshot: cannot open {_dir}/no: *");
        FluentActions.Invoking(() => LinuxCalls.BtrfsSnapshot(source, "/"))
            .Should().Throw<IOException>().WithMessage("*not a name a subvolume can take");
    }
}
