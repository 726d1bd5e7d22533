using Ranking.Domain;
using Ranking.Import.Datasets;
using Xunit.Abstractions;

namespace Ranking.Tests.Datasets;

public sealed class AmazonSportsSourceTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task ReadAsync_SharedCopy_MatchesSourceCounts()
    {
        var source = new AmazonSportsSource(DatasetTestData.RequireFolder(DatasetCatalog.AmazonSports));

        var contents = await SourceContents.ReadAsync(source);

        output.WriteLine($"Amazon Sports: {contents.Events.Count:N0} events read in {contents.Elapsed.TotalMilliseconds:N0} ms");
        Assert.Empty(contents.Errors);
        Assert.Equal(18_357, contents.Items.Count);
        Assert.Equal(35_598, contents.Users.Count);
        Assert.Equal(296_337, contents.Events.Count);
        var itemIds = contents.Items.Select(i => int.Parse(i.Value.Id, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Equal(18_357, itemIds.Count);
        Assert.Equal(1, itemIds.Min());
        Assert.Equal(18_357, itemIds.Max());
        Assert.All(contents.Events, e => Assert.Equal(EventTypeRegistry.Order, e.Value.Type));
        Assert.Equal(contents.Events.Count, SourceContents.CountDistinct(contents.Events.Select(e => e.Value.EventId)));
        Assert.All(contents.Events.GroupBy(e => e.Value.UserId), g => Assert.True(g.Count() >= 5, $"user {g.Key} has {g.Count()} events"));
        Assert.Empty(contents.ValidationFailures());
        Assert.False(contents.CatalogAfterEvents);
    }

    [SkippableFact]
    public async Task ReadAsync_User1_StartsWithItems1To3InOrderOneMinuteApart()
    {
        var source = new AmazonSportsSource(DatasetTestData.RequireFolder(DatasetCatalog.AmazonSports));

        var contents = await SourceContents.ReadAsync(source);

        var user1 = contents.Events.Where(e => e.Value.UserId == "1").ToList();
        Assert.Equal(["1", "2", "3"], user1.Take(3).Select(e => e.Value.ItemId));
        Assert.Equal(["amz-1-1", "amz-1-2", "amz-1-3"], user1.Take(3).Select(e => e.Value.EventId));
        Assert.All(user1, e => Assert.Equal(1, e.Line));
        Assert.Equal(AmazonSportsSource.SyntheticBase.AddMinutes(1), user1[0].Value.Timestamp);
        Assert.Equal(TimeSpan.FromMinutes(1), user1[1].Value.Timestamp - user1[0].Value.Timestamp);
        var item1 = contents.Items.Single(i => i.Value.Id == "1").Value;
        Assert.Equal("Amazon Sports item 1", item1.Title);
        Assert.Equal(AmazonSportsSource.Category, item1.Category);
        Assert.Equal("1 2 3 4 5 6", item1.Attributes["attributes"]);
        Assert.Equal(1, contents.Items[0].Line);
    }

    [SkippableFact]
    public async Task ReadAsync_SharedCopyTwice_YieldsSameRows()
    {
        var source = new AmazonSportsSource(DatasetTestData.RequireFolder(DatasetCatalog.AmazonSports));

        var first = await SourceContents.ReadAsync(source);
        var second = await SourceContents.ReadAsync(source);

        Assert.Equal(first.Digest, second.Digest);
    }

    [Fact]
    public async Task ReadAsync_BadTokenAndBadEntry_ReportedWithLineOrEntry()
    {
        using var temp = DatasetTestData.CreateTempFolder();
        temp.Write(AmazonSportsSource.AttributesFile, """{"1": [1, 2], "x": [3], "2": [4, "brand"], "3": []}""");
        temp.Write(AmazonSportsSource.SequencesFile, "1 1 2 3\n2 1 two 3\n\n3  3 1\n");

        var contents = await SourceContents.ReadAsync(new AmazonSportsSource(temp.Path));

        Assert.Equal(["2:item_id", "3:attributes", "2:item_id"], contents.Errors.Select(e => $"{e.Line}:{e.Field}"));
        Assert.Equal(["1", "3"], contents.Items.Select(i => i.Value.Id));
        Assert.Equal("", contents.Items[1].Value.Attributes["attributes"]);
        Assert.Equal(["1", "3"], contents.Users.Select(u => u.Value.Id));
        Assert.Equal(["amz-1-1", "amz-1-2", "amz-1-3", "amz-3-1", "amz-3-2"], contents.Events.Select(e => e.Value.EventId));
        Assert.Equal(4, contents.Events[^1].Line);
    }
}
