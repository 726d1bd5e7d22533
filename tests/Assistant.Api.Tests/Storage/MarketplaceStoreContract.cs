using Ranking.Data;
using Ranking.Domain;

namespace Assistant.Api.Tests.Storage;

/// <summary>
/// The contract every store keeps. Each backend runs all of it against a real database (SQLite file, PostgreSQL
/// server) through a subclass that provides a fresh, initialised store per test.
/// </summary>
public abstract class MarketplaceStoreContract
{
    protected static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A new, empty, initialised store.</summary>
    protected abstract Task<IMarketplaceStore> CreateStoreAsync();

    protected static Item NewItem(string id, string category = "Sports/Winter/Snowboards", double? price = 100, string? brand = "Northpeak") => new()
    {
        Id = id,
        Title = "Item " + id,
        Description = "A thing, \"quoted\", with commas",
        Category = category,
        Brand = brand,
        Price = price,
        Cost = price is { } p ? p * 0.6 : null,
        InStock = true,
        CreatedAt = T0.AddDays(-30),
        Attributes = new Dictionary<string, string> { ["colour"] = "red", ["size"] = "M" },
    };

    protected static UserEvent NewEvent(string id, string user = "u1", string? item = "i1", string type = "view", int minutes = 0) => new()
    {
        EventId = id,
        UserId = user,
        ItemId = item,
        Type = type,
        Timestamp = T0.AddMinutes(minutes),
    };

    [SkippableFact]
    public async Task Initialize_Twice_IsSafeAndLeavesAnEmptyStore()
    {
        var store = await CreateStoreAsync();

        await store.InitializeAsync();

        Assert.Equal(0, await store.CountItemsAsync());
        Assert.Equal(0, await store.CountUsersAsync());
        Assert.Equal(0, await store.CountEventsAsync());
        Assert.Equal(0, await store.CountSendsAsync());
    }

    [SkippableFact]
    public async Task UpsertItems_ThenGet_RoundTripsEveryField()
    {
        var store = await CreateStoreAsync();
        var item = NewItem("i1");
        var noPrice = NewItem("i2", price: null, brand: null) with { InStock = false, Attributes = new Dictionary<string, string>() };

        var written = await store.UpsertItemsAsync([item, noPrice]);
        var back = await store.GetItemAsync("i1");
        var backNoPrice = await store.GetItemAsync("i2");

        Assert.Equal(2, written);
        Assert.NotNull(back);
        Assert.Equal(item.Title, back.Title);
        Assert.Equal(item.Description, back.Description);
        Assert.Equal(item.Category, back.Category);
        Assert.Equal(item.Brand, back.Brand);
        Assert.Equal(item.Price, back.Price);
        Assert.Equal(item.Cost!.Value, back.Cost!.Value, 9);
        Assert.True(back.InStock);
        Assert.Equal(item.CreatedAt, back.CreatedAt);
        Assert.Equal("red", back.Attributes["colour"]);
        Assert.Equal(40.0, back.Margin!.Value, 9);
        Assert.NotNull(backNoPrice);
        Assert.Null(backNoPrice.Price);
        Assert.Null(backNoPrice.Cost);
        Assert.Null(backNoPrice.Brand);
        Assert.False(backNoPrice.InStock);
        Assert.Null(backNoPrice.Margin);
        Assert.Null(await store.GetItemAsync("missing"));
    }

    [SkippableFact]
    public async Task UpsertItems_ExistingAndRepeatedIds_LastVersionWins()
    {
        var store = await CreateStoreAsync();
        await store.UpsertItemsAsync([NewItem("i1", price: 10)]);

        await store.UpsertItemsAsync([NewItem("i1", price: 20), NewItem("i1", price: 30), NewItem("i2")]);

        Assert.Equal(2, await store.CountItemsAsync());
        Assert.Equal(30, (await store.GetItemAsync("i1"))!.Price);
    }

    [SkippableFact]
    public async Task ListItems_CategoryPrefix_MatchesWholeSegmentsOnly()
    {
        var store = await CreateStoreAsync();
        await store.UpsertItemsAsync([
            NewItem("a", "Sports/Winter/Snowboards"),
            NewItem("b", "Sports/Summer/Surf"),
            NewItem("c", "Sportswear/Jackets"),
            NewItem("d", "Sports"),
            NewItem("e", "Home/Kitchen"),
        ]);

        var sports = await store.ListItemsAsync("Sports", 0, 10);
        var winter = await store.ListItemsAsync("Sports/Winter", 0, 10);
        var page2 = await store.ListItemsAsync(null, 2, 2);

        Assert.Equal(["a", "b", "d"], sports.Select(i => i.Id));
        Assert.Equal(["a"], winter.Select(i => i.Id));
        Assert.Equal(["c", "d"], page2.Select(i => i.Id));
    }

    [SkippableFact]
    public async Task UpsertUsers_ThenGet_RoundTripsConsentAndAttributes()
    {
        var store = await CreateStoreAsync();
        var user = new User
        {
            Id = "u1",
            Attributes = new Dictionary<string, string> { ["region"] = "north" },
            Consent = new Dictionary<string, bool> { ["email"] = true, ["sms"] = false },
        };

        await store.UpsertUsersAsync([user, new User { Id = "u2" }]);
        await store.UpsertUsersAsync([user with { Attributes = new Dictionary<string, string> { ["region"] = "south" } }]);
        var back = await store.GetUserAsync("u1");

        Assert.Equal(2, await store.CountUsersAsync());
        Assert.NotNull(back);
        Assert.Equal("south", back.Attributes["region"]);
        Assert.True(back.HasConsent("email"));
        Assert.False(back.HasConsent("sms"));
        Assert.False(back.HasConsent("push"));
        Assert.Null(await store.GetUserAsync("nobody"));
    }

    [SkippableFact]
    public async Task AppendEvents_SameBatchTwice_StoresOnceAndCountsDuplicates()
    {
        var store = await CreateStoreAsync();
        await store.UpsertItemsAsync([NewItem("i1")]);
        UserEvent[] batch = [NewEvent("e1"), NewEvent("e2", minutes: 1), NewEvent("e3", minutes: 2)];

        var first = await store.AppendEventsAsync(batch);
        var second = await store.AppendEventsAsync(batch);

        Assert.Equal(new IngestResult(3, 3, 0, 0), first);
        Assert.Equal(new IngestResult(3, 0, 3, 0), second);
        Assert.Equal(3, await store.CountEventsAsync());
    }

    [SkippableFact]
    public async Task AppendEvents_RepeatedIdInOneBatch_KeepsTheFirst()
    {
        var store = await CreateStoreAsync();

        var result = await store.AppendEventsAsync([NewEvent("e1", type: "view"), NewEvent("e1", type: "order"), NewEvent("e2")]);
        var events = await ReadAllAsync(store.ReadEventsAsync());

        Assert.Equal(2, result.Stored);
        Assert.Equal(1, result.Duplicates);
        Assert.Equal("view", events.Single(e => e.EventId == "e1").Type);
    }

    [SkippableFact]
    public async Task AppendEvents_ItemNotInCatalog_IsStoredAndCounted()
    {
        var store = await CreateStoreAsync();
        await store.UpsertItemsAsync([NewItem("i1")]);

        var result = await store.AppendEventsAsync([
            NewEvent("e1", item: "i1"),
            NewEvent("e2", item: "ghost"),
            NewEvent("e3", item: "ghost", minutes: 1),
            NewEvent("e4", item: null, type: "search") with { Query = "red snowboard" },
        ]);

        Assert.Equal(4, result.Stored);
        Assert.Equal(2, result.UnknownItems);
        Assert.Equal(4, await store.CountEventsAsync());
    }

    [SkippableFact]
    public async Task AppendEvents_EveryField_RoundTrips()
    {
        var store = await CreateStoreAsync();
        var full = new UserEvent
        {
            EventId = "e1", UserId = "u1", ItemId = "i1", Type = "order", Timestamp = T0.AddMilliseconds(123),
            Surface = "analogs", Query = "boots", ContextItemId = "i0", Price = 12.5, Quantity = 2, SessionId = "s1", Value = 4.5,
        };
        var bare = new UserEvent { EventId = "e2", UserId = "u1", Type = "search", Timestamp = T0.AddMinutes(1), Query = "helmet" };

        await store.AppendEventsAsync([full, bare]);
        var back = await ReadAllAsync(store.ReadEventsAsync());

        Assert.Equal([full, bare], back);
    }

    [SkippableFact]
    public async Task ReadEvents_EqualTimestamps_KeepInsertionOrder()
    {
        var store = await CreateStoreAsync();
        var ids = Enumerable.Range(0, 50).Select(i => $"e{(i * 37) % 50:D2}").ToArray();

        await store.AppendEventsAsync([.. ids.Take(25).Select(id => NewEvent(id))]);
        await store.AppendEventsAsync([.. ids.Skip(25).Select(id => NewEvent(id))]);
        var back = await ReadAllAsync(store.ReadEventsAsync());

        Assert.Equal(ids, back.Select(e => e.EventId));
    }

    [SkippableFact]
    public async Task GetUserEvents_LimitAndUnknownUser_LatestInTimeOrderOrEmpty()
    {
        var store = await CreateStoreAsync();
        await store.AppendEventsAsync([
            NewEvent("late", minutes: 30), NewEvent("early", minutes: 1), NewEvent("mid", minutes: 10),
            NewEvent("other", user: "u2", minutes: 5),
        ]);

        var latest2 = await store.GetUserEventsAsync("u1", 2);
        var none = await store.GetUserEventsAsync("nobody", 10);

        Assert.Equal(["mid", "late"], latest2.Select(e => e.EventId));
        Assert.Empty(none);
    }

    [SkippableFact]
    public async Task AppendEvents_BatchFailsHalfWay_StoresNothingOfIt()
    {
        var store = await CreateStoreAsync();
        await store.AppendEventsAsync([NewEvent("kept")]);
        UserEvent broken = NewEvent("bad") with { UserId = null! };

        await Assert.ThrowsAnyAsync<Exception>(() => store.AppendEventsAsync([NewEvent("n1"), NewEvent("n2"), broken]));

        Assert.Equal(["kept"], (await ReadAllAsync(store.ReadEventsAsync())).Select(e => e.EventId));
    }

    [SkippableFact]
    public async Task Crm_Plans_RoundTripAndAreReplaced()
    {
        var store = await CreateStoreAsync();
        Assert.Null(await store.GetPlanAsync("c1"));

        await store.SavePlanAsync(new CrmPlanDocument { CampaignId = "c1", Json = """{"budget": 10}""", CreatedAt = T0 });
        await store.SavePlanAsync(new CrmPlanDocument { CampaignId = "c1", Json = """{"budget": 20}""", CreatedAt = T0.AddHours(1) });

        var plan = await store.GetPlanAsync("c1");
        Assert.NotNull(plan);
        using var json = System.Text.Json.JsonDocument.Parse(plan.Json);
        Assert.Equal(20, json.RootElement.GetProperty("budget").GetInt32());
        Assert.Equal(T0.AddHours(1), plan.CreatedAt);
    }

    [SkippableFact]
    public async Task Crm_SendsAndOutcomes_AreIdempotentAndReadByCampaign()
    {
        var store = await CreateStoreAsync();
        await store.UpsertCampaignAsync(new CrmCampaign { Id = "c1", Name = "Winter", StartedAt = T0 });
        await store.UpsertCampaignAsync(new CrmCampaign { Id = "c1", Name = "Winter sale", StartedAt = T0 });
        CrmSend[] sends =
        [
            new() { SendId = "s1", CampaignId = "c1", UserId = "u1", SentAt = T0, IsTreatment = true, Variant = "A" },
            new() { SendId = "s2", CampaignId = "c1", UserId = "u2", SentAt = T0, IsTreatment = false },
            new() { SendId = "s3", CampaignId = "c2", UserId = "u3", SentAt = T0, IsTreatment = true },
        ];

        var first = await store.AppendSendsAsync(sends);
        var again = await store.AppendSendsAsync(sends);
        var outcomes = await store.AppendOutcomesAsync([
            new() { SendId = "s1", Type = "open", Timestamp = T0.AddHours(1) },
            new() { SendId = "s1", Type = "open", Timestamp = T0.AddHours(2) },
            new() { SendId = "s1", Type = "order", Timestamp = T0.AddHours(3), Value = 99.5 },
            new() { SendId = "s3", Type = "visit", Timestamp = T0.AddHours(1) },
        ]);
        var c1Sends = await ReadAllAsync(store.ReadSendsAsync("c1"));
        var c1Outcomes = await ReadAllAsync(store.ReadOutcomesAsync("c1"));

        Assert.Equal("Winter sale", (await store.GetCampaignAsync("c1"))!.Name);
        Assert.Null(await store.GetCampaignAsync("none"));
        Assert.Equal(new IngestResult(3, 3, 0), first);
        Assert.Equal(new IngestResult(3, 0, 3), again);
        Assert.Equal(new IngestResult(4, 3, 1), outcomes);
        Assert.Equal(["s1", "s2"], c1Sends.Select(s => s.SendId));
        Assert.True(c1Sends[0].IsTreatment);
        Assert.False(c1Sends[1].IsTreatment);
        Assert.Equal("A", c1Sends[0].Variant);
        Assert.Equal(2, c1Outcomes.Count);
        Assert.Equal(99.5, c1Outcomes.Single(o => o.Type == "order").Value);
        Assert.Equal(T0.AddHours(1), c1Outcomes.Single(o => o.Type == "open").Timestamp);
        Assert.Equal(3, await store.CountSendsAsync());
        Assert.Equal(3, await store.CountOutcomesAsync());
    }

    [SkippableFact]
    public async Task Experiments_UpsertAndExposures_FirstExposureKept()
    {
        var store = await CreateStoreAsync();
        var experiment = new Experiment
        {
            Name = "home-v2", Salt = "s42", Layer = "home", CreatedAt = T0,
            Variants = [new ExperimentVariant("control", 0.5), new ExperimentVariant("treatment", 0.5, new Dictionary<string, string> { ["marginWeight"] = "0.3" })],
            Status = ExperimentStatus.Running, Coverage = 0.4, LayerOffset = 0.25, LayerShare = 0.5, StartedAt = T0.AddDays(1),
            Targeting = [new TargetingRule("region", "in", ["north", "south"])],
        };

        await store.UpsertExperimentAsync(experiment);
        await store.UpsertExperimentAsync(experiment with { Salt = "s43" });
        var result = await store.RecordExposuresAsync([
            new() { Experiment = "home-v2", UserId = "u1", Variant = "control", Timestamp = T0 },
            new() { Experiment = "home-v2", UserId = "u1", Variant = "treatment", Timestamp = T0.AddMinutes(1) },
            new() { Experiment = "home-v2", UserId = "u2", Variant = "treatment", Timestamp = T0 },
        ]);
        var back = await store.GetExperimentAsync("home-v2");
        var exposures = await ReadAllAsync(store.ReadExposuresAsync("home-v2"));

        Assert.NotNull(back);
        Assert.Equal("s43", back.Salt);
        Assert.Equal("home", back.Layer);
        Assert.Equal(["control", "treatment"], back.Variants.Select(v => v.Name));
        Assert.Equal("0.3", back.Variants[1].Parameters!["marginWeight"]);
        Assert.Equal(ExperimentStatus.Running, back.Status);
        Assert.Equal(0.4, back.Coverage);
        Assert.Equal(0.25, back.LayerOffset);
        Assert.Equal(0.5, back.LayerShare);
        Assert.Equal(T0.AddDays(1), back.StartedAt);
        Assert.Null(back.StoppedAt);
        Assert.Equal(["north", "south"], back.Targeting.Single().Values);
        Assert.Single(await store.ListExperimentsAsync());
        Assert.Equal(new IngestResult(3, 2, 1), result);
        Assert.Equal("control", exposures.Single(x => x.UserId == "u1").Variant);
    }

    [SkippableFact]
    public async Task InteractionLog_BuiltFromStore_SortsStablyByUserThenTime()
    {
        var store = await CreateStoreAsync();
        await store.UpsertItemsAsync([NewItem("i1"), NewItem("i2", "Home/Kitchen", price: 20)]);
        await store.AppendEventsAsync([
            NewEvent("a", user: "u2", item: "i2", minutes: 5),
            NewEvent("b", user: "u1", item: "i1", type: "order", minutes: 9),
            NewEvent("c", user: "u1", item: "i2", minutes: 3),
            NewEvent("d", user: "u1", item: "ghost", minutes: 3),
            NewEvent("e", user: "u2", item: null, type: "search", minutes: 1) with { Query = "pan" },
        ]);

        var log = await InteractionLog.BuildAsync(store, store, EventTypeRegistry.Default);

        Assert.Equal(5, log.Count);
        Assert.Equal(2, log.CatalogItemCount);
        Assert.Equal(3, log.ItemCount);
        Assert.True(log.TryGetUserIndex("u1", out var u1));
        Assert.True(log.TryGetItemIndex("i2", out var i2));
        Assert.True(log.TryGetItemIndex("ghost", out var ghost));
        var u1Items = log.ItemsOf(u1).ToArray().Select(i => log.ItemIds[i]);
        Assert.Equal(["i2", "ghost", "i1"], u1Items);
        Assert.Equal(5f, log.Weight[log.UserOffsets[u1 + 1] - 1]);
        Assert.True(log.TryGetUserIndex("u2", out var u2));
        Assert.Equal(-1, log.ItemsOf(u2)[0]);
        Assert.Equal(20f, log.Items.Price[i2]);
        Assert.Equal(-1, log.Items.CategoryIndex[ghost]);
        Assert.Equal("Home", log.Items.Categories[log.Items.TopCategoryIndex[i2]]);
    }

    protected static async Task<List<T>> ReadAllAsync<T>(IAsyncEnumerable<T> rows)
    {
        var list = new List<T>();
        await foreach (var row in rows)
        {
            list.Add(row);
        }

        return list;
    }
}
