using Ranking.Data;
using Ranking.Domain;

namespace Ranking.Tests.Data;

public sealed class InteractionLogTests
{
    private static readonly EventTypeRegistry Types = EventTypeRegistry.Default;

    private static byte Code(string type) => Types.TryGetCode(type, out var c) ? c : throw new ArgumentException(type);

    [Fact]
    public void Build_RandomEvents_MatchesAStableReferenceSort()
    {
        var random = new Random(1234);
        var builder = new InteractionLogBuilder(Types);
        var rows = new List<(string User, string Item, byte Type, long Ts, int Order)>();
        for (var i = 0; i < 5000; i++)
        {
            // Few distinct timestamps so that ties are common.
            var row = ($"u{random.Next(60)}", $"i{random.Next(300)}", Code(random.Next(3) switch { 0 => "view", 1 => "cart", _ => "order" }), (long)random.Next(20), i);
            rows.Add(row);
            builder.Add(row.Item1, row.Item2, row.Item3, row.Item4);
        }

        var log = builder.Build();
        // LINQ OrderBy is a stable sort: the reference.
        var expected = rows.OrderBy(r => log.TryGetUserIndex(r.User, out var u) ? u : -1).ThenBy(r => r.Ts).ToList();

        Assert.Equal(rows.Count, log.Count);
        for (var k = 0; k < expected.Count; k++)
        {
            Assert.Equal(expected[k].User, log.UserIds[log.User[k]]);
            Assert.Equal(expected[k].Item, log.ItemIds[log.Item[k]]);
            Assert.Equal(expected[k].Ts, log.TimestampMs[k]);
            Assert.Equal(Types.WeightOf(expected[k].Type), log.Weight[k]);
        }

        for (var u = 0; u < log.UserCount; u++)
        {
            var range = log.RowsOf(u);
            for (var r = range.Start.Value; r < range.End.Value; r++)
            {
                Assert.Equal(u, log.User[r]);
            }
        }

        Assert.Equal(log.Count, log.UserOffsets[^1]);
    }

    [Fact]
    public void Build_SearchEventsAndUnknownTypes_ItemIsMinusOneAndUnknownSkipped()
    {
        var builder = new InteractionLogBuilder(Types);
        builder.AddItem(new Item { Id = "i1", Title = "t", Category = "A/B", Price = 5, Brand = "X" });

        builder.Add(new UserEvent { EventId = "1", UserId = "u", Type = "search", Query = "q", Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(10) });
        builder.Add(new UserEvent { EventId = "2", UserId = "u", ItemId = "i1", Type = "teleport", Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(11) });
        builder.Add(new UserEvent { EventId = "3", UserId = "u", ItemId = "i1", Type = "share", Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(12) });
        var log = builder.Build();

        Assert.Equal(2, log.Count);
        Assert.Equal(1, builder.SkippedUnknownTypes);
        Assert.Equal(-1, log.Item[0]);
        Assert.Equal(4f, log.Weight[1]);
        Assert.Equal(1, log.CatalogItemCount);
        Assert.Equal("X", log.Items.Brands[log.Items.BrandIndex[0]]);
        Assert.Equal("A", log.Items.Categories[log.Items.TopCategoryIndex[0]]);
        Assert.Equal("A/B", log.Items.Categories[log.Items.CategoryIndex[0]]);
    }

    [Fact]
    public void Build_Empty_HasNoRowsAndOneOffset()
    {
        var log = new InteractionLogBuilder(Types).Build();

        Assert.Equal(0, log.Count);
        Assert.Equal(0, log.UserCount);
        Assert.Equal([0], log.UserOffsets);
    }
}
