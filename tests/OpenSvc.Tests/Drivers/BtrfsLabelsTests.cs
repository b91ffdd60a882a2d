using FluentAssertions;
using OpenSvc.Infrastructure.Drivers.Sync.Btrfs;
using Xunit;

namespace OpenSvc.Tests.Drivers;

/// <summary>
/// The label of a mounted btrfs read from the kernel's sysfs tree instead of a <c>btrfs filesystem label</c> process: a
/// tree laid out as the kernel's (one directory per mounted filesystem, its devices by kernel name, its label) and a
/// device path that is a link to the kernel's name, as <c>/dev/mapper/*</c> are.
/// </summary>
public sealed class BtrfsLabelsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("opensvc-btrfs-labels-").FullName;

    string Sys => Path.Combine(_dir, "sys");

    void Filesystem(string fsid, string label, params string[] devices)
    {
        var fs = Directory.CreateDirectory(Path.Combine(Sys, fsid)).FullName;
        File.WriteAllText(Path.Combine(fs, "label"), label + "\n");
        foreach (var d in devices)
            File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.Combine(fs, "devices")).FullName, d), "");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void the_label_of_a_mounted_device_is_read_from_its_filesystem_and_a_link_resolves_to_the_kernel_name()
    {
        Filesystem("27a955c5-73d5-480a-92eb-9192a8847028", "svc1", "loop1");
        Filesystem("3e8247ae-7c32-4142-97b5-d995fd66708d", "other", "dm-0", "sdb");
        Directory.CreateDirectory(Path.Combine(_dir, "dev", "mapper"));
        File.WriteAllText(Path.Combine(_dir, "dev", "dm-0"), "");
        File.CreateSymbolicLink(Path.Combine(_dir, "dev", "mapper", "vg-data"), "../dm-0");

        BtrfsLabels.OfMounted("/dev/loop1", Sys).Should().Be("svc1");
        BtrfsLabels.OfMounted("/dev/sdb", Sys).Should().Be("other");
        BtrfsLabels.OfMounted(Path.Combine(_dir, "dev", "mapper", "vg-data"), Sys).Should().Be("other", "a link is looked up by the kernel's name");
    }

    [Fact]
    public void a_device_no_mounted_btrfs_lists_or_a_missing_tree_gives_null_so_the_caller_asks_btrfs()
    {
        Filesystem("27a955c5-73d5-480a-92eb-9192a8847028", "svc1", "loop1");

        BtrfsLabels.OfMounted("/dev/loop9", Sys).Should().BeNull();
        BtrfsLabels.OfMounted("/dev/loop1", Path.Combine(_dir, "nowhere")).Should().BeNull();
    }

    [Fact]
    public void a_filesystem_without_a_label_reads_as_empty()
    {
        Filesystem("0b7e0a54-0000-4000-8000-000000000001", "", "loop2");

        BtrfsLabels.OfMounted("/dev/loop2", Sys).Should().Be("");
    }
}
