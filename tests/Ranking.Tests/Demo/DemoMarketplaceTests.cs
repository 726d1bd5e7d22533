using System.Text.Json;
using Ranking.Demo;
using Ranking.Domain;
using Ranking.Import;

namespace Ranking.Tests.Demo;

/// <summary>The default-size demo marketplace, generated once for the tests that read the whole world.</summary>
public sealed class DefaultDemoFixture
{
    public DefaultDemoFixture()
    {
        Demo = new DemoMarketplace();
        Records = DemoRecords.Collect(Demo.ReadChunks());
        ItemIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < Demo.Items.Count; i++)
        {
            ItemIndex[Demo.Items[i].Id] = i;
        }
    }

    public DemoMarketplace Demo { get; }

    public DemoRecords Records { get; }

    public Dictionary<string, int> ItemIndex { get; }

    public string CategoryOf(string itemId) => Demo.Items[ItemIndex[itemId]].Category;
}

/// <summary>Every record of a source, by kind, in the order it was yielded.</summary>
public sealed class DemoRecords
{
    public List<CrmCampaign> Campaigns { get; } = [];

    public List<Experiment> Experiments { get; } = [];

    public List<Item> Items { get; } = [];

    public List<User> Users { get; } = [];

    public List<UserEvent> Events { get; } = [];

    public List<CrmSend> Sends { get; } = [];

    public List<CrmOutcome> Outcomes { get; } = [];

    public List<Exposure> Exposures { get; } = [];

    public List<int> ChunkSizes { get; } = [];

    public static DemoRecords Collect(IEnumerable<ImportChunk> chunks)
    {
        var records = new DemoRecords();
        foreach (var chunk in chunks)
        {
            records.Add(chunk);
        }

        return records;
    }

    public void Add(ImportChunk chunk)
    {
        Campaigns.AddRange(chunk.Campaigns);
        Experiments.AddRange(chunk.Experiments);
        Items.AddRange(chunk.Items.Select(r => r.Value));
        Users.AddRange(chunk.Users.Select(r => r.Value));
        Events.AddRange(chunk.Events.Select(r => r.Value));
        Sends.AddRange(chunk.Sends.Select(r => r.Value));
        Outcomes.AddRange(chunk.Outcomes.Select(r => r.Value));
        Exposures.AddRange(chunk.Exposures.Select(r => r.Value));
        ChunkSizes.Add(chunk.RecordCount);
    }

    /// <summary>Every record as JSON, so that records holding dictionaries compare by content.</summary>
    public IEnumerable<string> AsJson()
    {
        foreach (var list in new System.Collections.IEnumerable[] { Campaigns, Experiments, Items, Users, Events, Sends, Outcomes, Exposures })
        {
            foreach (var record in list)
            {
                yield return JsonSerializer.Serialize(record, record.GetType());
            }
        }
    }
}

public sealed class DemoMarketplaceTests(DefaultDemoFixture fixture) : IClassFixture<DefaultDemoFixture>
{
    private static readonly DemoMarketplaceOptions Small = new() { Scale = 0.1 };

    private DemoMarketplace Demo => fixture.Demo;

    private DemoRecords Records => fixture.Records;

    [Fact]
    public void ReadChunks_SameSeedTwice_YieldsIdenticalRecords()
    {
        var first = DemoRecords.Collect(new DemoMarketplace(Small).ReadChunks()).AsJson().ToList();
        var second = DemoRecords.Collect(new DemoMarketplace(Small).ReadChunks()).AsJson().ToList();

        Assert.True(first.Count > 10_000);
        Assert.Equal(first, second);
    }

    [Fact]
    public void ReadChunks_DifferentSeed_YieldsDifferentRecords()
    {
        var first = DemoRecords.Collect(new DemoMarketplace(Small).ReadChunks());
        var second = DemoRecords.Collect(new DemoMarketplace(Small with { Seed = 7 }).ReadChunks());

        Assert.NotEqual(first.Items.Select(i => i.Title), second.Items.Select(i => i.Title));
        Assert.NotEqual(first.Events.Select(e => (e.UserId, e.ItemId, e.Timestamp)), second.Events.Select(e => (e.UserId, e.ItemId, e.Timestamp)));
    }

    [Fact]
    public async Task ReadAsync_CalledTwiceOnOneInstance_YieldsTheSameChunks()
    {
        var demo = new DemoMarketplace(Small);
        var first = new DemoRecords();
        await foreach (var chunk in demo.ReadAsync())
        {
            first.Add(chunk);
        }

        var second = new DemoRecords();
        await foreach (var chunk in demo.ReadAsync())
        {
            second.Add(chunk);
        }

        Assert.Equal("demo", demo.Name);
        Assert.Equal(first.ChunkSizes, second.ChunkSizes);
        Assert.Equal(first.AsJson(), second.AsJson());
    }

    [Fact]
    public void ReadChunks_DefaultOptions_YieldsChunksOfAboutTenThousandInTheDocumentedOrder()
    {
        Assert.All(Records.ChunkSizes, size => Assert.InRange(size, 1, 10_000));
        Assert.Equal(Records.ChunkSizes.Count, (int)Math.Ceiling(Records.ChunkSizes.Sum() / 10_000.0));
        Assert.Single(Records.Campaigns);
        Assert.Single(Records.Experiments);

        // The catalog and users come before the events that name them (a chunk holding both is written items first).
        var firstEventChunk = -1;
        var lastItemChunk = -1;
        var index = 0;
        foreach (var chunk in Demo.ReadChunks())
        {
            if (chunk.Items.Count > 0)
            {
                lastItemChunk = index;
            }

            if (chunk.Events.Count > 0 && firstEventChunk < 0)
            {
                firstEventChunk = index;
            }

            index++;
        }

        Assert.True(lastItemChunk <= firstEventChunk);
    }

    [Fact]
    public void ReadChunks_DefaultOptions_EventCountWithinTarget()
    {
        Assert.Equal(3000, Records.Items.Count);
        Assert.Equal(2000, Records.Users.Count);
        Assert.InRange(Records.Events.Count, 250_000, 600_000);
    }

    [Fact]
    public void Validate_NonPositiveOrTooShortOptions_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new DemoMarketplace(new DemoMarketplaceOptions { Users = 0 }));
        Assert.Throws<ArgumentException>(() => new DemoMarketplace(new DemoMarketplaceOptions { Items = -1 }));
        Assert.Throws<ArgumentException>(() => new DemoMarketplace(new DemoMarketplaceOptions { Days = 0 }));
        Assert.Throws<ArgumentException>(() => new DemoMarketplace(new DemoMarketplaceOptions { Days = 30 }));
        Assert.Throws<ArgumentException>(() => new DemoMarketplace(new DemoMarketplaceOptions { Scale = 0 }));
        Assert.Throws<ArgumentException>(() => new DemoMarketplace(new DemoMarketplaceOptions { Scale = double.NaN }));
        Assert.Throws<ArgumentException>(() => new DemoMarketplace(new DemoMarketplaceOptions { ChunkSize = 0 }));
    }

    [Fact]
    public void Options_Scale_MultipliesUsersAndItems()
    {
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Users = 100, Items = 200, Scale = 2.5 });

        Assert.Equal(250, demo.Users.Count);
        Assert.Equal(500, demo.Items.Count);
    }

    [Fact]
    public void Tree_Default_HasEnoughTopLevelCategoriesAndLeaves()
    {
        var tree = CategoryTree.Default;

        Assert.True(tree.TopLevel.Count >= 8);
        Assert.True(tree.Leaves.Count >= 60);
        Assert.Contains("Sports/Winter/Snowboards", tree.Leaves.Select(l => l.Path));
        Assert.Contains("Sports/Winter/Snowboard Boots", tree["Sports/Winter/Snowboards"].Complements);
        Assert.Contains("Electronics/Cameras/Memory Cards", tree["Electronics/Cameras/Cameras"].Complements);
        Assert.Contains("Garden/Grilling/Grill Tools", tree["Garden/Grilling/Grills"].Complements);
        Assert.All(tree.Leaves, l => Assert.Equal(3, l.Path.Split('/').Length));
    }

    [Fact]
    public void Items_Category_IsALeafOfTheTree()
    {
        Assert.All(Records.Items, item => Assert.True(Demo.Tree.IsLeaf(item.Category), item.Category));

        // Every leaf has stock at the default size.
        Assert.Equal(Demo.Tree.Leaves.Count, Records.Items.Select(i => i.Category).Distinct().Count());
    }

    [Fact]
    public void Items_Defaults_HaveDocumentedIdsTitlesAndShares()
    {
        Assert.Equal("item-000123", Records.Items[123].Id);
        Assert.Equal("user-00042", Records.Users[42].Id);
        Assert.All(Records.Items, i => Assert.StartsWith(i.Brand!, i.Title, StringComparison.Ordinal));
        Assert.All(Records.Items, i => Assert.Contains(Demo.Tree[i.Category].Noun, i.Title, StringComparison.Ordinal));
        Assert.All(Records.Items, i => Assert.True(i.Attributes.ContainsKey("colour") && i.Attributes.ContainsKey("material")));

        var outOfStock = Records.Items.Count(i => !i.InStock) / (double)Records.Items.Count;
        var unknownCost = Records.Items.Count(i => i.Cost is null) / (double)Records.Items.Count;
        Assert.InRange(outOfStock, 0.03, 0.07);
        Assert.InRange(unknownCost, 0.01, 0.05);
    }

    [Fact]
    public void Brands_AllThreeTiers_ExistAndNewBrandItemsAreRecent()
    {
        var tiers = Records.Items.Select((_, i) => Demo.BrandOf(i).Tier).Distinct().ToList();
        Assert.Contains(BrandTier.Premium, tiers);
        Assert.Contains(BrandTier.Mass, tiers);
        Assert.Contains(BrandTier.NewToMarket, tiers);

        var recent = Demo.Options.EndDate.AddDays(-60);
        var newItems = Enumerable.Range(0, Records.Items.Count).Where(i => Demo.BrandOf(i).Tier == BrandTier.NewToMarket).ToList();
        Assert.True(newItems.Count > 50);
        Assert.All(newItems, i => Assert.True(Records.Items[i].CreatedAt >= recent));

        // Most of the other items existed before the last 60 days.
        var older = Enumerable.Range(0, Records.Items.Count).Where(i => Demo.BrandOf(i).Tier != BrandTier.NewToMarket);
        Assert.True(older.Count(i => Records.Items[i].CreatedAt < recent) > 0.9 * older.Count());
    }

    [Fact]
    public void Records_All_PassRecordValidator()
    {
        var validator = new RecordValidator(EventTypeRegistry.Default, new FixedClock(Demo.Options.EndDate.AddDays(1)));
        var errors = new List<FieldError>();
        foreach (var item in Records.Items)
        {
            validator.Validate(item, errors);
        }

        foreach (var user in Records.Users)
        {
            validator.Validate(user, errors);
        }

        foreach (var e in Records.Events)
        {
            validator.Validate(e, errors);
        }

        foreach (var send in Records.Sends)
        {
            validator.Validate(send, errors);
        }

        foreach (var outcome in Records.Outcomes)
        {
            validator.Validate(outcome, errors);
        }

        Assert.Empty(errors);
        Assert.All(Records.Events, e => Assert.True(e.Timestamp < Demo.Options.EndDate));
        Assert.Equal(Records.Events.Count, Records.Events.Select(e => e.EventId).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Events_ItemIds_AllExistInTheCatalogAndExistedAtTheTime()
    {
        foreach (var e in Records.Events)
        {
            if (e.ItemId is null)
            {
                Assert.Equal(EventTypeRegistry.Search, e.Type);
                continue;
            }

            Assert.True(fixture.ItemIndex.TryGetValue(e.ItemId, out var index), e.ItemId);
            Assert.True(Records.Items[index].CreatedAt <= e.Timestamp, $"{e.EventId} sees {e.ItemId} before it existed");
            if (e.ContextItemId is not null)
            {
                Assert.True(fixture.ItemIndex.ContainsKey(e.ContextItemId));
            }
        }
    }

    [Fact]
    public void Events_PerUser_AreEmittedTogetherInNonDecreasingTime()
    {
        var finished = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;
        var last = DateTimeOffset.MinValue;
        foreach (var e in Records.Events)
        {
            if (e.UserId != current)
            {
                Assert.True(current is null || finished.Add(current));
                Assert.DoesNotContain(e.UserId, finished);
                current = e.UserId;
                last = DateTimeOffset.MinValue;
            }

            Assert.True(e.Timestamp >= last, $"{e.EventId} goes back in time");
            Assert.NotNull(e.SessionId);
            last = e.Timestamp;
        }
    }

    [Fact]
    public void Events_Funnel_WithinDocumentedRanges()
    {
        var counts = Records.Events.GroupBy(e => e.Type).ToDictionary(g => g.Key, g => (double)g.Count());

        Assert.InRange(counts["cart"] / counts["view"], 0.08, 0.12);
        Assert.InRange(counts["order"] / counts["cart"], 0.30, 0.50);
        Assert.InRange(counts["share"] / counts["view"], 0.01, 0.02);
        Assert.True(counts["search"] > 0.05 * counts["view"]);
        Assert.All(Records.Events.Where(e => e.Type is "cart" or "order"), e =>
            Assert.Equal(Records.Items[fixture.ItemIndex[e.ItemId!]].Price, e.Price));
        Assert.All(Records.Events.Where(e => e.Type == "search"), e =>
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Query));
            Assert.Equal("search", e.Surface);
        });
        Assert.Equal(
            ["analogs", "complements", "crm", "home", "search"],
            Records.Events.Select(e => e.Surface!).Distinct().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Events_SearchResultViews_MatchTheQuery()
    {
        var searchViews = Records.Events.Where(e => e.Type == "view" && e.Surface == "search").ToList();
        Assert.True(searchViews.Count > 1000);
        foreach (var view in searchViews)
        {
            Assert.NotNull(view.Query);
            var leaf = Demo.Tree[fixture.CategoryOf(view.ItemId!)];
            var query = view.Query!;
            Assert.True(
                query.Contains(leaf.Noun, StringComparison.OrdinalIgnoreCase) || query.Equals(leaf.Name, StringComparison.OrdinalIgnoreCase),
                $"'{query}' found {leaf.Path}");
        }

        // A search is followed, in the same session, by views with that query.
        var bySession = Records.Events.GroupBy(e => e.SessionId!).ToList();
        var searches = 0;
        var followed = 0;
        foreach (var session in bySession)
        {
            var list = session.ToList();
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i].Type != "search")
                {
                    continue;
                }

                searches++;
                if (list.Skip(i + 1).Any(e => e.Type == "view" && e.Query == list[i].Query))
                {
                    followed++;
                }
            }
        }

        Assert.True(followed > 0.9 * searches, $"{followed} of {searches} searches followed by a result view");
    }

    [Fact]
    public void Events_WinterSports_PeakDecemberToFebruary()
    {
        var peak = 0;
        var summer = 0;
        foreach (var e in Records.Events)
        {
            if (e.Type != "view" || !fixture.CategoryOf(e.ItemId!).StartsWith("Sports/Winter/", StringComparison.Ordinal))
            {
                continue;
            }

            var month = e.Timestamp.Month;
            peak += month is 12 or 1 or 2 ? 1 : 0;
            summer += month is 6 or 7 or 8 ? 1 : 0;
        }

        Assert.True(summer > 0);
        Assert.True(peak > 4 * summer, $"Dec-Feb {peak} vs Jun-Aug {summer}");
    }

    [Fact]
    public void Events_WinterHobby_RecursInDifferentWinters()
    {
        // 800 days hold two full winters (Dec-Feb).
        var demo = new DemoMarketplace(new DemoMarketplaceOptions { Users = 400, Items = 600, Days = 800 });
        var records = DemoRecords.Collect(demo.ReadChunks());
        var categories = records.Items.ToDictionary(i => i.Id, i => i.Category, StringComparer.Ordinal);
        var winters = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        foreach (var e in records.Events)
        {
            if (e.ItemId is null || e.Timestamp.Month is > 2 and < 12 || !categories[e.ItemId].StartsWith("Sports/Winter/", StringComparison.Ordinal))
            {
                continue;
            }

            var winter = e.Timestamp.Month == 12 ? e.Timestamp.Year : e.Timestamp.Year - 1;
            if (!winters.TryGetValue(e.UserId, out var set))
            {
                winters[e.UserId] = set = [];
            }

            set.Add(winter);
        }

        var fans = demo.Profiles.Where(p => p.HasInterestIn("Sports/Winter")).Select(p => p.UserId).ToList();
        var others = demo.Profiles.Where(p => !p.HasInterestIn("Sports/Winter")).Select(p => p.UserId).ToList();
        var fansTwice = fans.Count(u => winters.TryGetValue(u, out var s) && s.Count >= 2) / (double)fans.Count;
        var othersTwice = others.Count(u => winters.TryGetValue(u, out var s) && s.Count >= 2) / (double)others.Count;

        Assert.True(fans.Count > 40);
        Assert.True(fansTwice >= 0.4, $"{fansTwice:P0} of winter fans came back");
        Assert.True(fansTwice > 3 * othersTwice, $"fans {fansTwice:P0}, others {othersTwice:P0}");
    }

    [Fact]
    public void Events_SnowboardOrder_RaisesBootOrdersWithinSixtyDays()
    {
        const string board = "Sports/Winter/Snowboards", boots = "Sports/Winter/Snowboard Boots";
        var orders = Records.Events.Where(e => e.Type == "order").ToList();
        var bootOrders = orders.Where(e => fixture.CategoryOf(e.ItemId!) == boots).ToLookup(e => e.UserId, e => e.Timestamp);
        var boardOrders = orders.Where(e => fixture.CategoryOf(e.ItemId!) == board && e.Timestamp.AddDays(60) <= Demo.Options.EndDate).ToList();

        var followed = boardOrders.Count(o => bootOrders[o.UserId].Any(t => t > o.Timestamp && t <= o.Timestamp.AddDays(60)));
        var conditional = followed / (double)boardOrders.Count;

        // The base rate over the whole history bounds the rate of any 60-day window from above.
        var baseRate = bootOrders.Count / (double)Records.Users.Count;

        Assert.True(boardOrders.Count >= 30);
        Assert.True(conditional > 3 * baseRate, $"P(boots | snowboard) {conditional:0.000} vs base {baseRate:0.000}");

        // Complement views carry the anchor as context.
        Assert.Contains(Records.Events, e => e.Surface == "complements" && e.ContextItemId is not null
            && fixture.CategoryOf(e.ContextItemId) == board && fixture.CategoryOf(e.ItemId!) == boots);
    }

    [Fact]
    public void Items_Margins_DifferByCategoryAndBrandTier()
    {
        static double MarginShare(Item i) => (i.Price!.Value - i.Cost!.Value) / i.Price.Value;
        var known = Enumerable.Range(0, Records.Items.Count).Where(i => Records.Items[i].Cost is not null).ToList();

        var laptops = known.Where(i => Records.Items[i].Category == "Electronics/Computers/Laptops").Average(i => MarginShare(Records.Items[i]));
        var cases = known.Where(i => Records.Items[i].Category == "Electronics/Phones/Phone Cases").Average(i => MarginShare(Records.Items[i]));
        var premium = known.Where(i => Demo.BrandOf(i).Tier == BrandTier.Premium).Average(i => MarginShare(Records.Items[i]));
        var mass = known.Where(i => Demo.BrandOf(i).Tier == BrandTier.Mass).Average(i => MarginShare(Records.Items[i]));
        var premiumPrice = known.Where(i => Demo.BrandOf(i).Tier == BrandTier.Premium).Average(i => Records.Items[i].Price!.Value / Demo.Tree[Records.Items[i].Category].MaxPrice);
        var massPrice = known.Where(i => Demo.BrandOf(i).Tier == BrandTier.Mass).Average(i => Records.Items[i].Price!.Value / Demo.Tree[Records.Items[i].Category].MaxPrice);

        Assert.True(cases > laptops + 0.3, $"phone cases {cases:0.00}, laptops {laptops:0.00}");
        Assert.True(premium > mass + 0.1, $"premium {premium:0.00}, mass {mass:0.00}");
        Assert.True(premiumPrice > 1.3 * massPrice);
        Assert.All(known, i => Assert.InRange(Records.Items[i].Cost!.Value, 0, Records.Items[i].Price!.Value));
    }

    [Fact]
    public void Users_Consent_SharesNearDocumented()
    {
        double Share(string channel) => Records.Users.Count(u => u.HasConsent(channel)) / (double)Records.Users.Count;

        Assert.InRange(Share(CrmChannels.Email), 0.65, 0.75);
        Assert.InRange(Share(CrmChannels.Push), 0.35, 0.45);
        Assert.InRange(Share(CrmChannels.Sms), 0.11, 0.19);
        Assert.All(Demo.Profiles, p => Assert.InRange(p.Hobbies.Count, 1, 3));
        Assert.All(Demo.Profiles, p => Assert.Equal(1.0, p.Hobbies.Sum(h => h.Weight), 9));
    }

    [Fact]
    public void Crm_Sends_HalfTreatmentAndOnlyWithConsent()
    {
        var users = Records.Users.ToDictionary(u => u.Id, StringComparer.Ordinal);
        var treatment = Records.Sends.Count(s => s.IsTreatment) / (double)Records.Sends.Count;
        var control = Records.Sends.Where(s => !s.IsTreatment).Select(s => s.SendId).ToHashSet(StringComparer.Ordinal);

        Assert.True(Records.Sends.Count > 500);
        Assert.InRange(treatment, 0.45, 0.55);
        Assert.All(Records.Sends, s => Assert.True(users[s.UserId].HasConsent(CrmChannels.Email)));
        Assert.All(Records.Sends, s => Assert.Equal(Records.Campaigns[0].Id, s.CampaignId));
        Assert.DoesNotContain(Records.Outcomes, o => control.Contains(o.SendId) && o.Type is "open" or "click");
        Assert.Contains(Records.Outcomes, o => control.Contains(o.SendId) && o.Type == "order" && o.Value > 0);
    }

    [Fact]
    public void Crm_OrderUplift_LargerInResponsiveSegment()
    {
        var sendDay = new DateTimeOffset(Demo.Campaign.StartedAt.UtcDateTime.Date, TimeSpan.Zero);
        var recentlyActive = Records.Events
            .Where(e => e.Timestamp < sendDay && e.Timestamp >= sendDay.AddDays(-DemoCampaignRule.RecentDays))
            .Select(e => e.UserId).ToHashSet(StringComparer.Ordinal);
        var profiles = Demo.Profiles.ToDictionary(p => p.UserId, StringComparer.Ordinal);
        var ordered = Records.Outcomes.Where(o => o.Type == "order").Select(o => o.SendId).ToHashSet(StringComparer.Ordinal);

        bool Responsive(CrmSend s) => profiles[s.UserId].HasInterestIn("Sports/Winter") && recentlyActive.Contains(s.UserId);
        double Uplift(bool responsive)
        {
            var group = Records.Sends.Where(s => Responsive(s) == responsive).ToList();
            double Rate(bool treated) => group.Where(s => s.IsTreatment == treated).Average(s => ordered.Contains(s.SendId) ? 1.0 : 0.0);
            return Rate(true) - Rate(false);
        }

        var responsiveUplift = Uplift(true);
        var restUplift = Uplift(false);

        Assert.True(responsiveUplift > 0.1, $"responsive uplift {responsiveUplift:0.000}");
        Assert.True(responsiveUplift > restUplift + 0.1, $"responsive {responsiveUplift:0.000}, rest {restUplift:0.000}");
        Assert.Contains(Records.Events, e => e.Surface == "crm" && e.Timestamp >= Demo.Campaign.StartedAt);
    }

    [Fact]
    public void Experiment_Exposures_OnePerUserSplitEvenlyAfterTheStart()
    {
        var experiment = Records.Experiments[0];

        Assert.Equal("home-ranker-v2", experiment.Name);
        Assert.Equal(1.0, experiment.Variants.Sum(v => v.Share), 9);
        Assert.True(Records.Exposures.Count > 300);
        Assert.Equal(Records.Exposures.Count, Records.Exposures.Select(x => x.UserId).Distinct().Count());
        Assert.All(Records.Exposures, x => Assert.True(x.Timestamp >= experiment.CreatedAt && x.Timestamp < Demo.Options.EndDate));
        Assert.InRange(Records.Exposures.Count(x => x.Variant == "v2") / (double)Records.Exposures.Count, 0.44, 0.56);
    }

    [Fact]
    public void Describe_DefaultOptions_CountsWhatReadChunksYields()
    {
        var summary = Demo.Describe();

        Assert.Equal(Records.Events.Count, summary.Events);
        Assert.Equal(Records.Events.Count(e => e.Type == "order"), summary.EventsByType["order"]);
        Assert.Equal(Records.Sends.Count, summary.Sends);
        Assert.Equal(Records.Outcomes.Count, summary.Outcomes);
        Assert.Equal(Records.Exposures.Count, summary.Exposures);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
