using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Assistant.Api.Endpoints;
using Ranking.Data;
using Ranking.Import;
using Microsoft.Extensions.DependencyInjection;

namespace Assistant.Api.Tests.Api;

public sealed class ApiTests : IClassFixture<AssistantFactory>
{
    private readonly AssistantFactory _factory;
    private readonly HttpClient _client;

    public ApiTests(AssistantFactory factory)
    {
        _factory = factory;
        _client = factory.CreateClient();
    }

    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow.AddMinutes(-5);

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..10];

    private static EventRecord Event(string user, string? item = "item-1", string type = "view", string? id = null) => new()
    {
        EventId = id ?? Unique("ev"), UserId = user, ItemId = item, Type = type, Timestamp = Now,
    };

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Health_StoreReachable_ReturnsHealthy()
    {
        var response = await _client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApi_Document_ListsTheFoundationEndpoints()
    {
        var doc = await _client.GetStringAsync("/openapi/v1.json");

        Assert.Contains("\"/v1/events\"", doc, StringComparison.Ordinal);
        Assert.Contains("\"/v1/catalog/items\"", doc, StringComparison.Ordinal);
        Assert.Contains("\"/v1/users\"", doc, StringComparison.Ordinal);
        Assert.Contains("Idempotency key", doc, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Items_PostThenGet_RoundTrips()
    {
        var id = Unique("item");
        var item = new ItemRecord { Id = id, Title = "Carbon snowboard", Category = " Sports / Winter /Snowboards", Brand = "Northpeak", Price = 499, Cost = 300 };

        var post = await _client.PostAsJsonAsync("/v1/catalog/items", new ItemBatchRequest([item]));
        var back = await _client.GetFromJsonAsync<ItemRecord>($"/v1/catalog/items/{id}");
        var page = await _client.GetFromJsonAsync<ItemPage>("/v1/catalog/items?category=Sports/Winter&limit=1000");

        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(new UpsertResponse(1, 1), await post.Content.ReadFromJsonAsync<UpsertResponse>());
        Assert.NotNull(back);
        Assert.Equal("Sports/Winter/Snowboards", back.Category);
        Assert.Equal(499, back.Price);
        Assert.Contains(page!.Items, i => i.Id == id);
    }

    [Fact]
    public async Task Items_UnknownId_Returns404Problem()
    {
        var response = await _client.GetAsync("/v1/catalog/items/does-not-exist");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Contains("does-not-exist", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Items_NegativePriceAndMissingTitle_400NamesFieldsAndStoresNothing()
    {
        var good = Unique("item");
        var request = new ItemBatchRequest([
            new ItemRecord { Id = good, Title = "Fine", Category = "Home/Kitchen", Price = 10 },
            new ItemRecord { Id = Unique("item"), Category = "Home/Kitchen", Price = -5 },
        ]);

        var response = await _client.PostAsJsonAsync("/v1/catalog/items", request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await ProblemAsync(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("items[1].price", out _));
        Assert.True(errors.TryGetProperty("items[1].title", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/v1/catalog/items/{good}")).StatusCode);
    }

    [Fact]
    public async Task Events_SameBatchTwice_SecondTimeAllDuplicates()
    {
        var user = Unique("user");
        var batch = new EventBatchRequest([Event(user), Event(user, type: "cart"), Event(user, type: "order")]);

        var first = await (await _client.PostAsJsonAsync("/v1/events", batch)).Content.ReadFromJsonAsync<EventIngestResponse>();
        var second = await (await _client.PostAsJsonAsync("/v1/events", batch)).Content.ReadFromJsonAsync<EventIngestResponse>();
        var history = await _client.GetFromJsonAsync<UserEventsResponse>($"/v1/users/{user}/events");

        Assert.Equal(3, first!.Stored);
        Assert.Equal(0, first.Duplicates);
        Assert.Equal(0, second!.Stored);
        Assert.Equal(3, second.Duplicates);
        Assert.Equal(3, history!.Events.Count);
    }

    [Fact]
    public async Task Events_ItemNotInCatalog_StoredAndCounted()
    {
        var user = Unique("user");

        var response = await _client.PostAsJsonAsync("/v1/events", new EventBatchRequest([Event(user, item: Unique("ghost"))]));
        var body = await response.Content.ReadFromJsonAsync<EventIngestResponse>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, body!.Stored);
        Assert.Equal(1, body.UnknownItems);
    }

    [Theory]
    [InlineData("type", "teleport")]
    [InlineData("price", "-1")]
    [InlineData("userId", "")]
    [InlineData("timestamp", "future")]
    [InlineData("itemId", "")]
    [InlineData("quantity", "0")]
    public async Task Events_BadField_400NamesTheFieldAndStoresNothing(string field, string value)
    {
        var user = Unique("user");
        var bad = Event(user);
        bad = field switch
        {
            "type" => bad with { Type = value },
            "price" => bad with { Price = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture) },
            "userId" => bad with { UserId = value },
            "timestamp" => bad with { Timestamp = DateTimeOffset.UtcNow.AddDays(3) },
            "itemId" => bad with { ItemId = null },
            _ => bad with { Quantity = 0 },
        };
        var okUser = field == "userId" ? Unique("user") : user;

        var response = await _client.PostAsJsonAsync("/v1/events", new EventBatchRequest([Event(okUser), bad]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await ProblemAsync(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty($"events[1].{field}", out _), errors.ToString());
        var history = await _client.GetFromJsonAsync<UserEventsResponse>($"/v1/users/{okUser}/events");
        Assert.Empty(history!.Events);
    }

    [Fact]
    public async Task Events_MalformedJson_400Problem()
    {
        using var content = new StringContent("{\"events\": [ {\"eventId\": \"x\", ", Encoding.UTF8, "application/json");

        var response = await _client.PostAsync("/v1/events", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal("Malformed JSON", problem.GetProperty("title").GetString());
        Assert.False(problem.TryGetProperty("exception", out _));
    }

    [Fact]
    public async Task Events_StringWherePriceBelongs_400NamesThePath()
    {
        using var content = new StringContent("{\"events\": [{\"eventId\": \"x\", \"price\": \"cheap\"}]}", Encoding.UTF8, "application/json");

        var response = await _client.PostAsync("/v1/events", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await ProblemAsync(response)).GetProperty("detail").GetString();
        Assert.Contains("price", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_EmptyOrOversizedBatch_400()
    {
        var empty = await _client.PostAsJsonAsync("/v1/events", new EventBatchRequest([]));
        var user = Unique("user");
        var tooMany = await _client.PostAsJsonAsync("/v1/events", new EventBatchRequest([.. Enumerable.Range(0, 101).Select(_ => Event(user))]));

        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.True((await ProblemAsync(tooMany)).GetProperty("errors").TryGetProperty("events", out _));
    }

    [Fact]
    public async Task Events_BodyOverLimit_413Problem()
    {
        var big = new string('x', 70_000);
        using var content = new StringContent($"{{\"events\": [{{\"eventId\": \"{big}\"}}]}}", Encoding.UTF8, "application/json");

        var response = await _client.PostAsync("/v1/events", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(413, (await ProblemAsync(response)).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Users_PostGetAndUnknownUserEvents()
    {
        var id = Unique("user");
        var user = new UserRecord { Id = id, Consent = new() { ["email"] = true }, Attributes = new() { ["region"] = "north" } };

        var post = await _client.PostAsJsonAsync("/v1/users", new UserBatchRequest([user]));
        var back = await _client.GetFromJsonAsync<UserRecord>($"/v1/users/{id}");
        var missing = await _client.GetAsync($"/v1/users/{Unique("nobody")}");
        var unknownEvents = await _client.GetFromJsonAsync<UserEventsResponse>($"/v1/users/{Unique("nobody")}/events");

        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.True(back!.Consent!["email"]);
        Assert.Equal("north", back.Attributes!["region"]);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.False(unknownEvents!.Known);
        Assert.Empty(unknownEvents.Events);
    }

    [Fact]
    public async Task Import_CsvBody_AllOrNothingThenSkipBad()
    {
        var user = Unique("user");
        var ts = Now.ToUnixTimeSeconds();
        var csv = $"event_id,user_id,item_id,type,timestamp,price\n{user}-1,{user},i1,view,{ts},\n{user}-2,{user},i1,order,{ts},-4\n{user}-3,{user},i2,cart,{ts},5\n";

        using var strict = new StringContent(csv, Encoding.UTF8, "text/csv");
        var rejected = await _client.PostAsync("/v1/import/events", strict);
        var afterRejected = await _client.GetFromJsonAsync<UserEventsResponse>($"/v1/users/{user}/events");
        using var lenient = new StringContent(csv, Encoding.UTF8, "text/csv");
        var accepted = await _client.PostAsync("/v1/import/events?skipBad=true", lenient);
        var body = await accepted.Content.ReadFromJsonAsync<ImportResponse>();

        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        var problem = await ProblemAsync(rejected);
        Assert.Contains("line 3: price", problem.GetProperty("rowErrors")[0].GetString(), StringComparison.Ordinal);
        Assert.Empty(afterRejected!.Events);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(2, body!.Stored);
        Assert.Equal(1, body.BadRows);
    }

    [Fact]
    public async Task Import_JsonLinesItemsAndWrongMediaType()
    {
        var id = Unique("item");
        using var jsonl = new StringContent($"{{\"id\": \"{id}\", \"title\": \"Kettle\", \"category\": \"Home/Kitchen\", \"price\": 30}}\n", Encoding.UTF8, "application/x-ndjson");
        using var xml = new StringContent("<items/>", Encoding.UTF8, "application/xml");

        var ok = await _client.PostAsync("/v1/import/items", jsonl);
        var unsupported = await _client.PostAsync("/v1/import/items", xml);
        using var again = new StringContent("x", Encoding.UTF8, "text/csv");
        var unknownKind = await _client.PostAsync("/v1/import/planets", again);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/v1/catalog/items/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, unsupported.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknownKind.StatusCode);
        await ProblemAsync(unsupported);
    }

    [Fact]
    public async Task Store_IsTheSqliteFileUnderTheDataDirectory()
    {
        await _client.GetAsync("/health");

        var store = _factory.Services.GetRequiredService<IMarketplaceStore>();

        Assert.Equal("sqlite", store.Kind);
        Assert.True(File.Exists(Path.Combine(_factory.DataDirectory, "assistant.db")));
    }
}
