using System.Text;
using Ranking.Domain;
using Ranking.Import.Datasets;
using Xunit.Abstractions;

namespace Ranking.Tests.Datasets;

public sealed class MovieLensSourceTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task ReadAsync_OneMillion_MatchesSourceCounts()
    {
        var source = new MovieLensSource(DatasetTestData.RequireFolder(DatasetCatalog.MovieLens1M));

        var contents = await SourceContents.ReadAsync(source);

        output.WriteLine($"ML-1M: {contents.Events.Count:N0} ratings read in {contents.Elapsed.TotalMilliseconds:N0} ms ({contents.Chunks} chunks)");
        Assert.Equal(MovieLensEdition.OneMillion, source.Edition);
        Assert.Empty(contents.Errors);
        Assert.Equal(3_883, contents.Items.Count);
        Assert.Equal(6_040, contents.Users.Count);
        Assert.Equal(487_650, contents.Events.Count);
        Assert.Equal(2_999, SourceContents.CountDistinct(contents.Events.Select(e => e.Value.UserId)));
        Assert.Equal(contents.Events.Count, SourceContents.CountDistinct(contents.Events.Select(e => e.Value.EventId)));
        Assert.Equal(contents.Items.Count, SourceContents.CountDistinct(contents.Items.Select(i => i.Value.Id)));
        Assert.All(contents.Events, e => Assert.Equal(EventTypeRegistry.Rating, e.Value.Type));
        Assert.All(contents.Events, e => Assert.InRange(e.Value.Value ?? 0, 1, 5));
        Assert.Empty(contents.ValidationFailures());
        Assert.False(contents.CatalogAfterEvents);
        Assert.InRange(contents.LargestChunk, 1, DatasetCatalog.DefaultChunkSize);
    }

    [SkippableFact]
    public async Task ReadAsync_OneMillionFirstRating_IsUser1Movie1193FiveStars()
    {
        var source = new MovieLensSource(DatasetTestData.RequireFolder(DatasetCatalog.MovieLens1M));

        var contents = await SourceContents.ReadAsync(source);

        var (line, first) = contents.Events[0];
        Assert.Equal(1, line);
        Assert.Equal("ml1m-1-1193", first.EventId);
        Assert.Equal("1", first.UserId);
        Assert.Equal("1193", first.ItemId);
        Assert.Equal(5.0, first.Value);
        Assert.Equal(978_300_760, first.Timestamp.ToUnixTimeSeconds());
        Assert.Equal(TimeSpan.Zero, first.Timestamp.Offset);
        var user = contents.Users[0].Value;
        Assert.Equal("1", user.Id);
        Assert.Equal("F", user.Attributes["gender"]);
        Assert.Equal("1", user.Attributes["age"]);
        Assert.Equal("10", user.Attributes["occupation"]);
        Assert.Equal("48067", user.Attributes["zip"]);
    }

    [SkippableFact]
    public async Task ReadAsync_OneMillionMovies_DecodesLatin1AndParsesGenresAndYear()
    {
        var source = new MovieLensSource(DatasetTestData.RequireFolder(DatasetCatalog.MovieLens1M));

        var contents = await SourceContents.ReadAsync(source);

        var miserables = contents.Items.Single(i => i.Value.Id == "73");
        Assert.Equal(73, miserables.Line);
        Assert.Equal("Misérables, Les (1995)", miserables.Value.Title);
        Assert.Equal("Movies/Drama", miserables.Value.Category);
        Assert.Equal("Drama|Musical", miserables.Value.Attributes["genres"]);
        Assert.Equal("1995", miserables.Value.Attributes["year"]);
        Assert.Contains(contents.Items, i => i.Value.Title.Contains('é', StringComparison.Ordinal));
        Assert.DoesNotContain(contents.Items, i => i.Value.Title.Contains('\uFFFD', StringComparison.Ordinal));
        var toyStory = contents.Items[0].Value;
        Assert.Equal("Toy Story (1995)", toyStory.Title);
        Assert.Equal("Movies/Animation", toyStory.Category);
        Assert.Equal("Animation|Children's|Comedy", toyStory.Attributes["genres"]);
        Assert.Null(toyStory.Price);
    }

    [SkippableFact]
    public async Task ReadAsync_OneMillionTwice_YieldsSameRows()
    {
        var source = new MovieLensSource(DatasetTestData.RequireFolder(DatasetCatalog.MovieLens1M));

        var first = await SourceContents.ReadAsync(source);
        var second = await SourceContents.ReadAsync(source);

        output.WriteLine($"ML-1M: first read {first.Elapsed.TotalMilliseconds:N0} ms, second {second.Elapsed.TotalMilliseconds:N0} ms");
        Assert.Equal(first.Events.Count, second.Events.Count);
        Assert.Equal(first.Digest, second.Digest);
    }

    [SkippableFact]
    public async Task ReadAsync_HundredThousand_MatchesSourceCounts()
    {
        var source = new MovieLensSource(DatasetTestData.RequireFolder(DatasetCatalog.MovieLens100K));

        var contents = await SourceContents.ReadAsync(source);

        output.WriteLine($"ML-100K: {contents.Events.Count:N0} ratings read in {contents.Elapsed.TotalMilliseconds:N0} ms");
        Assert.Equal(MovieLensEdition.HundredThousand, source.Edition);
        Assert.Empty(contents.Errors);
        Assert.Equal(1_682, contents.Items.Count);
        Assert.Equal(943, contents.Users.Count);
        Assert.Equal(100_000, contents.Events.Count);
        Assert.Equal(943, SourceContents.CountDistinct(contents.Events.Select(e => e.Value.UserId)));
        Assert.Equal(contents.Events.Count, SourceContents.CountDistinct(contents.Events.Select(e => e.Value.EventId)));
        Assert.All(contents.Events.GroupBy(e => e.Value.UserId), g => Assert.True(g.Count() >= 20, $"user {g.Key} has {g.Count()} ratings"));
        Assert.Empty(contents.ValidationFailures());
        Assert.False(contents.CatalogAfterEvents);
    }

    [SkippableFact]
    public async Task ReadAsync_HundredThousandRows_MapFieldsAndGenres()
    {
        var source = new MovieLensSource(DatasetTestData.RequireFolder(DatasetCatalog.MovieLens100K));

        var contents = await SourceContents.ReadAsync(source);

        var first = contents.Events[0].Value;
        Assert.Equal("ml100k-196-242", first.EventId);
        Assert.Equal(3.0, first.Value);
        Assert.Equal(881_250_949, first.Timestamp.ToUnixTimeSeconds());
        var toyStory = contents.Items[0].Value;
        Assert.Equal("Movies/Animation", toyStory.Category);
        Assert.Equal("Animation|Children's|Comedy", toyStory.Attributes["genres"]);
        Assert.Equal("01-Jan-1995", toyStory.Attributes["release_date"]);
        var unknown = contents.Items.Single(i => i.Value.Id == "267").Value;
        Assert.Equal("Movies/unknown", unknown.Category);
        Assert.False(unknown.Attributes.ContainsKey("year"));
        var user = contents.Users[0].Value;
        Assert.Equal("24", user.Attributes["age"]);
        Assert.Equal("M", user.Attributes["gender"]);
        Assert.Equal("technician", user.Attributes["occupation"]);
        Assert.Equal("85711", user.Attributes["zip"]);
    }

    [SkippableFact]
    public async Task ReadAsync_HundredThousandTwice_YieldsSameRows()
    {
        var source = new MovieLensSource(DatasetTestData.RequireFolder(DatasetCatalog.MovieLens100K));

        var first = await SourceContents.ReadAsync(source);
        var second = await SourceContents.ReadAsync(source);

        Assert.Equal(first.Digest, second.Digest);
    }

    [SkippableFact]
    public async Task ReadAsync_HundredThousandCopyWithBadRating_ReportsThatLineAndReadsTheRest()
    {
        var real = DatasetTestData.RequireFolder(DatasetCatalog.MovieLens100K);
        using var temp = DatasetTestData.CreateTempFolder();
        foreach (var file in new[] { "u.item", "u.user", "u.genre" })
        {
            File.Copy(Path.Combine(real, file), Path.Combine(temp.Path, file));
        }

        var lines = File.ReadLines(Path.Combine(real, "u.data")).Take(1_000).ToArray();
        var fields = lines[499].Split('\t');
        fields[2] = "five";
        lines[499] = string.Join('\t', fields);
        File.WriteAllLines(Path.Combine(temp.Path, "u.data"), lines);

        var contents = await SourceContents.ReadAsync(new MovieLensSource(temp.Path));

        var error = Assert.Single(contents.Errors);
        Assert.Equal(500, error.Line);
        Assert.Equal("rating", error.Field);
        Assert.Contains("'five'", error.Message, StringComparison.Ordinal);
        Assert.Equal(999, contents.Events.Count);
        Assert.DoesNotContain(contents.Events, e => e.Line == 500);
        Assert.Equal(1_000, contents.Events[^1].Line);
        Assert.Equal(1_682, contents.Items.Count);
    }

    [Fact]
    public async Task ReadAsync_OneMillionLayoutWithBadLines_ReportsEachWithItsColumn()
    {
        using var temp = DatasetTestData.CreateTempFolder();
        temp.Write("movies.dat", "1::Café Society (1995)::Comedy|Drama\nx::Broken::Drama\n2::No Year::\n", Encoding.Latin1);
        temp.Write("users.dat", "1::F::1::10::48067\n2::M::56\n");
        temp.Write("ratings.dat", "1::1::5::978300760\n\n1::2::4::soon\n2::1::9::978300761\n1::2::3::978300762\n");

        var contents = await SourceContents.ReadAsync(new MovieLensSource(temp.Path));

        Assert.Equal(
            ["2:movie_id", "2:(row)", "3:timestamp", "4:rating"],
            contents.Errors.Select(e => $"{e.Line}:{e.Field}"));
        Assert.Equal(["1", "2"], contents.Items.Select(i => i.Value.Id));
        Assert.Equal("Café Society (1995)", contents.Items[0].Value.Title);
        Assert.Equal("Movies", contents.Items[1].Value.Category);
        Assert.False(contents.Items[1].Value.Attributes.ContainsKey("genres"));
        Assert.Single(contents.Users);
        Assert.Equal([1L, 5L], contents.Events.Select(e => e.Line));
    }

    [Fact]
    public void Constructor_FolderWithoutMovieLensFiles_ThrowsFileNotFound()
    {
        using var temp = DatasetTestData.CreateTempFolder();
        temp.Write("readme.txt", "nothing here");

        var ex = Assert.Throws<FileNotFoundException>(() => new MovieLensSource(temp.Path));

        Assert.Contains("u.data", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Toy Story (1995)", "1995")]
    [InlineData("City of Lost Children, The (Cité des enfants perdus, La) (1995) ", "1995")]
    [InlineData("unknown", null)]
    [InlineData("Brazil (1985", null)]
    [InlineData("(1995)", "1995")]
    public void YearOf_Title_ReturnsTrailingYear(string title, string? year) => Assert.Equal(year, MovieLensSource.YearOf(title));
}
