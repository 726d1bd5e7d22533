using System.Diagnostics;
using System.Text.Json;
using Assistant.Plugins.Grammar;
using Assistant.Plugins.Llm;
using Assistant.Plugins.Tests.Grammar;
using Microsoft.Extensions.AI;
using Xunit.Abstractions;

namespace Assistant.Plugins.Tests.Llm;

public sealed class LocalLlamaChatClientTests(TinyModelFixture model, ITestOutputHelper output) : IClassFixture<TinyModelFixture>
{
    private const string ReviewSchema = """
        {
          "type": "object",
          "properties": {
            "title": { "type": "string", "maxLength": 40 },
            "score": { "type": "number" },
            "tags": { "type": "array", "items": { "type": "string", "maxLength": 16 }, "maxItems": 3 }
          },
          "required": ["title", "score", "tags"],
          "additionalProperties": false
        }
        """;

    [SkippableFact]
    public async Task GetResponseAsync_PlainPrompt_ReturnsGeneratedText()
    {
        var client = model.Client;
        var clock = Stopwatch.StartNew();

        var response = await client.GetResponseAsync("Tell me a story about a cat.", new ChatOptions { MaxOutputTokens = 48 });

        clock.Stop();
        var tokens = response.Usage?.OutputTokenCount ?? 0;
        output.WriteLine($"load {client.LoadTime.TotalMilliseconds:0} ms; {tokens} tokens in {clock.Elapsed.TotalMilliseconds:0} ms " +
            $"({tokens / clock.Elapsed.TotalSeconds:0} tokens/s, prompt {response.Usage?.InputTokenCount} tokens): {response.Text}");
        Assert.False(string.IsNullOrWhiteSpace(response.Text));
        Assert.InRange(tokens, 1, 48);
        Assert.Equal(true, response.AdditionalProperties?[LlmResponseProperties.Generated]);
        Assert.Equal(0, response.AdditionalProperties?[LlmResponseProperties.DroppedMessages]);
    }

    [SkippableFact]
    public async Task GetStreamingResponseAsync_PlainPrompt_YieldsTextTokenByToken()
    {
        var client = model.Client;
        var updates = new List<ChatResponseUpdate>();

        await foreach (var update in client.GetStreamingResponseAsync("Once upon a time", new ChatOptions { MaxOutputTokens = 32 }))
        {
            updates.Add(update);
        }

        var textUpdates = updates.Where(u => !string.IsNullOrEmpty(u.Text)).ToList();
        Assert.True(textUpdates.Count >= 2, $"only {textUpdates.Count} text updates");
        var usage = updates.SelectMany(u => u.Contents).OfType<UsageContent>().Single();
        Assert.InRange(usage.Details.OutputTokenCount ?? 0, textUpdates.Count, 32);
        Assert.NotNull(updates[^1].FinishReason);
        Assert.False(string.IsNullOrWhiteSpace(updates.ToChatResponse().Text));
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task GetResponseAsync_JsonSchemaFormat_ReturnsDocumentValidForSchema(int seed)
    {
        var client = model.Client;
        var schema = JsonDocument.Parse(ReviewSchema).RootElement;
        var options = new ChatOptions
        {
            ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "review"),
            Seed = seed,
            MaxOutputTokens = 200,
        };

        var clock = Stopwatch.StartNew();
        var response = await client.GetResponseAsync("Review the red running shoes as JSON.", options);

        output.WriteLine($"seed {seed}: {response.Usage?.OutputTokenCount} tokens in {clock.Elapsed.TotalMilliseconds:0} ms: {response.Text}");
        Assert.True(new SchemaValidator(schema).IsValid(response.Text), "the document does not validate against the schema");
        using var document = JsonDocument.Parse(response.Text);
        Assert.Equal(["title", "score", "tags"], document.RootElement.EnumerateObject().Select(p => p.Name));
        var review = JsonSerializer.Deserialize<Review>(response.Text, JsonSchemaGrammar.SerializerOptions);
        Assert.NotNull(review);
        Assert.InRange(review.Title.Length, 0, 40);
        Assert.True(double.IsFinite(review.Score));
        Assert.InRange(review.Tags.Count, 0, 3);
        Assert.All(review.Tags, t => Assert.InRange(t.Length, 0, 16));
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [SkippableFact]
    public async Task GetResponseAsync_JsonFormatWithoutSchema_ReturnsJsonObject()
    {
        var client = model.Client;

        var response = await client.GetResponseAsync("Describe a dog as JSON.", new ChatOptions { ResponseFormat = ChatResponseFormat.Json, MaxOutputTokens = 200 });

        using var document = JsonDocument.Parse(response.Text);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
    }

    [SkippableFact]
    public async Task FunctionInvocation_RequiredTool_InvokesFunctionThenAnswersWithText()
    {
        var queries = new List<string>();
        var search = AIFunctionFactory.Create(
            (string query) =>
            {
                queries.Add(query);
                return "Trail Runner 2 (item 17); Road Racer (item 4)";
            },
            "search_catalog",
            "Searches the product catalog.");
        // Not disposed: the pipeline would dispose the shared client with it.
        var chat = new ChatClientBuilder(model.Client).UseFunctionInvocation().Build();

        var response = await chat.GetResponseAsync(
            "Find running shoes.", new ChatOptions { Tools = [search], ToolMode = ChatToolMode.RequireAny });

        output.WriteLine($"queries: {string.Join(" | ", queries)}; answer: {response.Text}");
        Assert.NotEmpty(queries);
        Assert.Contains(response.Messages, m => m.Contents.OfType<FunctionCallContent>().Any(c => c.Name == "search_catalog"));
        Assert.Contains(response.Messages, m => m.Contents.OfType<FunctionResultContent>().Any());
        var last = response.Messages[^1];
        Assert.Equal(ChatRole.Assistant, last.Role);
        Assert.Empty(last.Contents.OfType<FunctionCallContent>());
        Assert.False(string.IsNullOrWhiteSpace(last.Text));
    }

    [SkippableFact]
    public async Task FunctionInvocation_Streaming_InvokesFunctionThenStreamsAnswer()
    {
        var calls = 0;
        var search = AIFunctionFactory.Create((string query) => Interlocked.Increment(ref calls) > 0 ? "Road Racer (item 4)" : "", "search_catalog");
        var chat = new ChatClientBuilder(model.Client).UseFunctionInvocation().Build();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync("Find shoes.", new ChatOptions { Tools = [search], ToolMode = ChatToolMode.RequireAny }))
        {
            updates.Add(update);
        }

        Assert.True(calls >= 1);
        Assert.Contains(updates, u => u.Contents.OfType<FunctionResultContent>().Any());
        Assert.False(string.IsNullOrWhiteSpace(updates.ToChatResponse().Messages[^1].Text));
    }

    [SkippableFact]
    public async Task GetResponseAsync_RequiredTool_ReturnsCallWithSchemaValidArguments()
    {
        var search = AIFunctionFactory.Create((string query, int limit) => "", "search_catalog");

        var response = await model.Client.GetResponseAsync(
            "Find shoes.", new ChatOptions { Tools = [search], ToolMode = ChatToolMode.RequireAny });

        var call = Assert.IsType<FunctionCallContent>(Assert.Single(response.Messages.Single().Contents));
        Assert.Equal("search_catalog", call.Name);
        Assert.Equal(JsonValueKind.String, Assert.IsType<JsonElement>(call.Arguments!["query"]).ValueKind);
        Assert.Equal(JsonValueKind.Number, Assert.IsType<JsonElement>(call.Arguments!["limit"]).ValueKind);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [SkippableFact]
    public async Task GetResponseAsync_ToolRoundsUsedUp_AnswersWithoutCallingAgain()
    {
        var search = AIFunctionFactory.Create((string query) => "", "search_catalog");
        List<ChatMessage> history = [new(ChatRole.User, "Find shoes.")];
        for (var round = 0; round < new LlmOptions().MaxToolRounds; round++)
        {
            var id = "call-" + round;
            history.Add(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent(id, "search_catalog", new Dictionary<string, object?> { ["query"] = "shoes" })]));
            history.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(id, "Trail Runner 2")]));
        }

        var response = await model.Client.GetResponseAsync(history, new ChatOptions { Tools = [search], MaxOutputTokens = 32 });

        Assert.Empty(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.False(string.IsNullOrWhiteSpace(response.Text));
    }

    [SkippableFact]
    public void RenderPrompt_ToolHistory_WritesCallsAsJsonAndResultsAsUserTurns()
    {
        List<ChatMessage> history =
        [
            new(ChatRole.System, "You recommend products."),
            new(ChatRole.User, "Find shoes."),
            new(ChatRole.Assistant, [new FunctionCallContent("c1", "search_catalog", new Dictionary<string, object?> { ["query"] = "shoes" })]),
            new(ChatRole.Tool, [new FunctionResultContent("c1", "Trail Runner 2")]),
        ];

        var prompt = model.Client.RenderPrompt(history);

        Assert.False(model.Client.UsesModelChatTemplate);
        Assert.StartsWith("System: You recommend products.", prompt, StringComparison.Ordinal);
        Assert.Contains("Assistant: {\"tool\": \"search_catalog\", \"arguments\": {\"query\":\"shoes\"}}\n", prompt, StringComparison.Ordinal);
        Assert.Contains("User: Result of search_catalog: Trail Runner 2", prompt, StringComparison.Ordinal);
        Assert.EndsWith("Assistant:", prompt, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task GetResponseAsync_ConcurrentRequests_AllAnswer()
    {
        var client = model.Client;

        var responses = await Task.WhenAll(Enumerable.Range(0, 4).Select(i =>
            client.GetResponseAsync($"Story number {i}.", new ChatOptions { MaxOutputTokens = 16, Seed = i })));

        Assert.All(responses, r => Assert.False(string.IsNullOrWhiteSpace(r.Text)));
    }

    [SkippableFact]
    public void GetService_ChatClientMetadata_NamesProviderAndModel()
    {
        var metadata = model.Client.GetService<ChatClientMetadata>();

        Assert.NotNull(metadata);
        Assert.Equal("llama.cpp", metadata.ProviderName);
        Assert.Equal("stories260K", metadata.DefaultModelId);
        Assert.Same(model.Client, model.Client.GetService<LocalLlamaChatClient>());
        Assert.False(OfflineChatClient.IsOffline(model.Client));
    }

    private sealed record Review(string Title, double Score, IReadOnlyList<string> Tags);
}
