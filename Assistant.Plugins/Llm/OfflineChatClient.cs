using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Assistant.Plugins.Llm;

/// <summary>
/// The chat client when no model is configured (<see cref="LlmProvider.Offline"/>): it generates nothing. Text replies
/// are a fixed sentence starting with <see cref="Marker"/>; a JSON response format with a schema gets the smallest
/// document the schema admits, when one can be built cheaply (else the marked sentence). Tools are never called.
/// Every response carries <see cref="LlmResponseProperties.Generated"/> = false.
/// </summary>
/// <remarks>Plugins ask <see cref="IsOffline"/> first and use their own template text instead of a placeholder.</remarks>
public sealed class OfflineChatClient : IChatClient
{
    /// <summary>The start of every text reply, so that placeholder text can never pass for generated text.</summary>
    public const string Marker = "[not generated — offline mode] ";

    /// <summary>The whole text reply.</summary>
    public const string Text = Marker + "No language model is configured (Llm:Provider is Offline), so this reply was not written by one.";

    private static readonly ChatClientMetadata Metadata = new("offline", null, "offline");

    /// <summary>
    /// Whether <paramref name="client"/> is, or wraps (through <see cref="DelegatingChatClient"/>s such as the function
    /// invocation client), an <see cref="OfflineChatClient"/>.
    /// </summary>
    public static bool IsOffline(IChatClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.GetService(typeof(OfflineChatClient)) is not null;
    }

    /// <inheritdoc />
    public Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        cancellationToken.ThrowIfCancellationRequested();
        var message = new ChatMessage(ChatRole.Assistant, Reply(options)) { MessageId = "offline" };
        return Task.FromResult(new ChatResponse(message)
        {
            ResponseId = "offline",
            ModelId = Metadata.DefaultModelId,
            FinishReason = ChatFinishReason.Stop,
            AdditionalProperties = Properties(),
        });
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? Metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    public void Dispose()
    {
    }

    private static string Reply(ChatOptions? options) =>
        options?.ResponseFormat is ChatResponseFormatJson { Schema: { } schema } && SchemaExample.TryBuild(schema) is { } document
            ? document
            : Text;

    private static AdditionalPropertiesDictionary Properties() => new() { [LlmResponseProperties.Generated] = false };
}
