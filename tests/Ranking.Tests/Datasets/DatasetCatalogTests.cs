using Ranking.Import.Datasets;

namespace Ranking.Tests.Datasets;

public sealed class DatasetCatalogTests
{
    [Fact]
    public void Open_UnknownName_ThrowsListingKnownNames()
    {
        var ex = Assert.Throws<ArgumentException>(() => DatasetCatalog.Open("movielens-20m", Path.GetTempPath()));

        Assert.Contains("movielens-20m", ex.Message, StringComparison.Ordinal);
        foreach (var name in DatasetCatalog.Names)
        {
            Assert.Contains(name, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Open_MissingFolder_ThrowsDirectoryNotFoundNamingIt()
    {
        using var temp = DatasetTestData.CreateTempFolder();

        var ex = Assert.Throws<DirectoryNotFoundException>(() => DatasetCatalog.Open("hillstrom", temp.Path));

        Assert.Contains("'hillstrom'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(DatasetLocator.EnvironmentVariable, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rees46", "rees46-ecommerce-2019oct-head")]
    [InlineData("MovieLens-1M", "movielens-1m")]
    [InlineData("movielens-100k", "movielens-100k")]
    [InlineData("amazon-sports", "amazon-sports-s3rec")]
    [InlineData("hillstrom", "hillstrom")]
    public void FolderOf_KnownName_ReturnsItsFolder(string name, string folder) => Assert.Equal(folder, DatasetCatalog.FolderOf(name));

    [SkippableFact]
    public void Open_EveryKnownName_ReturnsSourceOfThatName()
    {
        var root = Path.GetDirectoryName(DatasetTestData.RequireFolder(DatasetCatalog.Hillstrom))!;
        foreach (var name in DatasetCatalog.Names)
        {
            var source = DatasetCatalog.Open(name, root);

            Assert.Equal(name, source.Name);
        }
    }

    [Fact]
    public void Find_OverrideSet_ReturnsItAsFullPath()
    {
        var found = DatasetLocator.Find("some/data", [Path.GetTempPath()]);

        Assert.Equal(Path.GetFullPath("some/data"), found);
    }

    [Fact]
    public void Find_SharedDataBesideAnAncestor_ReturnsIt()
    {
        using var temp = DatasetTestData.CreateTempFolder();
        var data = Directory.CreateDirectory(Path.Combine(temp.Path, "shared", "data")).FullName;
        var bin = Directory.CreateDirectory(Path.Combine(temp.Path, "main", "tests", "bin", "Debug")).FullName;

        var found = DatasetLocator.Find(null, [bin]);

        Assert.Equal(data, found);
    }

    [SkippableFact]
    public void Find_NoSharedDataAbove_ReturnsNull()
    {
        using var temp = DatasetTestData.CreateTempFolder();
        var bin = Directory.CreateDirectory(Path.Combine(temp.Path, "main", "bin")).FullName;
        Skip.If(Directory.Exists(Path.Combine(Path.GetTempPath(), "shared", "data")), "a shared/data folder lies above the temp folder");

        var found = DatasetLocator.Find("  ", [bin]);

        Assert.Null(found);
    }
}
