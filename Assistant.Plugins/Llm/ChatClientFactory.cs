using System.ClientModel;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI;

namespace Assistant.Plugins.Llm;

/// <summary>The one place where the provider of the <see cref="IChatClient"/> is chosen from <see cref="LlmOptions"/>.</summary>
public static class ChatClientFactory
{
    /// <summary>
    /// The chat client for <see cref="LlmOptions.Provider"/>: <see cref="OfflineChatClient"/>; <see cref="LocalLlamaChatClient"/>
    /// (the model is loaded now); or an OpenAI-compatible client (nothing is contacted until the first request) whose
    /// calls default to the configured temperature, seed and token allowance and throw <see cref="TimeoutException"/>
    /// past <see cref="LlmOptions.TimeBudgetMs"/>. Function invocation is left to the caller's pipeline.
    /// </summary>
    /// <exception cref="InvalidOperationException">The options fail <see cref="LlmOptions.Validate"/>.</exception>
    public static IChatClient Create(LlmOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.EnsureValid();
        return options.Provider switch
        {
            LlmProvider.Local => new LocalLlamaChatClient(options, loggerFactory?.CreateLogger<LocalLlamaChatClient>()),
            LlmProvider.OpenAI => CreateOpenAI(options),
            _ => new OfflineChatClient(),
        };
    }

    private static IChatClient CreateOpenAI(LlmOptions options)
    {
        // Local servers (vLLM, Ollama, llama.cpp) ignore the key, but the client refuses an empty one.
        var credential = new ApiKeyCredential(string.IsNullOrWhiteSpace(options.ApiKey) ? "unused" : options.ApiKey);
        var clientOptions = new OpenAIClientOptions { Endpoint = new Uri(options.Endpoint!) };
        if (options.TimeBudget is { } budget)
        {
            // A little longer than the budget, so that the budget's own TimeoutException is what the caller sees.
            clientOptions.NetworkTimeout = budget + TimeSpan.FromSeconds(1);
        }

        var inner = new OpenAIClient(credential, clientOptions).GetChatClient(options.Model!).AsIChatClient();
        return new ChatClientBuilder(inner)
            .Use(client => new TimeBudgetChatClient(client, options.TimeBudget))
            .ConfigureOptions(o =>
            {
                o.Temperature ??= options.Temperature;
                o.Seed ??= options.Seed;
                o.MaxOutputTokens ??= options.MaxOutputTokens;
            })
            .Build();
    }
}
