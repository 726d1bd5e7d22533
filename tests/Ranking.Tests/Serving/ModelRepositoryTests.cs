using System.Security.Cryptography;
using System.Text;
using Ranking.Serving;

namespace Ranking.Tests.Serving;

public sealed class ModelRepositoryTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ranking-serving-" + Guid.NewGuid().ToString("N"));
    private readonly ModelRepository _repository;

    public ModelRepositoryTests() => _repository = new ModelRepository(_root);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    internal static ModelManifest Draft(string source = "test") => new()
    {
        DataSnapshot = new DataSnapshot(source, 1234, 10, 20,
            new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), new DateTimeOffset(2024, 2, 3, 4, 5, 6, TimeSpan.Zero), "fp-1"),
        Parameters = new Dictionary<string, string> { ["factors"] = "64", ["Seed"] = "42" },
        Metrics = new Dictionary<string, double> { ["ndcg@10"] = 0.25, ["coverage"] = double.NaN },
        Steps = [new TrainingStep("als", 1.5, "12 iterations"), new TrainingStep("swing", 0.25)],
    };

    internal static ModelManifest CommitVersion(ModelRepository repository, params (string Name, byte[] Content)[] files)
    {
        using var writer = repository.BeginVersion();
        foreach (var (name, content) in files)
        {
            using var stream = writer.Create(name);
            stream.Write(content);
        }

        return writer.Commit(Draft());
    }

    private static readonly byte[] Als = Encoding.ASCII.GetBytes("als-factors!");
    private static readonly byte[] Items = Encoding.ASCII.GetBytes("item-table");

    [Fact]
    public void Commit_ThenValidate_RoundTripsManifestAndFiles()
    {
        var committed = CommitVersion(_repository, ("als.bin", Als), ("items.bin", Items));

        var versions = _repository.ListVersions();
        var check = _repository.Validate(committed.Version);

        Assert.Equal([committed.Version], versions);
        Assert.True(check.IsValid, check.Error);
        Assert.Null(check.Error);
        var read = check.Manifest;
        Assert.Equal(ModelManifest.CurrentFormatVersion, read.FormatVersion);
        Assert.Equal(committed.Version, read.Version);
        Assert.NotEqual(default, read.CreatedAt);
        Assert.Equal(committed.DataSnapshot, read.DataSnapshot);
        Assert.Equal("64", read.Parameters["factors"]);
        Assert.Equal("42", read.Parameters["Seed"]);
        Assert.Equal(0.25, read.Metrics["ndcg@10"]);
        Assert.True(double.IsNaN(read.Metrics["coverage"]));
        Assert.Equal(committed.Steps, read.Steps);
        Assert.Equal(
            [
                new ManifestFile("als.bin", Als.Length, Convert.ToHexStringLower(SHA256.HashData(Als))),
                new ManifestFile("items.bin", Items.Length, Convert.ToHexStringLower(SHA256.HashData(Items))),
            ],
            read.Files);
        using var stream = _repository.OpenRead(read, "als.bin");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        Assert.Equal(Als, copy.ToArray());
    }

    [Fact]
    public void BeginVersion_Twice_GivesSortableNewerVersion()
    {
        var first = CommitVersion(_repository, ("a.bin", Als));
        var second = CommitVersion(_repository, ("a.bin", Als));

        Assert.True(string.CompareOrdinal(second.Version, first.Version) > 0);
        Assert.Equal([second.Version, first.Version], _repository.ListVersions());
        Assert.Matches(@"^\d{8}-\d{6}-\d{3}-[0-9a-f]+$", first.Version);
    }

    [Fact]
    public void Validate_CorruptedByte_ReportsShaMismatch()
    {
        var manifest = CommitVersion(_repository, ("als.bin", Als));
        var path = Path.Combine(_repository.FolderOf(manifest.Version), "als.bin");
        var bytes = File.ReadAllBytes(path);
        bytes[3] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var check = _repository.Validate(manifest.Version);

        Assert.False(check.IsValid);
        Assert.Null(check.Manifest);
        Assert.Equal("file als.bin: SHA-256 mismatch", check.Error);
    }

    [Fact]
    public void Validate_TruncatedFile_ReportsSize()
    {
        var manifest = CommitVersion(_repository, ("als.bin", Als));
        var path = Path.Combine(_repository.FolderOf(manifest.Version), "als.bin");
        File.WriteAllBytes(path, Als.AsSpan(0, 10).ToArray());

        var check = _repository.Validate(manifest.Version);

        Assert.False(check.IsValid);
        Assert.Equal("file als.bin: size 10 != 12 in manifest", check.Error);
        Assert.Throws<InvalidDataException>(() => _repository.OpenRead(manifest, "als.bin"));
    }

    [Fact]
    public void Validate_DeletedFile_ReportsMissing()
    {
        var manifest = CommitVersion(_repository, ("als.bin", Als));
        File.Delete(Path.Combine(_repository.FolderOf(manifest.Version), "als.bin"));

        var check = _repository.Validate(manifest.Version);

        Assert.Equal("file als.bin: missing", check.Error);
    }

    [Fact]
    public void MissingManifest_IsNotListedAndIsRefused()
    {
        var manifest = CommitVersion(_repository, ("als.bin", Als));
        File.Delete(Path.Combine(_repository.FolderOf(manifest.Version), ModelRepository.ManifestFileName));

        Assert.Empty(_repository.ListVersions());
        Assert.Equal("manifest.json missing", _repository.Validate(manifest.Version).Error);
        Assert.False(_repository.TryGetNewestValid(out _, out _));
    }

    [Fact]
    public void Validate_UnknownFormatVersion_IsRefused()
    {
        var manifest = CommitVersion(_repository, ("als.bin", Als));
        var path = Path.Combine(_repository.FolderOf(manifest.Version), ModelRepository.ManifestFileName);
        File.WriteAllText(path, File.ReadAllText(path).Replace("\"formatVersion\": 1", "\"formatVersion\": 7", StringComparison.Ordinal));

        Assert.Equal("unknown format version 7", _repository.Validate(manifest.Version).Error);
    }

    [Fact]
    public void Validate_ManifestOfAnotherVersion_IsRefused()
    {
        var older = CommitVersion(_repository, ("als.bin", Als));
        var newer = CommitVersion(_repository, ("als.bin", Als));
        File.Copy(
            Path.Combine(_repository.FolderOf(older.Version), ModelRepository.ManifestFileName),
            Path.Combine(_repository.FolderOf(newer.Version), ModelRepository.ManifestFileName),
            overwrite: true);

        var check = _repository.Validate(newer.Version);

        Assert.False(check.IsValid);
        Assert.Contains(older.Version, check.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryGetNewestValid_NewestCorrupt_FallsBackToOlderWithReason()
    {
        var older = CommitVersion(_repository, ("als.bin", Als));
        var newer = CommitVersion(_repository, ("als.bin", Als));
        File.WriteAllBytes(Path.Combine(_repository.FolderOf(newer.Version), "als.bin"), new byte[Als.Length]);

        var found = _repository.TryGetNewestValid(out var manifest, out var rejected);

        Assert.True(found);
        Assert.Equal(older.Version, manifest!.Version);
        var refusal = Assert.Single(rejected);
        Assert.Equal(newer.Version, refusal.Version);
        Assert.Equal("file als.bin: SHA-256 mismatch", refusal.Error);
    }

    [Fact]
    public void TryGetNewestValid_EmptyRepository_ReturnsFalse()
    {
        Assert.False(_repository.TryGetNewestValid(out var manifest, out var rejected));
        Assert.Null(manifest);
        Assert.Empty(rejected);
    }

    [Fact]
    public void StagingFolder_IsNotListedUntilCommit()
    {
        using var writer = _repository.BeginVersion();
        using (var stream = writer.Create("als.bin"))
        {
            stream.Write(Als);
        }

        Assert.True(Directory.Exists(writer.Folder));
        Assert.Empty(_repository.ListVersions());

        var manifest = writer.Commit(Draft());

        Assert.False(Directory.Exists(writer.Folder));
        Assert.Equal([manifest.Version], _repository.ListVersions());
    }

    [Fact]
    public void Dispose_WithoutCommit_LeavesNothing()
    {
        using (var writer = _repository.BeginVersion())
        {
            using var stream = writer.Create("als.bin");
            stream.Write(Als);
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public void Dispose_WithStreamStillOpen_LeavesNothing()
    {
        using (var writer = _repository.BeginVersion())
        {
            writer.Create("als.bin").Write(Als);
        }

        Assert.Empty(Directory.EnumerateFileSystemEntries(_root));
    }

    [Fact]
    public void Commit_WithStreamStillOpen_Throws()
    {
        using var writer = _repository.BeginVersion();
        using var stream = writer.Create("als.bin");
        stream.Write(Als);

        var ex = Assert.Throws<InvalidOperationException>(() => writer.Commit(Draft()));

        Assert.Contains("als.bin", ex.Message, StringComparison.Ordinal);
        Assert.Empty(_repository.ListVersions());
        Assert.True(stream.CanWrite);
    }

    [Fact]
    public void Commit_FileWrittenByPath_IsIncluded()
    {
        using var writer = _repository.BeginVersion();
        File.WriteAllBytes(Path.Combine(writer.Folder, "index.usearch"), Items);

        var manifest = writer.Commit(Draft());

        Assert.Equal("index.usearch", Assert.Single(manifest.Files).Name);
        Assert.True(_repository.Validate(manifest.Version).IsValid);
    }

    [Fact]
    public void Commit_Twice_Throws()
    {
        using var writer = _repository.BeginVersion();
        writer.Commit(Draft());

        Assert.Throws<InvalidOperationException>(() => writer.Commit(Draft()));
        Assert.Throws<InvalidOperationException>(() => writer.Create("late.bin"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("manifest.json")]
    public void Create_BadName_Throws(string name)
    {
        using var writer = _repository.BeginVersion();

        Assert.Throws<ArgumentException>(() => writer.Create(name));
    }

    [Fact]
    public void OpenRead_FileNotInManifest_ThrowsFileNotFound()
    {
        var manifest = CommitVersion(_repository, ("als.bin", Als));
        File.WriteAllBytes(Path.Combine(_repository.FolderOf(manifest.Version), "extra.bin"), Als);

        Assert.Throws<FileNotFoundException>(() => _repository.OpenRead(manifest, "extra.bin"));
        Assert.Throws<ArgumentException>(() => _repository.OpenRead(manifest, "../als.bin"));
        Assert.Throws<ArgumentException>(() => _repository.FolderOf(".staging-x"));
    }

    [Fact]
    public void ParallelWriters_ProduceDistinctValidVersions()
    {
        const int writers = 8;
        var versions = new string[writers];

        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, i =>
        {
            versions[i] = CommitVersion(_repository, ("als.bin", [(byte)i, 1, 2, 3])).Version;
        });

        Assert.Equal(writers, versions.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(versions.Order(StringComparer.Ordinal).Reverse(), _repository.ListVersions());
        Assert.All(versions, v => Assert.True(_repository.Validate(v).IsValid));
    }

    [Fact]
    public void Prune_KeepsNewestValid_DeletesRestAndStaleStaging()
    {
        var v1 = CommitVersion(_repository, ("als.bin", Als)).Version;
        var v2 = CommitVersion(_repository, ("als.bin", Als)).Version;
        var v3 = CommitVersion(_repository, ("als.bin", Als)).Version;
        var v4 = CommitVersion(_repository, ("als.bin", Als)).Version;
        File.WriteAllBytes(Path.Combine(_repository.FolderOf(v4), "als.bin"), [1]);
        using var fresh = _repository.BeginVersion();
        var stale = _repository.BeginVersion();
        using (var stream = stale.Create("als.bin"))
        {
            stream.Write(Als);
        }

        var staleFolder = stale.Folder;
        var longAgo = DateTime.UtcNow.AddHours(-2);
        File.SetLastWriteTimeUtc(Path.Combine(staleFolder, "als.bin"), longAgo);
        Directory.SetLastWriteTimeUtc(staleFolder, longAgo);

        var deleted = _repository.Prune(keep: 2);

        Assert.Equal(3, deleted);
        Assert.Equal([v3, v2], _repository.ListVersions());
        Assert.False(Directory.Exists(_repository.FolderOf(v1)));
        Assert.False(Directory.Exists(staleFolder));
        Assert.True(Directory.Exists(fresh.Folder));
        Assert.DoesNotContain(Directory.EnumerateDirectories(_root), d => Path.GetFileName(d).StartsWith(".deleting-", StringComparison.Ordinal));
    }

    [Fact]
    public void Prune_KeepOne_NeverDeletesNewestValid()
    {
        var v1 = CommitVersion(_repository, ("als.bin", Als)).Version;
        var v2 = CommitVersion(_repository, ("als.bin", Als)).Version;

        Assert.Equal(1, _repository.Prune(keep: 1));
        Assert.Equal([v2], _repository.ListVersions());
        Assert.Equal(0, _repository.Prune(keep: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _repository.Prune(keep: 0));
        Assert.False(Directory.Exists(_repository.FolderOf(v1)));
    }

    [Fact]
    public void Prune_NoValidVersion_DeletesNoVersion()
    {
        var v1 = CommitVersion(_repository, ("als.bin", Als)).Version;
        File.WriteAllBytes(Path.Combine(_repository.FolderOf(v1), "als.bin"), [1]);

        Assert.Equal(0, _repository.Prune(keep: 1));
        Assert.Equal([v1], _repository.ListVersions());
    }
}

public sealed class ModelManifestTests
{
    private const string Sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static ModelManifest ReadJson(string json) => ModelManifest.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)));

    private static string Json(string version = "\"20240101-000000-000-abcd\"", int format = 1, string fileName = "als.bin") => $$"""
        {
          "formatVersion": {{format}},
          "version": {{version}},
          "createdAt": "2024-01-01T00:00:00+00:00",
          "dataSnapshot": { "source": "s", "events": 1, "users": 1, "items": 1, "firstEvent": null, "lastEvent": null, "fingerprint": "" },
          "files": [ { "name": "{{fileName.Replace("\\", "\\\\", StringComparison.Ordinal)}}", "bytes": 3, "sha256": "{{Sha}}" } ]
        }
        """;

    [Fact]
    public void WriteThenRead_RoundTrips_CamelCaseIndented()
    {
        var manifest = ModelRepositoryTests.Draft() with
        {
            Version = "20240101-000000-000-abcd",
            Files = [new ManifestFile("als.bin", 3, Sha)],
        };
        using var stream = new MemoryStream();

        manifest.Write(stream);
        var json = Encoding.UTF8.GetString(stream.ToArray());
        stream.Position = 0;
        var read = ModelManifest.Read(stream);

        Assert.Contains("\"dataSnapshot\": {", json, StringComparison.Ordinal);
        Assert.Contains("\"Seed\": \"42\"", json, StringComparison.Ordinal);
        Assert.Contains('\n', json);
        Assert.Equal(manifest.Version, read.Version);
        Assert.Equal(manifest.DataSnapshot, read.DataSnapshot);
        Assert.Equal(manifest.Files, read.Files);
        Assert.Equal(manifest.Steps, read.Steps);
    }

    [Fact]
    public void Read_MinimalJson_FillsEmptyCollections()
    {
        var read = ReadJson(Json());

        Assert.Empty(read.Parameters);
        Assert.Empty(read.Metrics);
        Assert.Empty(read.Steps);
        Assert.Single(read.Files);
    }

    [Theory]
    [InlineData("{ not json", "not valid JSON")]
    [InlineData("[]", "not a JSON object")]
    [InlineData("{ \"version\": \"x\" }", "no formatVersion")]
    public void Read_Malformed_ThrowsInvalidData(string json, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => ReadJson(json));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_MissingVersion_ThrowsInvalidData()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ReadJson(Json(version: "null")));

        Assert.Equal("manifest has no version", ex.Message);
    }

    [Fact]
    public void Read_UnknownFormatVersion_ThrowsInvalidData()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ReadJson(Json(format: 7)));

        Assert.Equal("unknown format version 7", ex.Message);
    }

    [Theory]
    [InlineData("../als.bin")]
    [InlineData("sub/als.bin")]
    [InlineData("sub\\als.bin")]
    [InlineData("..")]
    [InlineData("manifest.json")]
    public void Read_BadFileName_ThrowsInvalidData(string fileName)
    {
        var ex = Assert.Throws<InvalidDataException>(() => ReadJson(Json(fileName: fileName)));

        Assert.Contains(fileName, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_WithoutVersion_Throws()
    {
        using var stream = new MemoryStream();

        Assert.Throws<InvalidOperationException>(() => ModelRepositoryTests.Draft().Write(stream));
        Assert.Equal(0, stream.Length);
    }
}
