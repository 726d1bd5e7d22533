using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Assistant.Api.Endpoints;
using Assistant.Api.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Ranking.Data;
using Ranking.Domain;

namespace Assistant.Api.Tests.Api;

/// <summary>The serving surfaces on the demo marketplace, with the quick models the host trains at start-up.</summary>
public sealed class RecommendationsApiTests : IClassFixture<DemoFactory>
{
    private readonly HttpClient _client;
    private readonly DemoFactory _demo;

    public RecommendationsApiTests(DemoFactory demo)
    {
        _demo = demo;
        _client = demo.Factory.CreateClient();
    }

    private IMarketplaceStore Store => _demo.Factory.Services.GetRequiredService<IMarketplaceStore>();

    private ModelService Models => _demo.Factory.Services.GetRequiredService<ModelService>();

    [Fact]
    public async Task Home_KnownUserWithOrders_DistinctFreshExplainedItemsUnderTheCategoryCap()
    {
        var user = await RichUserAsync();
        var events = await Store.GetUserEventsAsync(user.Id, Models.Options.HistoryEvents);
        var ordered = events.Where(e => e.Type == EventTypeRegistry.Order && e.ItemId is not null).Select(e => e.ItemId!).ToHashSet();

        var home = await HomeAsync(user.Id, "count=10");
        var assignment = await _client.GetFromJsonAsync<JsonElement>($"/v1/experiments/home-ranker-v2/assignment/{user.Id}");

        Assert.Equal("fusion", home.Scorer);
        Assert.False(home.ColdStart);
        Assert.False(string.IsNullOrEmpty(home.ModelVersion));
        Assert.Equal(10, home.Items.Count);
        Assert.Equal(10, home.Items.Select(i => i.ItemId).Distinct().Count());
        using var lease = Models.Host.Acquire();
        var catalog = lease.Bundle.Models.Catalog;
        foreach (var item in home.Items)
        {
            var stored = await Store.GetItemAsync(item.ItemId);
            Assert.NotNull(stored);
            Assert.True(stored.InStock && item.InStock, $"{item.ItemId} is out of stock");
            Assert.True(catalog.TryGetItem(item.ItemId, out var index));
            Assert.False(ordered.Contains(item.ItemId) && !catalog.IsRepeatable(index), $"{item.ItemId} was ordered and is not repeatable");
            Assert.NotEmpty(item.Sources);
            Assert.False(string.IsNullOrWhiteSpace(item.Explanation.Text));
            Assert.False(string.IsNullOrWhiteSpace(item.Explanation.Kind));
            Assert.Equal(stored.Category, item.Category);
        }

        Assert.All(home.Items.GroupBy(i => i.Category), g => Assert.True(g.Count() <= 3, $"{g.Count()} items of {g.Key}"));
        if (assignment.GetProperty("variant").GetString() is { } variant)
        {
            Assert.Contains(new ExperimentArm("home-ranker-v2", variant), home.Experiments);
        }
        else
        {
            Assert.DoesNotContain(home.Experiments, a => a.Experiment == "home-ranker-v2");
        }
    }

    [Fact]
    public async Task Home_NewUser_LogsHerExposureToTheRunningExperiment()
    {
        var user = "newcomer-" + Guid.NewGuid().ToString("N")[..8];
        var before = await ExposedUsersAsync();

        var home = await HomeAsync(user, "count=5");
        var after = await ExposedUsersAsync();

        var arm = Assert.Single(home.Experiments, a => a.Experiment == "home-ranker-v2");
        Assert.Contains(arm.Variant, new[] { "control", "v2" });
        Assert.Equal(before + 1, after);
    }

    [Fact]
    public async Task Home_DiscoveryShare_ReservesEveryFifthSlotForDiscovery()
    {
        var user = await RichUserAsync();

        var withDiscovery = await HomeAsync(user.Id, "count=10&discoveryShare=0.2");
        var without = await HomeAsync(user.Id, "count=10&discoveryShare=0");

        // Two slots of ten, every round(1 / 0.2) = 5th place, go to the best discovery candidates.
        Assert.Contains("discovery", withDiscovery.Sources);
        Assert.Contains("discovery", withDiscovery.Items[4].Sources);
        Assert.Contains("discovery", withDiscovery.Items[9].Sources);
        Assert.Contains(withDiscovery.Items, i => i.Explanation.Kind.StartsWith("discovery", StringComparison.Ordinal));
        Assert.True(
            without.Items.Count(i => i.Sources.Contains("discovery")) <= withDiscovery.Items.Count(i => i.Sources.Contains("discovery")),
            "no share should not bring more discovery items than a fifth of the slots");
        Assert.NotEqual(withDiscovery.Items.Select(i => i.ItemId), without.Items.Select(i => i.ItemId));
    }

    [Fact]
    public async Task Home_MarginWeight_ValueIsPriceAtZeroAndMarginAtOneAndMarginRises()
    {
        var user = await RichUserAsync();

        var gmv = await HomeAsync(user.Id, "count=10&marginWeight=0&discoveryShare=0");
        var margin = await HomeAsync(user.Id, "count=10&marginWeight=1&discoveryShare=0");

        foreach (var item in gmv.Items)
        {
            var stored = await _client.GetFromJsonAsync<ItemRecordView>($"/v1/catalog/items/{item.ItemId}");
            Assert.Equal(stored!.Price!.Value, item.Value, 1);
        }

        foreach (var item in margin.Items)
        {
            var stored = await _client.GetFromJsonAsync<ItemRecordView>($"/v1/catalog/items/{item.ItemId}");
            if (stored!.Cost is { } cost)
            {
                Assert.Equal(Math.Max(0, stored.Price!.Value - cost), item.Value, 1);
            }
        }

        using var lease = Models.Host.Acquire();
        var catalog = lease.Bundle.Models.Catalog;
        double MarginOf(RecommendationsView view) => view.Items.Sum(i => catalog.TryGetItem(i.ItemId, out var x) ? catalog.MarginOf(x) : 0);
        Assert.NotEqual(gmv.Items.Select(i => i.ItemId), margin.Items.Select(i => i.ItemId));
        Assert.True(MarginOf(margin) >= MarginOf(gmv), $"margin {MarginOf(margin):0.00} at w=1 < {MarginOf(gmv):0.00} at w=0");
    }

    [Fact]
    public async Task Home_Exclude_RemovesThoseItems()
    {
        var user = await RichUserAsync();
        var first = await HomeAsync(user.Id, "count=10");
        var excluded = first.Items.Take(3).Select(i => i.ItemId).ToList();

        var second = await HomeAsync(user.Id, $"count=10&exclude={string.Join(',', excluded)},no-such-item");

        Assert.Equal(10, second.Items.Count);
        Assert.DoesNotContain(second.Items, i => excluded.Contains(i.ItemId));
    }

    [Fact]
    public async Task Home_UnknownUser_ColdStartWithPopularItemsOfTheCategory()
    {
        var any = await HomeAsync("stranger-" + Guid.NewGuid().ToString("N")[..8], "count=10");
        var sports = await HomeAsync("stranger-" + Guid.NewGuid().ToString("N")[..8], "count=10&category=Sports");

        Assert.True(any.ColdStart);
        Assert.NotEmpty(any.Items);
        Assert.All(any.Items, i => Assert.Equal("popular", i.Explanation.Kind));
        Assert.True(sports.ColdStart);
        Assert.NotEmpty(sports.Items);
        Assert.DoesNotContain(sports.Degraded, d => d.Contains("category", StringComparison.Ordinal));
        Assert.All(sports.Items, i => Assert.StartsWith("Sports/", i.Category, StringComparison.Ordinal));
        Assert.All(sports.Items, i => Assert.Equal("popular", i.Explanation.Kind));
    }

    [Fact]
    public async Task AnalogsAndComplements_KnownItem_ExcludeTheAnchor()
    {
        var user = await RichUserAsync();
        var anchor = user.OrderedItem;

        var analogs = await GetViewAsync($"/v1/items/{anchor}/analogs?count=10");
        var personal = await GetViewAsync($"/v1/items/{anchor}/analogs?count=10&userId={user.Id}");
        var complements = await GetViewAsync($"/v1/items/{anchor}/complements?count=10");

        var anchorCategory = (await Store.GetItemAsync(anchor))!.Category;
        foreach (var view in new[] { analogs, personal, complements })
        {
            Assert.Equal(anchor, view.AnchorItemId);
            Assert.NotEmpty(view.Items);
            Assert.DoesNotContain(view.Items, i => i.ItemId == anchor);
            Assert.Equal(view.Items.Count, view.Items.Select(i => i.ItemId).Distinct().Count());
            Assert.All(view.Items, i => Assert.True(i.InStock));
        }

        Assert.Equal("analogs", analogs.Surface);
        Assert.Equal("complements", complements.Surface);
        Assert.Equal(user.Id, personal.UserId);
        Assert.Contains(analogs.Items, i => i.Category == anchorCategory);
        Assert.Contains(complements.Items, i => i.Category != anchorCategory);
    }

    [Fact]
    public async Task AnalogsAndComplements_UnknownItem_404ProblemDetails()
    {
        foreach (var surface in new[] { "analogs", "complements" })
        {
            var response = await _client.GetAsync($"/v1/items/no-such-item/{surface}");

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(404, problem.GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task Rerank_QueryOfTheCatalog_MatchingItemsLead()
    {
        var user = await RichUserAsync();

        var anonymous = await PostRerankAsync(new { query = "snowboard", count = 10 });
        var personal = await PostRerankAsync(new { query = "snowboard", count = 10, userId = user.Id });

        foreach (var view in new[] { anonymous, personal })
        {
            Assert.Equal("search", view.Surface);
            Assert.True(view.Items.Count >= 5);
            Assert.All(view.Items.Take(5), i => Assert.True(
                i.Title.Contains("snowboard", StringComparison.OrdinalIgnoreCase) || i.Category!.Contains("snowboard", StringComparison.OrdinalIgnoreCase),
                $"{i.Title} ({i.Category}) does not match the query"));
            Assert.All(view.Items, i => Assert.Equal("search", i.Explanation.Kind));
        }
    }

    [Fact]
    public async Task Rerank_CandidateIds_ReturnsOnlyKnownOnesAndListsTheUnknown()
    {
        var user = await RichUserAsync();
        var home = await HomeAsync(user.Id, "count=4");
        var known = home.Items.Select(i => i.ItemId).ToList();
        string[] ids = [known[0], "ghost-1", known[1], known[2], "ghost-2", known[3]];

        var view = await PostRerankAsync(new { itemIds = ids, userId = user.Id, count = 10 });

        Assert.Equal(["ghost-1", "ghost-2"], view.UnknownItems);
        Assert.Equal(known.Order(StringComparer.Ordinal), view.Items.Select(i => i.ItemId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Rerank_NoQueryNoIdsOrCountZero_400WithTheField()
    {
        var empty = await _client.PostAsJsonAsync("/v1/search/rerank", new { });
        var zero = await _client.PostAsJsonAsync("/v1/search/rerank", new { query = "snowboard", count = 0 });

        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.True((await empty.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("query", out _));
        Assert.Equal(HttpStatusCode.BadRequest, zero.StatusCode);
        Assert.True((await zero.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("count", out _));
    }

    [Fact]
    public async Task Brands_KnownUser_OnlyBrandsNewToHerWithTheirItems()
    {
        var user = await RichUserAsync();
        var events = await Store.GetUserEventsAsync(user.Id, Models.Options.HistoryEvents);
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in events.Where(e => e.ItemId is not null).Select(e => e.ItemId!).Distinct())
        {
            if ((await Store.GetItemAsync(id))?.Brand is { } brand)
            {
                known.Add(brand);
            }
        }

        var view = await _client.GetFromJsonAsync<BrandsView>($"/v1/users/{user.Id}/brands?count=5&items=2");
        var stranger = await _client.GetAsync("/v1/users/stranger-brands/brands");

        Assert.False(view!.ColdStart);
        Assert.NotEmpty(view.Brands);
        Assert.True(view.Brands.Count <= 5);
        Assert.Equal(view.Brands.Count, view.Brands.Select(b => b.Brand).Distinct().Count());
        foreach (var brand in view.Brands)
        {
            Assert.DoesNotContain(brand.Brand, known);
            Assert.False(string.IsNullOrWhiteSpace(brand.Reason));
            Assert.InRange(brand.Items.Count, 1, 2);
            Assert.All(brand.Items, i => Assert.Equal(brand.Brand, i.Brand));
        }

        Assert.Equal(HttpStatusCode.OK, stranger.StatusCode);
        var cold = await stranger.Content.ReadFromJsonAsync<BrandsView>();
        Assert.True(cold!.ColdStart);
        Assert.NotEmpty(cold.Brands);
    }

    [Fact]
    public async Task Interests_UserWithOrders_StrengthsInRangeAndEvidenceFromHerCategories()
    {
        var user = await RichUserAsync();
        var events = await Store.GetUserEventsAsync(user.Id, Models.Options.HistoryEvents);
        var seen = events.Where(e => e.ItemId is not null).Select(e => e.ItemId!).ToHashSet(StringComparer.Ordinal);

        var view = await _client.GetFromJsonAsync<InterestsView>($"/v1/users/{user.Id}/interests");

        Assert.NotEmpty(view!.Interests);
        Assert.Contains(view.Interests, i => i.Orders > 0);
        foreach (var interest in view.Interests)
        {
            Assert.InRange(interest.Strength, 0, 1);
            Assert.True(interest.Since <= interest.LastSeen);
            foreach (var id in interest.EvidenceItemIds)
            {
                var item = await Store.GetItemAsync(id);
                Assert.NotNull(item);
                Assert.Contains(id, seen);
                Assert.True(
                    item.Category == interest.Category || item.Category.StartsWith(interest.Category + "/", StringComparison.Ordinal),
                    $"{id} ({item.Category}) is evidence of {interest.Category}");
            }
        }
    }

    [Theory]
    [InlineData("count=1000", "count")]
    [InlineData("count=0", "count")]
    [InlineData("marginWeight=2", "marginWeight")]
    [InlineData("discoveryShare=0.9", "discoveryShare")]
    public async Task Home_OutOfRangeParameter_400NamesIt(string query, string field)
    {
        var response = await _client.GetAsync($"/v1/users/user-00001/recommendations?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty(field, out _));
    }

    /// <summary>The first demo user (in id order) with a history shorter than the request window, plenty of events and
    /// several orders: deterministic for the seeded demo.</summary>
    private async Task<(string Id, string OrderedItem)> RichUserAsync()
    {
        var limit = Models.Options.HistoryEvents;
        for (var u = 1; u <= 500; u++)
        {
            var id = $"user-{u:D5}";
            var events = await Store.GetUserEventsAsync(id, limit);
            var orders = events.Where(e => e.Type == EventTypeRegistry.Order && e.ItemId is not null).ToList();
            if (events.Count >= 60 && events.Count < limit && orders.Count >= 4)
            {
                return (id, orders[^1].ItemId!);
            }
        }

        throw new InvalidOperationException("The demo has no user with a rich history.");
    }

    private async Task<RecommendationsView> HomeAsync(string user, string query) =>
        await GetViewAsync($"/v1/users/{user}/recommendations?{query}");

    private async Task<RecommendationsView> GetViewAsync(string url)
    {
        var response = await _client.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<RecommendationsView>())!;
    }

    private async Task<RecommendationsView> PostRerankAsync(object body)
    {
        var response = await _client.PostAsJsonAsync("/v1/search/rerank", body);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<RecommendationsView>())!;
    }

    private async Task<long> ExposedUsersAsync() =>
        (await _client.GetFromJsonAsync<JsonElement>("/v1/experiments/home-ranker-v2/report?metrics=orders")).GetProperty("exposedUsers").GetInt64();

    private sealed record ItemRecordView(string Id, double? Price, double? Cost);
}
