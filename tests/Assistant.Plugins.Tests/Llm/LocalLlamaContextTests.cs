using Assistant.Plugins.Llm;
using Microsoft.Extensions.AI;

namespace Assistant.Plugins.Tests.Llm;

/// <summary>Context limits, chat templates and time budgets: each test loads its own client with its own options.</summary>
public sealed class LocalLlamaContextTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "assistant-llm-" + Guid.NewGuid().ToString("N"));

    public LocalLlamaContextTests() => Directory.CreateDirectory(_directory);

    [SkippableFact]
    public async Task GetResponseAsync_HistoryFarLongerThanContext_DropsOldestAndAnswers()
    {
        var options = TinyModel.Options(TinyModel.RequirePath(), contextSize: 256, maxOutputTokens: 32);
        using var client = new LocalLlamaChatClient(options);
        List<ChatMessage> history = [new(ChatRole.System, "You tell short stories.")];
        for (var i = 0; i < 60; i++)
        {
            history.Add(new ChatMessage(ChatRole.User, $"Tell me story number {i} about a little dog who found a red ball in the park."));
            history.Add(new ChatMessage(ChatRole.Assistant, $"Once upon a time there was a dog. The dog played with the ball all day. That was story {i}."));
        }

        history.Add(new ChatMessage(ChatRole.User, "Now a story about a bird."));

        var response = await client.GetResponseAsync(history);
        var prompt = client.RenderPrompt(history);

        Assert.False(string.IsNullOrWhiteSpace(response.Text));
        var dropped = Assert.IsType<int>(response.AdditionalProperties?[LlmResponseProperties.DroppedMessages]);
        Assert.InRange(dropped, 100, history.Count - 2);
        Assert.InRange(response.Usage?.InputTokenCount ?? int.MaxValue, 1, 256 - 32);
        Assert.StartsWith("System: You tell short stories.", prompt, StringComparison.Ordinal);
        Assert.Contains("User: Now a story about a bird.", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("story number 0 ", prompt, StringComparison.Ordinal);
        // The kept part opens on a user's words, not on an answer whose question was dropped.
        Assert.StartsWith("User:", prompt.Split("\n\n", 2)[1], StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task GetResponseAsync_SystemPromptAloneTooLong_ThrowsNamingTheSystemPrompt()
    {
        var options = TinyModel.Options(TinyModel.RequirePath(), contextSize: 128, maxOutputTokens: 32);
        using var client = new LocalLlamaChatClient(options);
        var system = string.Concat(Enumerable.Repeat("The dog runs in the park with the ball. ", 40));

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            client.GetResponseAsync([new ChatMessage(ChatRole.System, system), new ChatMessage(ChatRole.User, "Hi")]));

        Assert.Contains("system prompt alone", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task ChatTemplate_ModelWithChatMlInMetadata_RendersWithTheTemplate()
    {
        var path = TinyModel.WriteCopyWithChatTemplate(TinyModel.RequirePath(), _directory);
        using var client = new LocalLlamaChatClient(TinyModel.Options(path));
        List<ChatMessage> messages = [new(ChatRole.System, "Be brief."), new(ChatRole.User, "Hello")];

        var prompt = client.RenderPrompt(messages);
        var response = await client.GetResponseAsync(messages, new ChatOptions { MaxOutputTokens = 16 });

        Assert.True(client.UsesModelChatTemplate);
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n", prompt);
        Assert.Equal("the model's chat template", response.AdditionalProperties?[LlmResponseProperties.PromptFormat]);
        Assert.InRange(response.Usage?.OutputTokenCount ?? 0, 1, 16);
    }

    [SkippableFact]
    public async Task GetResponseAsync_ModelBusyPastTheBudget_ThrowsTimeout()
    {
        var options = TinyModel.Options(TinyModel.RequirePath());
        options.TimeBudgetMs = 200;
        using var client = new LocalLlamaChatClient(options);
        var unlimited = new ChatOptions { MaxOutputTokens = 64, AdditionalProperties = new() { [LocalLlamaChatClient.TimeBudgetKey] = 0 } };

        // A stream that has started holds the model until it is finished or disposed.
        var busy = client.GetStreamingResponseAsync("Once upon a time", unlimited).GetAsyncEnumerator();
        try
        {
            Assert.True(await busy.MoveNextAsync());

            var error = await Assert.ThrowsAsync<TimeoutException>(() => client.GetResponseAsync("Hello"));

            Assert.Contains("TimeBudgetMs", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await busy.DisposeAsync();
        }

        var after = await client.GetResponseAsync("Hello", unlimited);
        Assert.False(string.IsNullOrWhiteSpace(after.Text));
    }

    [SkippableFact]
    public async Task GetResponseAsync_CallerCancels_ThrowsOperationCanceled()
    {
        using var client = new LocalLlamaChatClient(TinyModel.Options(TinyModel.RequirePath()));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResponseAsync("Hello", cancellationToken: cancelled.Token));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
