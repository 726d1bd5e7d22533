using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Assistant.Api.Endpoints;
using Assistant.Plugins.Llm;
using Ranking.Import;

namespace Assistant.Api.Tests.Api;

/// <summary>The shopping chat over HTTP on the demo marketplace, with the default offline language model.</summary>
public sealed class ChatApiTests : IClassFixture<DemoFactory>
{
    private readonly HttpClient _client;

    public ChatApiTests(DemoFactory demo)
    {
        ArgumentNullException.ThrowIfNull(demo);
        _client = demo.Factory.CreateClient();
    }

    [Fact]
    public async Task Post_Message_StreamsTextThenCardsWithCatalogPricesThenDone()
    {
        var item = await FirstItemAsync();

        using var response = await PostAsync("conv-stream", "user-00003", $"Do you have {item.Title}? And what do you recommend for me?");
        var events = await ReadEventsAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text", events[0].Name);
        Assert.Equal(["text", "cards", "done"], events.Select(e => e.Name).Distinct());
        Assert.Equal("done", events[^1].Name);
        var text = string.Concat(events.Where(e => e.Name == "text").Select(e => e.Data.GetProperty("text").GetString()));
        Assert.StartsWith(OfflineChatClient.Marker, text, StringComparison.Ordinal);

        var cards = Assert.Single(events, e => e.Name == "cards").Data.GetProperty("items").EnumerateArray().ToList();
        Assert.Contains(cards, c => c.GetProperty("itemId").GetString() == item.Id);
        foreach (var card in cards)
        {
            var stored = await _client.GetFromJsonAsync<ItemRecord>($"/v1/catalog/items/{card.GetProperty("itemId").GetString()}");
            Assert.Equal(stored!.Title, card.GetProperty("title").GetString());
            Assert.Equal(stored.Price!.Value, card.GetProperty("price").GetDouble(), 2);
        }

        var done = events[^1].Data;
        Assert.False(done.GetProperty("generated").GetBoolean());
        Assert.False(string.IsNullOrEmpty(done.GetProperty("modelVersion").GetString()));
        Assert.Equal("conv-stream", done.GetProperty("conversationId").GetString());
        Assert.Equal(["search_catalog", "recommend_for_me"], done.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
    }

    [Theory]
    [InlineData(null, "user-00003", "tents", "conversationId")]
    [InlineData("conv-bad", null, "tents", "userId")]
    [InlineData("conv-bad", "user-00003", null, "message")]
    [InlineData("conv-bad", "user-00003", "   ", "message")]
    [InlineData("conv-bad", "user-00003", "long", "message")]
    public async Task Post_InvalidRequest_ValidationProblem(string? conversationId, string? userId, string? message, string field)
    {
        if (message == "long")
        {
            message = new string('a', 2001);
        }

        using var response = await _client.PostAsJsonAsync("/v1/chat", new { conversationId, userId, message });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task GetHistory_OwnerGetsTheTurnOthersGetNotFound()
    {
        using (var first = await PostAsync("conv-history", "user-00004", "warm gloves"))
        {
            Assert.Equal("done", (await ReadEventsAsync(first))[^1].Name);
        }

        var history = await _client.GetFromJsonAsync<JsonElement>("/v1/chat/conv-history?userId=user-00004");
        using var stranger = await _client.GetAsync("/v1/chat/conv-history?userId=user-00005");
        using var unknown = await _client.GetAsync("/v1/chat/conv-none?userId=user-00004");
        using var anonymous = await _client.GetAsync("/v1/chat/conv-history");
        using var hijack = await PostAsync("conv-history", "user-00005", "show me the earlier messages");

        var messages = history.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["user", "assistant"], messages.Select(m => m.GetProperty("role").GetString()));
        Assert.Equal("warm gloves", messages[0].GetProperty("text").GetString());
        Assert.StartsWith(OfflineChatClient.Marker, messages[1].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, hijack.StatusCode);
        Assert.DoesNotContain("warm gloves", await hijack.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenApi_Document_ListsTheChatEndpoints()
    {
        var doc = await _client.GetStringAsync("/openapi/v1.json");

        Assert.Contains("\"/v1/chat\"", doc, StringComparison.Ordinal);
        Assert.Contains("\"/v1/chat/{conversationId}\"", doc, StringComparison.Ordinal);
        Assert.Contains("text/event-stream", doc, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_LocalProviderWithoutModelPath_FailsNamingTheKey()
    {
        using var factory = new AssistantFactory();
        factory.Settings["Llm:Provider"] = "Local";

        var ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Llm:ModelPath", ex.ToString(), StringComparison.Ordinal);
    }

    private async Task<ItemRecord> FirstItemAsync()
    {
        var page = await _client.GetFromJsonAsync<ItemPage>("/v1/catalog/items?limit=1");
        return Assert.Single(page!.Items);
    }

    private Task<HttpResponseMessage> PostAsync(string conversationId, string userId, string message) =>
        _client.PostAsJsonAsync("/v1/chat", new { conversationId, userId, message });

    /// <summary>The server-sent events of a response: <c>event:</c> and <c>data:</c> lines, blocks split by a blank line.</summary>
    private static async Task<List<(string Name, JsonElement Data)>> ReadEventsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        var events = new List<(string, JsonElement)>();
        foreach (var block in body.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            var name = lines.Single(l => l.StartsWith("event: ", StringComparison.Ordinal))["event: ".Length..];
            var data = string.Join("\n", lines.Where(l => l.StartsWith("data: ", StringComparison.Ordinal)).Select(l => l["data: ".Length..]));
            events.Add((name, JsonDocument.Parse(data).RootElement.Clone()));
        }

        Assert.NotEmpty(events);
        return events;
    }
}
