using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ranking.Import.Datasets;

namespace Assistant.Api.Tests.Api;

/// <summary>The recommendation surfaces with a real local model (the tiny stories260K GGUF): the LLM's interest profile
/// reaches the ranker, explanations and brand reasons are rewritten within the time budget, and the answer stays
/// grounded and says what the LLM did.</summary>
public sealed class LlmSurfacesTests : IDisposable
{
    private readonly AssistantFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [SkippableFact]
    public async Task Home_and_brands_with_a_local_model_stay_grounded_and_say_what_the_llm_did()
    {
        var client = LocalModelHost();

        var home = await client.GetAsync("/v1/users/user-00008/recommendations?count=5");
        var brands = await client.GetAsync("/v1/users/user-00008/brands?count=3");

        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        var body = await home.Content.ReadFromJsonAsync<JsonElement>();
        var degraded = body.GetProperty("degraded").EnumerateArray().Select(d => d.GetString()!).ToList();
        Assert.Contains(degraded, d => d.StartsWith("llm: ", StringComparison.Ordinal));
        var items = body.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(5, items.Count);
        var generated = items.Where(i => i.GetProperty("explanation").TryGetProperty("generated", out var g) && g.GetBoolean()).ToList();
        Assert.NotEmpty(generated);
        foreach (var item in items)
        {
            // Prices are the catalog's, whatever the model wrote.
            var stored = await client.GetFromJsonAsync<JsonElement>($"/v1/catalog/items/{item.GetProperty("itemId").GetString()}");
            Assert.Equal(stored.GetProperty("price").GetDouble(), item.GetProperty("price").GetDouble(), 2);
            Assert.False(string.IsNullOrWhiteSpace(item.GetProperty("explanation").GetProperty("text").GetString()));
        }

        Assert.Equal(HttpStatusCode.OK, brands.StatusCode);
        var carousel = await brands.Content.ReadFromJsonAsync<JsonElement>();
        Assert.All(carousel.GetProperty("brands").EnumerateArray(), b => Assert.False(string.IsNullOrWhiteSpace(b.GetProperty("reason").GetString())));

        // The chat endpoint end to end with the real model: streamed text, then done, marked generated.
        var chat = await client.PostAsJsonAsync("/v1/chat", new { conversationId = "tiny-1", userId = "user-00008", message = "Find me a snowboard" });
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal("text/event-stream", chat.Content.Headers.ContentType?.MediaType);
        var stream = await chat.Content.ReadAsStringAsync();
        Assert.Contains("event: text", stream, StringComparison.Ordinal);
        Assert.EndsWith("}", stream.TrimEnd(), StringComparison.Ordinal);
        var done = stream.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.StartsWith("event: done", done, StringComparison.Ordinal);
        Assert.Contains("\"generated\":true", done, StringComparison.Ordinal);
    }

    private HttpClient LocalModelHost()
    {
        var root = DatasetLocator.Root;
        if (root is null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")))
        {
            Skip.If(true, $"No shared data folder; set {DatasetLocator.EnvironmentVariable}.");
        }

        var model = Path.Combine(root ?? throw new InvalidOperationException("CI is set but no shared data folder was found."), "stories260K-gguf", "stories260K.gguf");
        _factory.Settings["Demo:SeedOnStart"] = "true";
        _factory.Settings["Demo:Scale"] = "0.1";
        _factory.Settings["Llm:Provider"] = "Local";
        _factory.Settings["Llm:ModelPath"] = model;
        _factory.Settings["Llm:ContextSize"] = "4096";
        _factory.Settings["Llm:MaxOutputTokens"] = "400";
        _factory.Settings["Llm:JsonMaxStringLength"] = "24";
        _factory.Settings["Llm:JsonMaxArrayItems"] = "3";
        _factory.Settings["Llm:TimeBudgetMs"] = "20000";
        return _factory.CreateClient();
    }
}
