using Ranking.Candidates;
using Ranking.Data;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Fusion;

namespace Ranking.Tests.Fusion;

/// <summary>A small demo marketplace (scale 0.2, about 400 users) as a log, built once for every Fusion test.</summary>
internal static class FusionDemo
{
    private static readonly Lazy<(DemoMarketplace Demo, InteractionLog Log)> Shared = new(() =>
    {
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Scale = 0.2 });
        return (demo, InteractionLog.BuildAsync(demo, EventTypeRegistry.Default).GetAwaiter().GetResult());
    });

    public static DemoMarketplace Demo => Shared.Value.Demo;

    public static InteractionLog Log => Shared.Value.Log;

    /// <summary>The log's rows up to <paramref name="nowMs"/>: what a model trained then would have seen.</summary>
    public static InteractionLog Until(long nowMs)
    {
        var log = Log;
        var keep = new bool[log.Count];
        for (var r = 0; r < keep.Length; r++)
        {
            keep[r] = log.TimestampMs[r] <= nowMs;
        }

        return log.Subset(keep);
    }
}

public sealed class LifelongInterestsTests
{
    private const long Day = 86_400_000;
    private static readonly EventTypeRegistry Types = EventTypeRegistry.Default;
    private static readonly long Jan2024 = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    // A weak prior, so the hand-made seasons (30 orders) are crisp.
    private static readonly LifelongInterestOptions Sharp = new() { SeasonPrior = 2 };

    private static byte Code(string type) => Types.TryGetCode(type, out var c) ? c : throw new ArgumentException(type);

    private static long Ms(int year, int month, int day) => new DateTimeOffset(year, month, day, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>
    /// The hand-made log: a reader viewing a novel on the first of every month of 2024 (so the log covers every month
    /// once); 30 users ordering a snowboard in December, January or February (10 each); three dog owners with purchase
    /// gaps 40 and 60, 90, 35 and 70 days (one extra order two days after another: the same purchase); a cat owner with
    /// a single gap; three grill orders in July (too few for a season).
    /// </summary>
    private static InteractionLog HandLog()
    {
        var builder = new InteractionLogBuilder(Types);
        foreach (var (id, category) in new[]
        {
            ("sb1", "Sports/Winter/Snowboards"), ("sb2", "Sports/Winter/Snowboards"), ("sb3", "Sports/Winter/Snowboards"),
            ("helmet", "Sports/Winter/Helmets"), ("n1", "Books/Fiction/Novels"), ("dogfood", "Pets/Dogs/Dog Food"),
            ("catfood", "Pets/Cats/Cat Food"), ("grill", "Garden/Grilling/Grills"), ("pan", "Home/Kitchen/Cookware"),
        })
        {
            builder.AddItem(new Item { Id = id, Title = id, Category = category, Price = 10 });
        }

        for (var m = 1; m <= 12; m++)
        {
            builder.Add("reader", "n1", Code("view"), Ms(2024, m, 1));
        }

        int[] winterMonths = [12, 1, 2];
        for (var u = 0; u < 30; u++)
        {
            builder.Add($"rider{u}", $"sb{(u % 3) + 1}", Code("order"), Ms(2024, winterMonths[u % 3], 5 + (u % 20)));
        }

        int[][] dogDays = [[0, 40, 42, 100], [0, 90], [0, 35, 105]];
        for (var u = 0; u < dogDays.Length; u++)
        {
            foreach (var d in dogDays[u])
            {
                builder.Add($"dog{u}", "dogfood", Code("order"), Jan2024 + (d * Day));
            }
        }

        builder.Add("cat", "catfood", Code("order"), Jan2024);
        builder.Add("cat", "catfood", Code("order"), Jan2024 + (50 * Day));
        for (var u = 0; u < 3; u++)
        {
            builder.Add($"griller{u}", "grill", Code("order"), Ms(2024, 7, 10 + u));
        }

        return builder.Build();
    }

    private static int Item(InteractionLog log, string id) => log.TryGetItemIndex(id, out var i) ? i : throw new ArgumentException(id);

    private static int Node(LifelongInterestModel model, string name)
    {
        for (var n = 0; n < model.Nodes.Count; n++)
        {
            if (model.Nodes[n] == name)
            {
                return n;
            }
        }

        throw new ArgumentException(name);
    }

    private static UserHistory History(InteractionLog log, params (string Item, string Type, long Ms)[] events)
    {
        var sorted = events.OrderBy(e => e.Ms).ToArray();
        return new UserHistory(
            -1,
            sorted.Select(e => Item(log, e.Item)).ToArray(),
            sorted.Select(e => Types.WeightOf(e.Type)).ToArray(),
            sorted.Select(e => e.Ms).ToArray(),
            sorted.Select(e => Code(e.Type)).ToArray());
    }

    [Fact]
    public void Train_WinterOrders_SeasonPeaksInWinterAndAveragesOne()
    {
        var model = LifelongInterestModel.Train(HandLog(), Sharp);

        var winter = model.SeasonProfile(Node(model, "Sports/Winter")).ToArray();
        Assert.Equal(12, winter.Sum(), 3);
        foreach (var m in new[] { 0, 1, 11 })
        {
            Assert.True(winter[m] > 2.4, $"month {m + 1}: {winter[m]}");
        }

        for (var m = 2; m < 11; m++)
        {
            Assert.True(winter[m] < 0.5, $"month {m + 1}: {winter[m]}");
        }

        // The log covers 1 January to 23 December 2024 (358 days); 30 orders, so 30 · 31 / 358 expected in January and
        // 30 · 30 / 358 in June. January had 10 orders, June none: (10 + 2) / (2 + expected) against 2 / (2 + expected).
        var ratio = (12 / (2 + (30 * 31 / 358.0))) / (2 / (2 + (30 * 30 / 358.0)));
        Assert.Equal(ratio, winter[0] / winter[5], 3);

        // The default prior (10 pseudo-orders a month) flattens the same 30 orders a good deal.
        var smooth = LifelongInterestModel.Train(HandLog()).SeasonProfile(Node(model, "Sports/Winter")).ToArray();
        Assert.InRange(smooth[0] / smooth[5], 1.8, 2.2);

        // Views only, and three orders (fewer than MinOrders): flat.
        Assert.All(model.SeasonProfile(Node(model, "Books/Fiction")).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(model.SeasonProfile(Node(model, "Garden/Grilling")).ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void Train_RepeatOrders_CycleIsMedianGapBetweenPurchases()
    {
        var model = LifelongInterestModel.Train(HandLog());

        // Gaps 40, 60 (the order two days after day 40 is the same purchase), 90, 35, 70: median 60.
        Assert.Equal(60f, model.CycleDays(Node(model, "Pets/Dogs")), 3);

        // One gap is too few: the default.
        Assert.Equal(365f, model.CycleDays(Node(model, "Pets/Cats")));
        Assert.Equal(45f, LifelongInterestModel.Train(HandLog(), new LifelongInterestOptions { MinCycleGaps = 1, DefaultCycleDays = 45 }).CycleDays(Node(model, "Sports/Winter")));
        Assert.Equal(50f, LifelongInterestModel.Train(HandLog(), new LifelongInterestOptions { MinCycleGaps = 1 }).CycleDays(Node(model, "Pets/Cats")));
    }

    [Fact]
    public void Interests_HandHistory_StrengthOrderEvidenceAndLifelong()
    {
        var log = HandLog();
        var model = LifelongInterestModel.Train(log);
        var now = Ms(2025, 6, 1);
        var history = History(
            log,
            ("sb1", "order", now - (400 * Day)),
            ("sb2", "order", now - (390 * Day)),
            ("sb1", "order", now - (380 * Day)),
            ("sb3", "order", now + (5 * Day)),
            ("pan", "order", now - (20 * Day)),
            ("n1", "view", now - (7 * Day)),
            ("n1", "view", now - (6 * Day)),
            ("n1", "view", now - (5 * Day)),
            ("n1", "view", now - (4 * Day)),
            ("dogfood", "cart", now - (10 * Day)));

        var interests = model.Interests(history, now);

        Assert.Equal(["Sports/Winter", "Home/Kitchen", "Books/Fiction", "Pets/Dogs"], interests.Select(i => i.Name));
        var winter = interests[0];
        var decayed = 5 * (Math.Pow(2, -400 / 365.0) + Math.Pow(2, -390 / 365.0) + Math.Pow(2, -380 / 365.0));
        Assert.Equal(decayed / (decayed + 10), winter.Strength, 4);
        Assert.Equal(3, winter.Orders);
        Assert.Equal(3, winter.Events);
        Assert.Equal([Item(log, "sb1"), Item(log, "sb2")], winter.EvidenceItems);
        Assert.Equal(now - (400 * Day), winter.FirstMs);
        Assert.Equal(now - (380 * Day), winter.LastOrderMs);
        Assert.True(winter.IsLifelong);

        var kitchen = interests[1];
        Assert.Equal(1, kitchen.Orders);
        Assert.False(kitchen.IsLifelong);
        Assert.Equal([Item(log, "pan")], kitchen.EvidenceItems);

        var books = interests[2];
        Assert.Equal((0, 4, (long?)null, false), (books.Orders, books.Events, books.LastOrderMs, books.IsLifelong));
        Assert.Empty(books.EvidenceItems);
        Assert.Equal(0, interests[3].Orders);
        Assert.All(interests, i => Assert.InRange(i.Due, 0f, 1f));
        Assert.Empty(model.Interests(UserHistory.Unknown, now));
    }

    [Fact]
    public void Interests_WinterInterest_IsMoreDueInNovemberThanInJune()
    {
        var log = HandLog();
        var model = LifelongInterestModel.Train(log, Sharp);
        var november = Ms(2025, 11, 1);
        var june = Ms(2025, 6, 1);

        // The same time since the last order (a year: past the default cycle), so only the season differs.
        float DueOf(string item, string node, long now) =>
            model.Interests(History(log, (item, "order", now - (365 * Day))), now).Single(i => i.Name == node).Due;

        var winterNovember = DueOf("sb1", "Sports/Winter", november);
        var winterJune = DueOf("sb1", "Sports/Winter", june);
        Assert.True(winterNovember > 2.5 * winterJune, $"November {winterNovember}, June {winterJune}");
        Assert.InRange(winterNovember, 0.35f, 0.55f);

        // A flat node is as due in June as in November.
        Assert.Equal(DueOf("catfood", "Pets/Cats", november), DueOf("catfood", "Pets/Cats", june), 4);

        // Half-way through the cycle is half as due.
        var recent = model.Interests(History(log, ("catfood", "order", november - (182 * Day))), november).Single();
        Assert.Equal(182 / 365f, recent.Due, 2);
    }

    [Fact]
    public void Revive_DemoWinterRiders_RevivesWinterGearBeforeWinterNotInJune()
    {
        var october = new DateTimeOffset(2026, 10, 25, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var june = new DateTimeOffset(2026, 6, 15, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var log = FusionDemo.Log;
        var winter = WinterItems(log);
        var orderCode = Code("order");

        // Riders: a winter-sports order at least 200 days before late October (that is, last winter).
        var riders = new List<int>();
        for (var u = 0; u < log.UserCount; u++)
        {
            for (var r = log.UserOffsets[u]; r < log.UserOffsets[u + 1]; r++)
            {
                if (log.Type[r] == orderCode && winter[log.Item[r]] && log.TimestampMs[r] <= october - (200 * Day))
                {
                    riders.Add(u);
                    break;
                }
            }
        }

        var (octoberShare, octoberCount, popularShare) = WinterShare(october, riders, winter);
        var (juneShare, juneCount, _) = WinterShare(june, riders, winter);

        // Measured at scale 0.2: 67 riders; winter share 0.68 in October, 0.02 in June, 0.10 among the 20 bestsellers.
        Assert.True(riders.Count >= 20, $"{riders.Count} riders");
        Assert.True(octoberCount >= 10 * riders.Count, $"{octoberCount} candidates for {riders.Count} riders");
        Assert.True(octoberShare >= 0.55, $"winter share in October {octoberShare:0.00}");
        Assert.True(octoberShare >= 3 * juneShare, $"October {octoberShare:0.00}, June {juneShare:0.00} ({juneCount} candidates)");
        Assert.True(octoberShare >= 3 * popularShare, $"October {octoberShare:0.00}, popular {popularShare:0.00}");
    }

    private static (double Share, int Count, double PopularShare) WinterShare(long now, List<int> users, bool[] winter)
    {
        var log = FusionDemo.Until(now);
        var reference = DateTimeOffset.FromUnixTimeMilliseconds(now);
        var popularity = PopularityModel.Train(log, new PopularityOptions { ReferenceTime = reference });
        var complements = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Complements });
        var model = LifelongInterestModel.Train(log, new LifelongInterestOptions { ReferenceTime = reference });
        int hits = 0, count = 0;
        foreach (var u in users)
        {
            var history = UserHistory.Of(log, u);
            var revived = model.Revive(history, now, complements, popularity, 20);
            Assert.Equal(revived.Count, revived.Select(c => c.Item).Distinct().Count());
            foreach (var c in revived)
            {
                // The anchor is an item she ordered in the revived interest.
                Assert.Equal(c.Interest, model.NodeOf(c.AnchorItem));
                Assert.True(c.AnchorMs > 0 && c.AnchorMs <= now);
                Assert.True(log.Items.InStock[c.Item]);
            }

            hits += revived.Count(c => winter[c.Item]);
            count += revived.Count;
        }

        var top = popularity.TopK(UserHistory.Unknown, 20);
        return (count == 0 ? 0 : hits / (double)count, count, top.Count(s => winter[s.Item]) / (double)top.Count);
    }

    private static bool[] WinterItems(InteractionLog log)
    {
        var winter = new bool[log.ItemCount];
        for (var i = 0; i < winter.Length; i++)
        {
            var c = log.Items.CategoryIndex[i];
            winter[i] = c >= 0 && log.Items.Categories[c].StartsWith("Sports/Winter/", StringComparison.Ordinal);
        }

        return winter;
    }

    [Fact]
    public void Revive_Exclude_IsHonoured()
    {
        var now = new DateTimeOffset(2026, 10, 25, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var log = FusionDemo.Until(now);
        var popularity = PopularityModel.Train(log);
        var complements = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Complements });
        var model = LifelongInterestModel.Train(log);
        var checkedUsers = 0;
        for (var u = 0; u < log.UserCount && checkedUsers < 20; u++)
        {
            var history = UserHistory.Of(log, u);
            var full = model.Revive(history, now, complements, popularity, 10);
            if (full.Count < 4)
            {
                continue;
            }

            checkedUsers++;
            int[] exclude = [full[0].Item, full[2].Item];
            var rest = model.Revive(history, now, complements, popularity, 10, exclude);
            Assert.DoesNotContain(rest, c => exclude.Contains(c.Item));
            Assert.Equal(full[1], rest[0]);
        }

        Assert.Equal(20, checkedUsers);
    }

    [Fact]
    public void SaveLoad_RoundTrip_GivesIdenticalOutput()
    {
        var log = FusionDemo.Log;
        var now = new DateTimeOffset(2026, 10, 25, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var popularity = PopularityModel.Train(log);
        var complements = CoOccurrenceModel.Train(log, new CoOccurrenceOptions { Kind = CoOccurrenceKind.Complements });
        var model = LifelongInterestModel.Train(log);
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        var loaded = LifelongInterestModel.Load(stream);

        Assert.Equal(model.Nodes, loaded.Nodes);
        Assert.Equal(model.ReferenceTimeMs, loaded.ReferenceTimeMs);
        for (var n = 0; n < model.Nodes.Count; n++)
        {
            Assert.Equal(model.SeasonProfile(n).ToArray(), loaded.SeasonProfile(n).ToArray());
            Assert.Equal(model.CycleDays(n), loaded.CycleDays(n));
        }

        var revivedAny = 0;
        for (var u = 0; u < log.UserCount; u += 3)
        {
            var history = UserHistory.Of(log, u);
            var expected = model.Interests(history, now);
            var actual = loaded.Interests(history, now);
            Assert.Equal(expected.Count, actual.Count);
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i] with { EvidenceItems = [] }, actual[i] with { EvidenceItems = [] });
                Assert.Equal(expected[i].EvidenceItems, actual[i].EvidenceItems);
            }

            var revived = model.Revive(history, now, complements, popularity, 20);
            revivedAny += revived.Count > 0 ? 1 : 0;
            Assert.Equal(revived, loaded.Revive(history, now, complements, popularity, 20));
        }

        Assert.True(revivedAny > 10, $"{revivedAny} users revived anything");
    }

    [Fact]
    public void Load_TruncatedOrForeign_ThrowsInvalidData()
    {
        var model = LifelongInterestModel.Train(HandLog());
        using var stream = new MemoryStream();
        model.Save(stream);
        var bytes = stream.ToArray();
        foreach (var length in new[] { 3, 20, bytes.Length / 2, bytes.Length - 1 })
        {
            Assert.Throws<InvalidDataException>(() => LifelongInterestModel.Load(new MemoryStream(bytes[..length])));
        }

        using var foreign = new MemoryStream();
        PopularityModel.Train(HandLog()).Save(foreign);
        foreign.Position = 0;
        Assert.Throws<InvalidDataException>(() => LifelongInterestModel.Load(foreign));
    }
}
