using Assistant.Plugins.Llm;
using Microsoft.Extensions.AI;

namespace Assistant.Plugins.Tests.Llm;

public sealed class LlmOptionsTests
{
    [Fact]
    public void Validate_Defaults_OfflineAndValid()
    {
        var options = new LlmOptions();

        Assert.Equal(LlmProvider.Offline, options.Provider);
        Assert.Empty(options.Validate());
        Assert.Equal((2048, 256, 4000), (options.ContextSize, options.MaxOutputTokens, options.TimeBudgetMs));
    }

    [Fact]
    public void Validate_LocalWithMissingModel_NamesThePath()
    {
        var options = new LlmOptions { Provider = LlmProvider.Local, ModelPath = "/nowhere/model.gguf" };

        var errors = options.Validate();

        Assert.Contains("Llm:ModelPath '/nowhere/model.gguf' does not exist.", errors);
        Assert.Throws<InvalidOperationException>(options.EnsureValid);
    }

    [Fact]
    public void Validate_LocalWithoutModelPath_AsksForIt()
    {
        var errors = new LlmOptions { Provider = LlmProvider.Local }.Validate();

        Assert.Contains(errors, e => e.Contains("Llm:ModelPath is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_OpenAIWithoutEndpointOrModel_ReportsBoth()
    {
        var errors = new LlmOptions { Provider = LlmProvider.OpenAI }.Validate();

        Assert.Contains(errors, e => e.Contains("Llm:Endpoint is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Llm:Model is required", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_OpenAIWithRelativeEndpoint_Rejected()
    {
        var errors = new LlmOptions { Provider = LlmProvider.OpenAI, Endpoint = "localhost:8000", Model = "m" }.Validate();

        Assert.Contains(errors, e => e.Contains("not an absolute http(s) URL", StringComparison.Ordinal));
    }

    [Fact]
    public void Create_Offline_ReturnsOfflineClient()
    {
        using var client = ChatClientFactory.Create(new LlmOptions());

        Assert.True(OfflineChatClient.IsOffline(client));
    }

    [Fact]
    public void Create_OpenAIEndpoint_BuildsClientWithoutContactingIt()
    {
        // Port 9 (discard) on loopback: nothing listens, and nothing is sent until a request is made.
        var options = new LlmOptions { Provider = LlmProvider.OpenAI, Endpoint = "http://127.0.0.1:9/v1", Model = "qwen2.5-1.5b-instruct" };

        using var client = ChatClientFactory.Create(options);

        var metadata = client.GetService<ChatClientMetadata>();
        Assert.NotNull(metadata);
        Assert.Equal("qwen2.5-1.5b-instruct", metadata.DefaultModelId);
        Assert.Equal(new Uri("http://127.0.0.1:9/v1"), metadata.ProviderUri);
        Assert.False(OfflineChatClient.IsOffline(client));
    }

    [Fact]
    public void Create_LocalWithMissingModel_FailsWithTheValidationMessage()
    {
        var options = new LlmOptions { Provider = LlmProvider.Local, ModelPath = "/nowhere/model.gguf" };

        var error = Assert.Throws<InvalidOperationException>(() => ChatClientFactory.Create(options));

        Assert.Contains("Llm:ModelPath '/nowhere/model.gguf' does not exist", error.Message, StringComparison.Ordinal);
    }
}
