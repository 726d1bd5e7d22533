using Ranking.Domain;
using Ranking.Import.Datasets;
using Xunit.Abstractions;

namespace Ranking.Tests.Datasets;

public sealed class Rees46SourceTests(ITestOutputHelper output)
{
    private const string Header = "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n";

    [SkippableFact]
    public async Task ReadAsync_SharedSample_MatchesSourceCounts()
    {
        var source = new Rees46Source(DatasetTestData.RequireFolder(DatasetCatalog.Rees46));

        var contents = await SourceContents.ReadAsync(source);

        output.WriteLine($"REES46: {contents.Events.Count:N0} events read in {contents.Elapsed.TotalMilliseconds:N0} ms");
        Assert.Empty(contents.Errors);
        Assert.Equal(6_492, contents.Items.Count);
        Assert.Equal(4_504, contents.Users.Count);
        Assert.Equal(17_433, contents.Events.Count);
        Assert.Equal(17_054, contents.Events.Count(e => e.Value.Type == EventTypeRegistry.View));
        Assert.Equal(165, contents.Events.Count(e => e.Value.Type == EventTypeRegistry.Cart));
        Assert.Equal(214, contents.Events.Count(e => e.Value.Type == EventTypeRegistry.Order));
        Assert.All(contents.Events.Where(e => e.Value.Type == EventTypeRegistry.Order), e => Assert.Equal(1, e.Value.Quantity));
        Assert.Equal(5_066, SourceContents.CountDistinct(contents.Events.Select(e => e.Value.SessionId)));
        Assert.Equal(434, SourceContents.CountDistinct(contents.Items.Select(i => i.Value.Attributes["category_id"])));
        Assert.Equal(864, SourceContents.CountDistinct(contents.Items.Where(i => i.Value.Brand is not null).Select(i => i.Value.Brand)));
        Assert.Equal(contents.Items.Count, SourceContents.CountDistinct(contents.Items.Select(i => i.Value.Id)));
        Assert.Equal(contents.Users.Count, SourceContents.CountDistinct(contents.Users.Select(u => u.Value.Id)));
        Assert.Empty(contents.ValidationFailures());
        Assert.False(contents.CatalogAfterEvents);
    }

    [SkippableFact]
    public async Task ReadAsync_SharedSample_KeepsOddities()
    {
        var source = new Rees46Source(DatasetTestData.RequireFolder(DatasetCatalog.Rees46));

        var contents = await SourceContents.ReadAsync(source);

        var categoryOf = contents.Items.ToDictionary(i => i.Value.Id, i => i.Value.Category);
        // 5,745 rows have no category_code: their items fall back to category-{category_id}.
        Assert.Equal(5_745, contents.Events.Count(e => categoryOf[e.Value.ItemId!].StartsWith("category-", StringComparison.Ordinal)));
        // 19 rows have price 0.00: the events keep a null price; 14 products never had a positive one.
        Assert.Equal(19, contents.Events.Count(e => e.Value.Price is null));
        Assert.Equal(14, contents.Items.Count(i => i.Value.Price is null));
        // 5 exact duplicate rows stay separate events (their ids are line-based).
        var distinctContent = SourceContents.CountDistinct(contents.Events.Select(e => e.Value with { EventId = "" }));
        Assert.Equal(5, contents.Events.Count - distinctContent);
        Assert.Equal(contents.Events.Count, SourceContents.CountDistinct(contents.Events.Select(e => e.Value.EventId)));
        Assert.All(contents.Events, e => Assert.Equal($"rees46-{e.Line}", e.Value.EventId));
        Assert.All(contents.Events, e => Assert.InRange(e.Value.Timestamp, Utc(2019, 10, 1, 0, 0, 0), Utc(2019, 10, 1, 2, 50, 0)));
    }

    [SkippableFact]
    public async Task ReadAsync_SharedSampleFirstRow_IsShiseidoAt35_79()
    {
        var source = new Rees46Source(DatasetTestData.RequireFolder(DatasetCatalog.Rees46));

        var contents = await SourceContents.ReadAsync(source);

        var (line, first) = contents.Events[0];
        Assert.Equal(2, line);
        Assert.Equal("rees46-2", first.EventId);
        Assert.Equal(EventTypeRegistry.View, first.Type);
        Assert.Equal("44600062", first.ItemId);
        Assert.Equal("541312140", first.UserId);
        Assert.Equal("72d76fde-8bb3-4e00-8c23-a032dfed738c", first.SessionId);
        Assert.Equal(35.79, first.Price);
        Assert.Null(first.Quantity);
        Assert.Null(first.Surface);
        Assert.Equal(Utc(2019, 10, 1, 0, 0, 0), first.Timestamp);
        Assert.Equal(TimeSpan.Zero, first.Timestamp.Offset);
        var item = contents.Items[0];
        Assert.Equal(2, item.Line);
        Assert.Equal("44600062", item.Value.Id);
        Assert.Equal("shiseido", item.Value.Brand);
        Assert.Equal(35.79, item.Value.Price);
        Assert.Equal("category-2103807459595387724", item.Value.Category);
        Assert.Equal("2103807459595387724", item.Value.Attributes["category_id"]);
        Assert.Equal("shiseido product 44600062", item.Value.Title);
        var second = contents.Items[1].Value;
        Assert.Equal("appliances/environment/water_heater", second.Category);
        Assert.Equal("aqua water heater 3900821", second.Title);
    }

    [SkippableFact]
    public async Task ReadAsync_SharedSampleTwice_YieldsSameRows()
    {
        var source = new Rees46Source(DatasetTestData.RequireFolder(DatasetCatalog.Rees46));

        var first = await SourceContents.ReadAsync(source);
        var second = await SourceContents.ReadAsync(source);

        Assert.Equal(first.Digest, second.Digest);
    }

    [Fact]
    public async Task ReadAsync_BadRows_ReportsThemAndReadsTheRest()
    {
        using var temp = DatasetTestData.CreateTempFolder();
        temp.Write(Rees46Source.FileName, Header
            + "2019-10-01 00:00:00 UTC,view,1,10,electronics.smartphone,apple,0.00,100,s1\r\n"
            + "2019-10-01 00:00:01 UTC,cart,1,10,electronics.smartphone,apple,abc,100,s1\r\n"
            + "yesterday,view,2,20,,,5.00,101,s2\r\n"
            + "2019-10-01 00:00:03 UTC,purchase,1,10,electronics.smartphone,apple,999.50,100,s1\r\n"
            + "2019-10-01 00:00:04 UTC,view,3,30\r\n"
            + "2019-10-01 00:00:05 UTC,remove_from_cart,1,10,electronics.smartphone,apple,999.50,100,s1\r\n");

        var contents = await SourceContents.ReadAsync(new Rees46Source(temp.Path));

        Assert.Equal(["3:price", "4:event_time", "6:(row)"], contents.Errors.Select(e => $"{e.Line}:{e.Field}"));
        var item = Assert.Single(contents.Items);
        Assert.Equal(999.50, item.Value.Price);
        Assert.Equal("apple smartphone 1", item.Value.Title);
        Assert.Single(contents.Users);
        Assert.Equal(["rees46-2", "rees46-5", "rees46-7"], contents.Events.Select(e => e.Value.EventId));
        Assert.Null(contents.Events[0].Value.Price);
        Assert.Equal(EventTypeRegistry.Order, contents.Events[1].Value.Type);
        Assert.Equal("remove_from_cart", contents.Events[2].Value.Type);
    }

    [Fact]
    public async Task ReadAsync_HeaderWithoutPrice_ReportsTheColumnOnly()
    {
        using var temp = DatasetTestData.CreateTempFolder();
        temp.Write(Rees46Source.FileName, "event_time,event_type,product_id,category_id,category_code,brand,user_id,user_session\n"
            + "2019-10-01 00:00:00 UTC,view,1,10,,,100,s1\n");

        var contents = await SourceContents.ReadAsync(new Rees46Source(temp.Path));

        var error = Assert.Single(contents.Errors);
        Assert.Equal((1L, "price"), (error.Line, error.Field));
        Assert.Empty(contents.Events);
        Assert.Empty(contents.Items);
    }

    private static DateTimeOffset Utc(int y, int mo, int d, int h, int mi, int s) => new(y, mo, d, h, mi, s, TimeSpan.Zero);
}
