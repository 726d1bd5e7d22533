using System.Text.Json;
using Assistant.Plugins.Llm;
using Assistant.Plugins.Tests.Grammar;
using Microsoft.Extensions.AI;

namespace Assistant.Plugins.Tests.Llm;

public sealed class OfflineChatClientTests
{
    [Fact]
    public async Task GetResponseAsync_Text_StartsWithMarkerAndIsNotGenerated()
    {
        using var client = new OfflineChatClient();

        var response = await client.GetResponseAsync("Recommend something.");

        Assert.StartsWith(OfflineChatClient.Marker, response.Text, StringComparison.Ordinal);
        Assert.Equal(false, response.AdditionalProperties?[LlmResponseProperties.Generated]);
    }

    [Fact]
    public async Task GetResponseAsync_SameRequestTwice_SameText()
    {
        using var client = new OfflineChatClient();

        var first = await client.GetResponseAsync("A");
        var second = await client.GetResponseAsync("B");

        Assert.Equal(first.Text, second.Text);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Text_CarriesMarkerAndNotGenerated()
    {
        using var client = new OfflineChatClient();

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync("Hi"))
        {
            updates.Add(update);
        }

        var response = updates.ToChatResponse();
        Assert.StartsWith(OfflineChatClient.Marker, response.Text, StringComparison.Ordinal);
        Assert.Equal(false, response.AdditionalProperties?[LlmResponseProperties.Generated]);
    }

    [Fact]
    public async Task GetResponseAsync_JsonSchema_ReturnsMinimalValidDocument()
    {
        using var client = new OfflineChatClient();
        var schema = JsonDocument.Parse("""
            {
              "type": "object",
              "properties": {
                "title": { "type": "string", "minLength": 2 },
                "score": { "type": "integer", "minimum": 1, "maximum": 5 },
                "kind": { "enum": ["shoe", "sock"] },
                "tags": { "type": "array", "items": { "$ref": "#/$defs/tag" }, "minItems": 1 },
                "note": { "type": ["string", "null"] },
                "optional": { "type": "string" }
              },
              "required": ["title", "score", "kind", "tags", "note"],
              "$defs": { "tag": { "type": "string" } }
            }
            """).RootElement;

        var response = await client.GetResponseAsync("Review", new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema) });

        Assert.Equal("""{"title":"xx","score":1,"kind":"shoe","tags":[""],"note":null}""", response.Text);
        Assert.True(new SchemaValidator(schema).IsValid(response.Text));
        Assert.Equal(false, response.AdditionalProperties?[LlmResponseProperties.Generated]);
    }

    [Fact]
    public async Task GetResponseAsync_SchemaWithPattern_FallsBackToMarkedText()
    {
        using var client = new OfflineChatClient();
        var schema = JsonDocument.Parse("""{ "type": "object", "properties": { "id": { "type": "string", "pattern": "^[A-Z]+$" } }, "required": ["id"] }""").RootElement;

        var response = await client.GetResponseAsync("Id", new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema) });

        Assert.StartsWith(OfflineChatClient.Marker, response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void IsOffline_ThroughFunctionInvocationPipeline_True()
    {
        using var pipeline = new ChatClientBuilder(new OfflineChatClient()).UseFunctionInvocation().Build();

        Assert.True(OfflineChatClient.IsOffline(pipeline));
        Assert.NotNull(pipeline.GetService<ChatClientMetadata>());
    }
}
