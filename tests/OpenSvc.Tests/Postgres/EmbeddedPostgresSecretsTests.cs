using FluentAssertions;
using OpenSvc.Infrastructure.Postgres;
using OpenSvc.Tests.Support;
using Xunit;

namespace OpenSvc.Tests.Postgres;

/// <summary>
/// The embedded PostgreSQL's superuser password is never readable by another user: not in the file initdb reads it from
/// (looked at by a wrapper around the real initdb, while initdb runs), not in the files kept next to the cluster.
/// </summary>
public sealed class EmbeddedPostgresSecretsTests
{
    [Fact]
    public async Task the_password_is_owner_only_from_its_creation_during_initdb_and_after()
    {
        var real = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).First(d => File.Exists(Path.Combine(d, "initdb")));
        var bin = Directory.CreateTempSubdirectory("ospgbin").FullName;
        var home = Directory.CreateTempSubdirectory("ospghome").FullName;
        var report = Path.Combine(bin, "seen");
        const UnixFileMode open = (UnixFileMode)0b111_101_101;
        try
        {
            File.SetUnixFileMode(bin, open);
            File.SetUnixFileMode(home, open);
            foreach (var tool in Directory.GetFiles(real))
                File.CreateSymbolicLink(Path.Combine(bin, Path.GetFileName(tool)), tool);
            File.Delete(Path.Combine(bin, "initdb"));
            // What any user would see of the password file while initdb runs (initdb runs as the cluster's owner).
            File.WriteAllText(Path.Combine(bin, "initdb"), $$"""
                #!/bin/sh
                prev=
                for a in "$@"; do [ "$prev" = --pwfile ] && f=$a; prev=$a; done
                stat -c '%a %U' "$f" "$(dirname "$f")" > '{{report}}.tmp' 2>&1
                exec '{{Path.Combine(real, "initdb")}}' "$@"
                """);
            File.SetUnixFileMode(Path.Combine(bin, "initdb"), open);
            File.WriteAllText(report + ".tmp", "");
            File.SetUnixFileMode(report + ".tmp", (UnixFileMode)0b110_110_110);

            var pg = await EmbeddedPostgres.StartAsync(new EmbeddedPostgresOptions(home, PostgresServer.FreePort()) { BinDirectory = bin });
            try
            {
                var owner = Environment.UserName == "root" ? "postgres" : Environment.UserName;
                File.ReadAllLines(report + ".tmp").Should().Equal($"600 {owner}", $"700 {owner}");
                File.GetUnixFileMode(Path.Combine(home, "pg-password")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
                File.GetUnixFileMode(Path.Combine(home, "embedded-postgres.json")).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
                Directory.GetFileSystemEntries(home).Select(Path.GetFileName).Should().NotContain(n => n!.StartsWith(".initdb", StringComparison.Ordinal),
                    "the password file initdb read is gone");
            }
            finally
            {
                await pg.StopAsync();
            }
        }
        finally
        {
            Directory.Delete(bin, recursive: true);
            Directory.Delete(home, recursive: true);
        }
    }
}
